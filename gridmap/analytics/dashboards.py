"""The dashboard of an area (district, street, community or grid) for a period: every figure
and table a leader reads, each table a tables.Table so it exports as shown.

Definitions (said on the page too: definitions()):
- accepted on time: the event's accept or reject decision (受理/不予受理, one per event: the
  workflow takes it only from "reported"; Event.decided_at) is made within ACCEPT_HOURS of the report; an
  event still undecided counts as late once that time has passed and is not counted before.
  A report inside a grid is accepted at once by the system.
- closed on time: closed (结案/归档) by its due time and never overdue (an escalation by the
  deadline job marks it, and gives the upper level a new due time, so the due time alone would
  forgive it). Counted over the events closed, or still open but already late (past due now,
  or overdue before).
- handling time: report → close (closed_at - reported_at), in hours; its mean and 90th percentile.
- overdue now: open (not rejected, closed or archived) and past its due time.
- settled at: the handling level of closed disputes (矛盾纠纷, category 01 and below).
Every aggregate is one set-based statement over the events of the selection (selection.events)."""
import datetime as dt
import math

from django.core.cache import cache as django_cache
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gridmap.core import clock
from gridmap.events.filters import category_and_descendants
from gridmap.events.models import Category, Channel, HandlingLevel, Satisfaction
from gridmap.events.workflow import FINAL_STATES, State
from gridmap.grids.models import Area, Level
from gridmap.people.models import (
    Person,
    ResidenceType,
    SpecialGroup,
    SpecialGroupRecord,
    Visit,
    WelfareKind,
    WelfareRecord,
)

from . import periods
from .periods import Period
from .selection import CLOSED_STATES, OPEN, STATUS_WORDS, Selection, boundaries, events
from .tables import Table

ACCEPT_HOURS = 24  # local practice: a report is taken in (受理) within one day
DISPUTES = "01"
SATISFIED = (Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED)
# PRODUCT.md: about 75% of disputes settle in the village/community (grid included), 12% in the
# town/street, 8% at county level and above.
SETTLEMENT_PATTERN = {"low": 75, HandlingLevel.STREET: 12, "above": 8}
ABOVE = (HandlingLevel.DISTRICT, HandlingLevel.DEPARTMENT)
OVERDUE_LISTED = 100
WORST_LISTED = 10
TREND_MONTHS = 12


def definitions() -> list[str]:
    return [
        _("Accepted on time: accepted or rejected within %(hours)s hours of the report (a report inside a grid "
          "is accepted at once); an event still waiting counts as late once that time has passed.") % {"hours": ACCEPT_HOURS},
        _("Closed on time: closed by its due time and never overdue; counted over the events closed or already "
          "late (open past due, or overdue before)."),
        _("Handling time: from report to close, in hours (mean and 90th percentile of the closed events)."),
        _("Overdue now: open and past its due time."),
        _("Settled at: the handling level at which closed disputes (矛盾纠纷) were closed."),
    ]


# --- the statements ---------------------------------------------------------------------------

COLUMNS = ("grid_id", "category_id", "status", "channel", "satisfaction", "level", "reported_at", "closed_at",
           "due_at", "ever_overdue", "decided_at", "returns", "reopenings")


def _events_sql(selection: Selection, period: Period | None = None) -> tuple[str, list]:
    """The selection's events as SQL with the columns the statements read (the one definition
    of what is counted, selection.events); PostgreSQL inlines it as a subquery."""
    return events(selection, period).order_by().values(*COLUMNS).query.sql_with_params()


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


# MAIN: per grid and status, one scan that gives every figure adding up over grids. The log's
# figures are read off the event (decided_at, returns, reopenings: kept by the workflow), so no
# join of a log three times the events' size.
MAIN = """
SELECT e.grid_id, e.status, count(*) AS events,
       count(*) FILTER (WHERE e.ever_overdue OR e.closed_at > e.due_at
                              OR (e.closed_at IS NULL AND e.due_at < %(now)s::timestamptz)) AS late,
       count(*) FILTER (WHERE e.due_at < %(now)s::timestamptz) AS past_due,
       count(*) FILTER (WHERE e.reported_at <= %(accept_by)s::timestamptz) AS accept_due,
       count(e.decided_at) AS decided,
       count(*) FILTER (WHERE e.decided_at <= e.reported_at + make_interval(hours => %(hours)s::int)) AS accepted_on_time,
       sum(e.returns) AS returns, sum(e.reopenings) AS reopenings,
       coalesce(sum(date_part('epoch', e.closed_at - e.reported_at)), 0) AS seconds,
       count(*) FILTER (WHERE e.satisfaction <> '') AS rated,
       count(*) FILTER (WHERE e.satisfaction = ANY(%(satisfied)s::text[])) AS satisfied
FROM ({events}) e
GROUP BY 1, 2"""
# BREAKDOWNS: the low-cardinality columns (category, channel, satisfaction, level, status) and the
# month, in one scan of the trend's months (which hold the period): one GROUP BY of the events
# gives some tens of thousands of rows, rolled up two ways by grouping sets over those (grouping
# sets over the events themselves are planned as a sort of them all: 5× slower). The month is the
# event's bucket among the months' starts and the period's own (so a bucket is in the period or
# before it): a binary search per event, a third of the cost of a time-zone conversion.
BREAKDOWNS = """
SELECT GROUPING(e.category_id) = 0 AS combo, e.category_id, e.channel, e.satisfaction, e.level, e.status,
       (e.bucket >= %(first)s) AS in_period, e.bucket, e.past_due, sum(e.n)::int AS n
FROM (SELECT e.category_id, e.channel, e.satisfaction, e.level, e.status,
             width_bucket(e.reported_at, %(starts)s::timestamptz[]) AS bucket,
             e.due_at < %(now)s::timestamptz AS past_due, count(*) AS n
      FROM ({events}) e GROUP BY 1, 2, 3, 4, 5, 6, 7) e
GROUP BY GROUPING SETS ((e.category_id, e.channel, e.satisfaction, e.level, e.status, (e.bucket >= %(first)s)),
                        (e.status, e.bucket, e.past_due))"""
# TENTHS: the closed events' handling time in tenths of an hour (the percentile is read off that
# histogram: exact to 0.05 h, with no sort of every event); in floating point (numeric, which
# extract() gives, is twice as slow), rounded half up as numeric's round() does.
TENTHS = """
SELECT floor(date_part('epoch', e.closed_at - e.reported_at) / 360 + 0.5)::int AS tenths, count(*) AS n
FROM ({events}) e WHERE e.status = ANY(%(closed)s::text[]) GROUP BY 1"""


def _params(**extra) -> dict:
    now = clock.now()
    return {"closed": list(CLOSED_STATES), "now": now, "accept_by": now - dt.timedelta(hours=ACCEPT_HOURS),
            "hours": ACCEPT_HOURS, "satisfied": list(SATISFIED), **extra}


def _run(template: str, selection: Selection, period: Period | None = None, **extra) -> list[dict]:
    """`template` over the selection's events: their SQL goes in as a subquery (named params
    around it, its own positional ones turned into named ones)."""
    sql, params = _events_sql(selection, period)
    named = {f"ev{i}": p for i, p in enumerate(params)}
    sub = sql % tuple(f"%({k})s" for k in named)
    return _rows(template.replace("{events}", sub), {**_params(**extra), **named})


# --- the dashboard ----------------------------------------------------------------------------

def dashboard(selection: Selection) -> dict:
    """Every figure and table of the selection's dashboard (JSON-ready)."""
    grids, by_status = _per_grid(selection)
    totals = _sum(grids.values())
    breakdown, months = _breakdowns(selection)
    children = _children(selection, grids)
    bounds = boundaries(selection)
    note = boundary_note(bounds)
    kpis = _kpis(totals, {r["tenths"]: r["n"] for r in _run(TENTHS, selection)})
    tables = [
        _category_table(breakdown["category_id"], note),
        _choice_table("by_status", _("Events by status"), State.choices, by_status, note),
        _choice_table("by_channel", _("Events by source channel"), Channel.choices, breakdown["channel"], note),
        _satisfaction_table(breakdown["satisfaction"], note),
        _settlement_table(breakdown["settled"], note),
        _trend_table(selection, months, note),
        _children_table(children, note),
        _worst_table(selection, grids, note),
        _overdue_table(selection, note),
        _kpi_table(kpis, note),
        *_population_tables(selection),
    ]
    return {
        "selection": selection.as_dict(),
        "area": _area_ref(selection.area),
        "breadcrumbs": breadcrumbs(selection.area),
        "boundaries": bounds,
        "generated": timezone.localtime(clock.now()).isoformat(timespec="seconds"),
        "definitions": definitions(),
        "kpis": kpis,
        "tables": [t.as_dict() for t in tables if t is not None],
    }


def boundary_note(b: dict) -> str:
    redrawn = len(b["redrawn_during_period"])
    return _("%(rule)s Grid boundary versions in force at the end of the period: %(n)s; redrawn during it: %(r)s.") % {
        "rule": b["rule"], "n": b["grid_versions_in_force_at_end"], "r": redrawn}


def _per_grid(selection: Selection) -> tuple[dict, dict]:
    """({grid id: its figures}, {status: events}) from MAIN's rows (per grid and status)."""
    grids, by_status = {}, {}
    for r in _run(MAIN, selection):
        f = grids.setdefault(r["grid_id"], dict.fromkeys(FIGURES, 0))
        status, n = r["status"], r["events"]
        by_status[status] = by_status.get(status, 0) + n
        closed, still_open = status in CLOSED_STATES, status not in FINAL_STATES
        f["events"] += n
        f["closed"] += n if closed else 0
        f["rejected"] += n if status == State.REJECTED else 0
        f["overdue_now"] += r["past_due"] if still_open else 0
        f["closed_on_time"] += n - r["late"] if closed else 0
        f["closure_due"] += n if closed else r["late"] if still_open else 0  # open: already late (overdue before, or now)
        f["undecided_late"] += r["accept_due"] if status == State.REPORTED else 0
        f["hours"] += float(r["seconds"]) / 3600 if closed else 0
        for k in ("rated", "satisfied", "decided", "accepted_on_time", "returns", "reopenings"):
            f[k] += r[k]
    return grids, by_status


FIGURES = ("events", "closed", "rejected", "overdue_now", "closed_on_time", "closure_due", "undecided_late", "hours",
           "rated", "satisfied", "decided", "accepted_on_time", "returns", "reopenings")


def _sum(rows) -> dict:
    out = dict.fromkeys(FIGURES, 0)
    for r in rows:
        for k in FIGURES:
            out[k] += r[k]
    return out


def _share(part, whole) -> float | None:
    """A percentage with one decimal; None when there is nothing to divide."""
    return round(100 * part / whole, 1) if whole else None


def _rates(f: dict) -> dict:
    return {
        "accepted_on_time_pct": _share(f["accepted_on_time"], f["decided"] + f["undecided_late"]),
        "closed_on_time_pct": _share(f["closed_on_time"], f["closure_due"]),
        "satisfied_pct": _share(f["satisfied"], f["rated"]),
        "mean_hours": round(f["hours"] / f["closed"], 1) if f["closed"] else None,
    }


def _kpis(totals: dict, tenths: dict) -> dict:
    rates = _rates(totals)
    return {
        "events": totals["events"], "closed": totals["closed"], "rejected": totals["rejected"],
        "overdue_now": totals["overdue_now"], "returns": totals["returns"], "reopenings": totals["reopenings"],
        "accepted_on_time_pct": rates["accepted_on_time_pct"], "closed_on_time_pct": rates["closed_on_time_pct"],
        "satisfied_pct": rates["satisfied_pct"], "rated": totals["rated"],
        "mean_hours": rates["mean_hours"], "p90_hours": _percentile(tenths, 0.9),
    }


def _percentile(histogram: dict, q: float) -> float | None:
    """The q-quantile of the handling times in hours from {tenths of an hour: events}, interpolated
    between neighbouring ranks as PostgreSQL's percentile_cont does."""
    n = sum(histogram.values())
    if not n:
        return None
    rank = q * (n - 1)
    below, fraction = int(rank), rank - int(rank)
    values, seen = [], 0
    for tenth in sorted(histogram):  # the value at rank `below` and the next one
        seen += histogram[tenth]
        while len(values) < 2 and seen > below + len(values):
            values.append(tenth / 10)
        if len(values) == 2:
            break
    values.append(values[-1])  # `below` is the last rank
    return round(values[0] + fraction * (values[1] - values[0]), 1)


def kpi_labels() -> list[tuple[str, str]]:
    return [
        ("events", _("Events reported")), ("closed", _("Closed")), ("rejected", _("Rejected")),
        ("accepted_on_time_pct", _("Accepted on time (%)")), ("closed_on_time_pct", _("Closed on time (%)")),
        ("mean_hours", _("Mean handling time (hours)")), ("p90_hours", _("90th percentile handling time (hours)")),
        ("overdue_now", _("Overdue now")), ("returns", _("Returns (退回)")), ("reopenings", _("Reopenings (重新办理)")),
        ("satisfied_pct", _("Satisfied (%)")), ("rated", _("Rated")),
    ]


def _kpi_table(kpis: dict, note: str) -> Table:
    return Table("kpis", _("Key figures"), [("figure", _("Figure")), ("value", _("Value"))],
                 [{"key": k, "figure": label, "value": kpis[k]} for k, label in kpi_labels()], note)


def _breakdowns(selection: Selection) -> tuple[dict, dict]:
    """({"category_id" | "channel" | "satisfaction" | "settled": {value: events}} in the period,
    {month label: {"events", "closed", "overdue_now"}} over the trend's months) from BREAKDOWNS' rows."""
    disputes = Category.objects.filter(code=DISPUTES).first()
    dispute_ids = set(category_and_descendants(disputes)) if disputes else set()
    span = trend_period(selection.period)
    starts = sorted({m.start for m in span.months()} | {selection.period.start})
    labels = [timezone.localtime(start).strftime("%Y-%m") for start in starts]  # by bucket - 1
    out = {k: {} for k in ("category_id", "channel", "satisfaction", "settled")}
    months = {}

    def add(key, value, n):
        out[key][value] = out[key].get(value, 0) + n

    for r in _run(BREAKDOWNS, selection, span, starts=starts, first=starts.index(selection.period.start) + 1):
        status, n = r["status"], r["n"]
        if not r["combo"]:
            m = months.setdefault(labels[r["bucket"] - 1], dict.fromkeys(("events", "closed", "overdue_now"), 0))
            m["events"] += n
            m["closed"] += n if status in CLOSED_STATES else 0
            m["overdue_now"] += n if r["past_due"] and status not in FINAL_STATES else 0
        elif r["in_period"]:
            for key in ("category_id", "channel", "satisfaction"):
                add(key, r[key], n)
            if status in CLOSED_STATES and r["category_id"] in dispute_ids:
                add("settled", r["level"], n)
    return out, months


def _category_table(counts: dict, note: str) -> Table:
    """Top-level categories, each followed by its sub-categories (the tree is small: read whole)."""
    cats = {c.pk: c for c in Category.objects.all()}
    total = sum(counts.values())
    under = {}
    for pk in counts:
        under.setdefault(_root(cats, pk), []).append(pk)

    def row(pk, n, parent="", name=None):
        return {"code": cats[pk].code, "name": name or cats[pk].name, "parent": parent, "events": n, "share_pct": _share(n, total)}

    rows = []
    for top in sorted(under, key=lambda p: cats[p].code):
        rows.append(row(top, sum(counts[p] for p in under[top])))
        subs = sorted((p for p in under[top] if p != top), key=lambda p: cats[p].code)
        rows += [row(p, counts[p], cats[top].code) for p in subs]
        if subs and top in counts:
            rows.append(row(top, counts[top], cats[top].code, _("%(name)s (not further classified)") % {"name": cats[top].name}))
    return Table("by_category", _("Events by category"),
                 [("code", _("Code")), ("name", _("Category")), ("parent", _("Under")), ("events", _("Events")), ("share_pct", _("Share (%)"))],
                 rows, note)


def _root(cats: dict, pk: int) -> int:
    while cats[pk].parent_id:
        pk = cats[pk].parent_id
    return pk


def _choice_table(name: str, title: str, choices, counts: dict, note: str, counted: str | None = None) -> Table:
    """A row per choice with its count (of events, unless `counted` names what else) and share."""
    total = sum(counts.values())
    rows = [{"key": value, "label": label, "events": counts.get(value, 0), "share_pct": _share(counts.get(value, 0), total)}
            for value, label in choices]
    return Table(name, title, [("label", title), ("events", counted or _("Events")), ("share_pct", _("Share (%)"))], rows, note)


def _satisfaction_table(counts: dict, note: str) -> Table:
    rated = {k: v for k, v in counts.items() if k}
    table = _choice_table("satisfaction", _("Satisfaction of rated events"), Satisfaction.choices, rated, note)
    table.rows.append({"key": "satisfied_or_better", "label": _("satisfied or very satisfied"),
                       "events": sum(rated.get(k, 0) for k in SATISFIED), "share_pct": _share(sum(rated.get(k, 0) for k in SATISFIED), sum(rated.values()))})
    table.rows.append({"key": "unrated", "label": _("not rated"), "events": counts.get("", 0), "share_pct": None})
    return table


def _settlement_table(counts: dict, note: str) -> Table:
    total = sum(counts.values())
    grid, community, street = (counts.get(k, 0) for k in (HandlingLevel.GRID, HandlingLevel.COMMUNITY, HandlingLevel.STREET))
    above = sum(counts.get(k, 0) for k in ABOVE)
    rows = [
        {"key": "grid", "label": _("grid (网格)"), "disputes": grid, "share_pct": _share(grid, total), "pattern_pct": None},
        {"key": "community", "label": _("community (社区)"), "disputes": community, "share_pct": _share(community, total), "pattern_pct": None},
        {"key": "low", "label": _("grid and community together (小事不出村)"), "disputes": grid + community,
         "share_pct": _share(grid + community, total), "pattern_pct": SETTLEMENT_PATTERN["low"]},
        {"key": "street", "label": _("street (街道)"), "disputes": street, "share_pct": _share(street, total),
         "pattern_pct": SETTLEMENT_PATTERN[HandlingLevel.STREET]},
        {"key": "above", "label": _("district and above (区及以上)"), "disputes": above, "share_pct": _share(above, total),
         "pattern_pct": SETTLEMENT_PATTERN["above"]},
    ]
    return Table("settlement", _("Where closed disputes were settled"),
                 [("label", _("Level")), ("disputes", _("Disputes")), ("share_pct", _("Share (%)")), ("pattern_pct", _("Pattern (%)"))],
                 rows, note)


def trend_period(period: Period) -> Period:
    """The months the trend shows: the period's own when it spans several, else the
    TREND_MONTHS months up to the period's last."""
    if len(period.months()) > 1:
        return period
    last = period.last_day
    first = dt.date(last.year, last.month, 1)
    index = first.year * 12 + first.month - 1 - (TREND_MONTHS - 1)
    return periods.days(dt.date(index // 12, index % 12 + 1, 1), last, _("%(n)s months to %(label)s") % {"n": TREND_MONTHS, "label": period.label})


def _trend_table(selection: Selection, months: dict, note: str) -> Table:
    span = trend_period(selection.period)
    rows = [{"month": m.label, **months.get(m.label, dict.fromkeys(("events", "closed", "overdue_now"), 0))} for m in span.months()]
    return Table("trend", _("Events by month (%(label)s)") % {"label": span.label},
                 [("month", _("Month")), ("events", _("Events")), ("closed", _("Closed")), ("overdue_now", _("Overdue now"))], rows, note)


# --- areas: the children to drill into, the worst, the overdue -----------------------------------

def _area_ref(area: Area | None) -> dict | None:
    return None if area is None else {"id": area.pk, "code": area.code, "name": area.name, "level": area.level}


def breadcrumbs(area: Area | None) -> list[dict]:
    """The area's ancestors from the top, then the area (its path holds their ids)."""
    if area is None:
        return []
    ids = [int(i) for i in area.path.strip("/").split("/") if i]
    found = {a.pk: a for a in Area.objects.filter(pk__in=ids)}
    return [_area_ref(found[i]) for i in ids if i in found]


def _child_of(selection: Selection, grid_paths: dict) -> dict:
    """{grid id: the id of the child of the selection's area that holds it} (for the top of the
    tree: the root area)."""
    depth = 0 if selection.area is None else len(selection.area.path.strip("/").split("/"))
    out = {}
    for pk, path in grid_paths.items():
        parts = path.strip("/").split("/")
        if len(parts) > depth:
            out[pk] = int(parts[depth])
    return out


def _children(selection: Selection, grids: dict) -> list[dict]:
    """A row per child area: its figures summed over its grids (children with no events too,
    unless retired)."""
    parent = selection.area
    if parent is not None and parent.level == Level.GRID:
        return []
    kids = Area.objects.filter(parent=parent) if parent else Area.objects.filter(parent__isnull=True)
    paths = dict(Area.objects.filter(pk__in=[g for g in grids if g is not None]).values_list("pk", "path"))
    owner = _child_of(selection, paths)
    by_child = {}
    for grid_id, figures in grids.items():
        by_child.setdefault(owner.get(grid_id), []).append(figures)
    rows = []
    for kid in kids.filter(Q(retired_at__isnull=True) | Q(pk__in=list(by_child))).select_related("layer"):
        if kid.level == Level.GRID and not (kid.layer and kid.layer.is_primary) and kid.pk not in by_child:
            continue  # a grid of another layer (城管网格): events are placed in the primary layer's
        f = _sum(by_child.get(kid.pk, []))
        rows.append({"id": kid.pk, "code": kid.code, "name": kid.name, "level": kid.level, **_figures_row(f)})
    return sorted(rows, key=lambda r: r["code"])


def _figures_row(f: dict) -> dict:
    return {"events": f["events"], "closed": f["closed"], "overdue_now": f["overdue_now"], **_rates(f),
            "returns": f["returns"], "reopenings": f["reopenings"]}


def area_columns() -> list[tuple[str, str]]:
    return [
        ("code", _("Code")), ("name", _("Area")), ("events", _("Events")), ("closed", _("Closed")),
        ("accepted_on_time_pct", _("Accepted on time (%)")), ("closed_on_time_pct", _("Closed on time (%)")),
        ("mean_hours", _("Mean handling time (hours)")), ("overdue_now", _("Overdue now")),
        ("returns", _("Returns (退回)")), ("reopenings", _("Reopenings (重新办理)")), ("satisfied_pct", _("Satisfied (%)")),
    ]


def _children_table(rows: list[dict], note: str) -> Table | None:
    if not rows:
        return None
    return Table("children", _("By area (click to open its dashboard)"), area_columns(), rows, note)


def _worst_table(selection: Selection, grids: dict, note: str) -> Table | None:
    """The grids of the area with the lowest on-time closure and the most overdue now."""
    if selection.area is not None and selection.area.level == Level.GRID:
        return None
    late = {g: f for g, f in grids.items() if g is not None and f["closure_due"]}  # overdue now is in closure_due
    worst = sorted(late, key=lambda g: (_rates(late[g])["closed_on_time_pct"], -late[g]["overdue_now"]))[:WORST_LISTED]
    names = {a.pk: a for a in Area.objects.filter(pk__in=worst)}
    rows = [{"id": g, "code": names[g].code, "name": names[g].name, "level": names[g].level, **_figures_row(_sum([grids[g]]))}
            for g in worst if g in names]
    return Table("worst", _("Worst-performing grids: lowest on-time closure, most overdue"), area_columns(), rows, note)


def _overdue_table(selection: Selection, note: str) -> Table:
    now = clock.now()
    # the open states named (not "not final") and the most late first by an expression no index
    # gives: PostgreSQL then finds the few open events by status, instead of walking the due_at
    # index through every closed one (20× slower at a million events)
    qs = (events(selection).filter(status__in=STATUS_WORDS[OPEN], due_at__lt=now)
          .annotate(late=ExpressionWrapper(Value(now) - F("due_at"), output_field=DurationField()))
          .select_related("category", "grid").order_by("-late", "id")[:OVERDUE_LISTED])
    rows = [{"id": e.pk, "number": e.number, "category": f"{e.category.code} {e.category.name}",
             "grid": e.grid.name if e.grid else "", "status": e.get_status_display(),
             "due": timezone.localtime(e.due_at).strftime("%Y-%m-%d %H:%M"), "days_late": math.floor((now - e.due_at).total_seconds() / 86400)}
            for e in qs]
    return Table("overdue", _("Overdue now (the %(n)s most late)") % {"n": OVERDUE_LISTED},
                 [("number", _("Number")), ("category", _("Category")), ("grid", _("Grid")), ("status", _("Status")),
                  ("due", _("Due")), ("days_late", _("Days late"))], rows, note)


# --- people: residents in today's grids; special groups, welfare, visits only when sensitive -----

# The registers change slowly and one area's dashboard is read again and again (another period,
# other categories): their counts (a scan of every resident for the district) are kept a few
# minutes by area, apart from the events' figures.
POPULATION_SECONDS = 600


def _kept(compute, *key):
    """compute() through Django's cache for POPULATION_SECONDS, by `key`, today and the language
    (the tables carry their labels)."""
    parts = ("analytics:population", clock.today(), translation.get_language(), *key)
    return django_cache.get_or_set(":".join(map(str, parts)), compute, POPULATION_SECONDS)


def _population_tables(selection: Selection) -> list[Table]:
    area = selection.area.pk if selection.area else "all"
    out = _kept(lambda: _register_tables(selection), area, int(selection.sensitive))
    if not selection.sensitive:
        return out
    return [*out, _kept(lambda: _visits_table(selection), area, "visits", selection.period.key)]


def _register_note() -> str:
    return _("Residents in today's grids, as registered on %(day)s.") % {"day": clock.today().isoformat()}


def _register_tables(selection: Selection) -> list[Table]:
    """Residents by residence type; for roles that may see them, current special-group and welfare records."""
    today = clock.today()
    ids = selection.grid_ids()
    note = _register_note()
    people = Person.objects.all() if ids is None else Person.objects.filter(grid_id__in=ids)
    counts = dict(people.values_list("residence_type").annotate(n=Count("id")).order_by())
    out = [_choice_table("residence", _("Residents by residence type"), ResidenceType.choices, counts, note, _("Residents"))]
    if not selection.sensitive:
        out[0].note += " " + _("Special groups, welfare and visits are shown only to roles that may see them.")
        return out
    current = Q(start__lte=today) & (Q(end__isnull=True) | Q(end__gte=today))
    special = SpecialGroupRecord.objects.filter(current, sealed=False)
    welfare = WelfareRecord.objects.filter(current)
    if ids is not None:
        special, welfare = special.filter(person__grid_id__in=ids), welfare.filter(person__grid_id__in=ids)
    out.append(_choice_table("special_groups", _("Special groups (current records)"), SpecialGroup.choices,
                             dict(special.values_list("group").annotate(n=Count("id")).order_by()), note, _("Records")))
    out.append(_choice_table("welfare", _("Welfare and care (current records)"), WelfareKind.choices,
                             dict(welfare.values_list("kind").annotate(n=Count("id")).order_by()), note, _("Records")))
    return out


VISITS = f"""
SELECT r."group", sum(r.due)::int AS due, sum(least(r.due, r.done))::int AS done FROM (
    SELECT r."group", ceil(greatest(0, least(coalesce(r."end", %(last)s), %(last)s) - greatest(r.start, %(first)s) + 1)::numeric
                           / greatest(r.visit_every_days, 1))::int AS due,
           (SELECT count(*) FROM {Visit._meta.db_table} v
             WHERE v.person_id = r.person_id AND v.visited_at >= %(start)s AND v.visited_at < %(end)s) AS done
    FROM {SpecialGroupRecord._meta.db_table} r JOIN {Person._meta.db_table} p ON p.id = r.person_id
    WHERE NOT r.sealed AND r.start <= %(last)s AND (r."end" IS NULL OR r."end" >= %(first)s) {{area}}
) r GROUP BY 1"""


def _visits_table(selection: Selection) -> Table:
    """Visits due to special-group members in the period (one per `visit_every_days` of the
    record's days in it, up to today) against the visits made to them, each record's capped at its due."""
    period, ids = selection.period, selection.grid_ids()
    last = min(period.last_day, clock.today())
    rows = _rows(VISITS.replace("{area}", "" if ids is None else "AND p.grid_id = ANY(%(ids)s)"),
                 {"first": period.first_day, "last": last, "start": period.start, "end": period.end, "ids": ids})
    found = {r["group"]: r for r in rows}
    out = []
    for value, label in SpecialGroup.choices:
        due, done = (found.get(value, {}).get(k, 0) for k in ("due", "done"))
        out.append({"key": value, "label": label, "due": due, "done": done, "done_pct": _share(done, due)})
    total_due, total_done = sum(r["due"] for r in out), sum(r["done"] for r in out)
    out.append({"key": "all", "label": _("all groups"), "due": total_due, "done": total_done, "done_pct": _share(total_done, total_due)})
    return Table("visits", _("Visits to special groups: done against due"),
                 [("label", _("Group")), ("due", _("Due")), ("done", _("Done")), ("done_pct", _("Done (%)"))], out,
                 _register_note() + " " + _("Due: one visit per the record's visit interval in the period, up to today."))
