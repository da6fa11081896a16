"""The dashboard of an area (district, street, community or grid) for a period: every figure
and table a leader reads, each table a tables.Table so it exports as shown.

Definitions (said on the page too: definitions()):
- accepted on time: the event's accept or reject decision (受理/不予受理, one per event: the
  workflow takes it only from "reported") is logged within ACCEPT_HOURS of the report; an
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

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from gridmap.core import clock
from gridmap.events.filters import category_and_descendants
from gridmap.events.models import Category, Channel, EventAction, HandlingLevel, Satisfaction
from gridmap.events.workflow import FINAL_STATES, Action, State
from gridmap.grids.models import Area, Level
from gridmap.people.models import Person, ResidenceType, SpecialGroup, SpecialGroupRecord, Visit, WelfareKind, WelfareRecord

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

COLUMNS = ("id", "grid_id", "category_id", "status", "channel", "satisfaction", "level", "reported_at", "closed_at",
           "due_at", "ever_overdue")


def _events_sql(selection: Selection, period: Period | None = None) -> tuple[str, list]:
    """The selection's events as SQL with the columns the statements read (the one definition
    of what is counted, selection.events); PostgreSQL inlines it as a subquery."""
    return events(selection, period).order_by().values(*COLUMNS).query.sql_with_params()


def _rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


A = EventAction._meta.db_table
# MAIN: per grid and status (one scan gives every figure that adds up over grids), with the log's
# steps that count joined in: an event's accept-or-reject step (at most one: the workflow takes it
# only from "reported"), or none while undecided, makes its one "first" row; each return and
# reopening adds a row. At a million events the join is half the dashboard's time (the log has
# no index by action): an accepted_at column on the event would make it free.
MAIN = """
SELECT e.grid_id, e.status,
       count(*) FILTER (WHERE first) AS events,
       count(*) FILTER (WHERE first AND (e.ever_overdue OR e.closed_at > e.due_at
                                          OR (e.closed_at IS NULL AND e.due_at < %(now)s::timestamptz))) AS late,
       count(*) FILTER (WHERE first AND e.due_at < %(now)s::timestamptz) AS past_due,
       count(*) FILTER (WHERE first AND e.reported_at <= %(accept_by)s::timestamptz) AS accept_due,
       count(*) FILTER (WHERE first AND e.action IS NOT NULL) AS decided,
       count(*) FILTER (WHERE first AND e.at <= e.reported_at + make_interval(hours => %(hours)s::int)) AS accepted_on_time,
       count(*) FILTER (WHERE e.action = %(return)s) AS returns,
       count(*) FILTER (WHERE e.action = %(reopen)s) AS reopenings,
       coalesce(sum(extract(epoch FROM e.closed_at - e.reported_at)) FILTER (WHERE first), 0) AS seconds,
       count(*) FILTER (WHERE first AND e.satisfaction <> '') AS rated,
       count(*) FILTER (WHERE first AND e.satisfaction = ANY(%(satisfied)s::text[])) AS satisfied
FROM (SELECT e.*, a.action, a.at, a.action IS NULL OR a.action = ANY(%(decisions)s::text[]) AS first
      FROM ({events}) e {log}) e
GROUP BY 1, 2"""
# The log's steps: for a whole district, one hash of them all; below it, looked up event by event
# (the event_id index; OFFSET 0 keeps PostgreSQL from turning it back into the hash join, which
# it would choose though it reads the whole log for a community's few thousand events).
LOG_HASHED = f"LEFT JOIN {A} a ON a.event_id = e.id AND a.action = ANY(%(logged)s::text[])"
LOG_PER_EVENT = f"""LEFT JOIN LATERAL (SELECT a.action, a.at FROM {A} a
                   WHERE a.event_id = e.id AND a.action = ANY(%(logged)s::text[]) OFFSET 0) a ON true"""
# The breakdowns, each one parallel GROUP BY on plain columns (one grouping-sets pass cannot run
# in parallel and, at a million events, took longer than these three together): the
# low-cardinality columns together (category, channel, satisfaction, level, status: a few
# thousand combinations at most), the month, and the closed events' handling time in tenths of an
# hour (the percentile is read off that histogram: exact to 0.05 h, with no sort of every event).
COMBOS = """
SELECT e.category_id, e.channel, e.satisfaction, e.level, e.status, count(*) AS n
FROM ({events}) e GROUP BY 1, 2, 3, 4, 5"""
TREND = """
SELECT date_trunc('month', e.reported_at AT TIME ZONE %(tz)s) AS month, count(*) AS n,
       count(*) FILTER (WHERE e.status = ANY(%(closed)s::text[])) AS closed,
       count(*) FILTER (WHERE e.status <> ALL(%(final)s::text[]) AND e.due_at < %(now)s::timestamptz) AS overdue_now
FROM ({events}) e GROUP BY 1"""
TENTHS = """
SELECT round(extract(epoch FROM e.closed_at - e.reported_at) / 360) AS tenths, count(*) AS n
FROM ({events}) e WHERE e.status = ANY(%(closed)s::text[]) GROUP BY 1"""


def _params(**extra) -> dict:
    now = clock.now()
    return {"final": list(FINAL_STATES), "closed": list(CLOSED_STATES), "now": now, "tz": timezone.get_current_timezone_name(),
            "accept_by": now - dt.timedelta(hours=ACCEPT_HOURS), "hours": ACCEPT_HOURS, "satisfied": list(SATISFIED),
            "decisions": [Action.ACCEPT, Action.REJECT], "logged": [Action.ACCEPT, Action.REJECT, Action.RETURN, Action.REOPEN],
            "return": Action.RETURN, "reopen": Action.REOPEN, **extra}


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
    breakdown = _breakdowns(selection)
    children = _children(selection, grids)
    note = boundary_note(selection)
    kpis = _kpis(totals, {int(r["tenths"]): r["n"] for r in _run(TENTHS, selection)})
    tables = [
        _category_table(breakdown["category_id"], note),
        _choice_table("by_status", _("Events by status"), State.choices, by_status, note),
        _choice_table("by_channel", _("Events by source channel"), Channel.choices, breakdown["channel"], note),
        _satisfaction_table(breakdown["satisfaction"], note),
        _settlement_table(breakdown["settled"], note),
        _trend_table(selection, note),
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
        "boundaries": boundaries(selection),
        "generated": timezone.localtime(clock.now()).isoformat(timespec="seconds"),
        "definitions": definitions(),
        "kpis": kpis,
        "tables": [t.as_dict() for t in tables if t is not None],
    }


def boundary_note(selection: Selection) -> str:
    b = boundaries(selection)
    redrawn = len(b["redrawn_during_period"])
    return _("%(rule)s Grid boundary versions in force at the end of the period: %(n)s; redrawn during it: %(r)s.") % {
        "rule": b["rule"], "n": b["grid_versions_in_force_at_end"], "r": redrawn}


def _per_grid(selection: Selection) -> tuple[dict, dict]:
    """({grid id: its figures}, {status: events}) from MAIN's rows (per grid and status)."""
    grids, by_status = {}, {}
    whole = selection.area is None or selection.area.level == Level.DISTRICT
    for r in _run(MAIN.replace("{log}", LOG_HASHED if whole else LOG_PER_EVENT), selection):
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


def _breakdowns(selection: Selection) -> dict:
    """{"category_id" | "channel" | "satisfaction" | "settled": {value: events}} from COMBOS' rows."""
    disputes = Category.objects.filter(code=DISPUTES).first()
    dispute_ids = set(category_and_descendants(disputes)) if disputes else set()
    out = {k: {} for k in ("category_id", "channel", "satisfaction", "settled")}

    def add(key, value, n):
        out[key][value] = out[key].get(value, 0) + n

    for r in _run(COMBOS, selection):
        for key in ("category_id", "channel", "satisfaction"):
            add(key, r[key], r["n"])
        if r["status"] in CLOSED_STATES and r["category_id"] in dispute_ids:
            add("settled", r["level"], r["n"])
    return out


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


def _trend_table(selection: Selection, note: str) -> Table:
    span = trend_period(selection.period)
    months = {r["month"].strftime("%Y-%m"): r for r in _run(TREND, selection, span)}
    rows = []
    for m in span.months():
        found = months.get(m.label, {})
        rows.append({"month": m.label, "events": found.get("n", 0), "closed": found.get("closed", 0), "overdue_now": found.get("overdue_now", 0)})
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

def _population_tables(selection: Selection) -> list[Table]:
    today = clock.today()
    ids = selection.grid_ids()
    note = _("Residents in today's grids, as registered on %(day)s.") % {"day": today.isoformat()}
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
    out.append(_visits_table(selection, ids, note))
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


def _visits_table(selection: Selection, ids: list[int] | None, note: str) -> Table:
    """Visits due to special-group members in the period (one per `visit_every_days` of the
    record's days in it, up to today) against the visits made to them, each record's capped at its due."""
    period = selection.period
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
                 note + " " + _("Due: one visit per the record's visit interval in the period, up to today."))
