"""Monthly assessment (考核): scores per grid worker, grid, community, street and department,
computed from the records, never typed in, and ranked within their level.

What each figure is, from which records (also shown on the page, DEFINITIONS):

- The events of a month are those reported in it in the selected area (selection.events).
  An area's events are those reported in its grids; a department's those it handles now; a grid
  worker's reports are the events they reported, and the events they handle are those first
  assigned to them (the first 分派 step of the log: the person it was routed to answers for it,
  even when it was later escalated — 首办负责).
- Accepted on time (按时签收): the handler signed for it (签收, the first "start handling" step)
  within the scheme's hours of its first assignment. Still unsigned after that time: late;
  unsigned and still within it: not counted yet.
- Closed on time (按时办结): closed (结案) by its due time and never overdue. Still open past due:
  late; open and not yet due, or rejected: not counted.
- Handling time: hours from report to close, over the events closed.
- Overdue: events that were ever past their time limit: marked by the deadline job, closed after
  their due time, or open past it now.
- Returns and reopenings: 退回 steps (verification sent the reply back) and 重新办理 steps.
- Right first time (一次办结): of the events replied to, the share never returned nor reopened.
- Satisfaction (满意率): of the events rated by their reporter, the share rated satisfied or very
  satisfied.
- Visits (走访): each special-group record (特殊人群) in force in the month is due one visit per
  its "visit every (days)" over its days in the month (rounded up); a due visit is done when the
  person is visited in the month, by anyone, at most as many as are due. For a worker: the
  records they are responsible for; for an area: the records of its residents.

The score out of 100 has three parts, weighted by the scheme (models.AssessmentScheme):
work results (工作实绩) = the mean of the worker's reports against the monthly target (capped at
1; workers only), accepted on time, closed on time and visits done/due; skills (业务能力) = right
first time; resident satisfaction (群众满意度) = the satisfaction rate. A part with no records in
the month is left out and the others are scaled up to 100. Below the scheme's line: a yellow card.

Each aggregate is one set-based statement (GROUP BY over the month's events and their log, and
one over the special-group records and visits), never a loop over events; Python only weighs
the few rows per unit.
"""
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ValidationError

from gridmap.core import clock
from gridmap.core.models import Role, User
from gridmap.events.models import Department, EventAction
from gridmap.grids.models import Area
from gridmap.people.models import Person, SpecialGroupRecord, Visit

from . import periods
from .models import AssessmentScheme, AssessmentWeights, Unit
from .selection import Selection, boundaries, events
from .tables import Table

AREA_UNITS = (Unit.GRID, Unit.COMMUNITY, Unit.STREET)
ASSESSED_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER)
PARTS = ("results", "skills", "satisfaction")

DEFINITIONS = [
    (gettext_lazy("Events of the month"), gettext_lazy(
        "Events reported in the month in the area. An area counts the events reported in its grids, a department those "
        "it handles now. A grid worker's reports are the events they reported; the events they handle are those first "
        "assigned to them, even when escalated later.")),
    (gettext_lazy("Reports"), gettext_lazy("Events the worker reported in the month, against the scheme's monthly target.")),
    (gettext_lazy("Accepted on time"), gettext_lazy(
        "Share of the events whose handler signed for them (签收) within the scheme's hours of their first assignment; "
        "still unsigned after that time counts as late.")),
    (gettext_lazy("Closed on time"), gettext_lazy(
        "Share of the events closed by their due time and never overdue; still open past due counts as late; open and "
        "not yet due, or rejected, is not counted.")),
    (gettext_lazy("Handling time"), gettext_lazy("Average hours from report to close, over the closed events.")),
    (gettext_lazy("Overdue"), gettext_lazy("Events ever past their time limit: marked by the deadline job, closed after their due time, or open past it now.")),
    (gettext_lazy("Right first time"), gettext_lazy(
        "Share of the events replied to that were never returned on verification (退回) nor reopened (重新办理).")),
    (gettext_lazy("Satisfaction"), gettext_lazy(
        "Share of the events rated by their reporter that were rated satisfied or very satisfied.")),
    (gettext_lazy("Visits"), gettext_lazy(
        "Each special-group record in force is due one visit per its visiting interval over its days in the month "
        "(rounded up); a due visit is done when the person is visited in the month, at most as many as are due. A worker "
        "counts the records they are responsible for, an area those of its residents.")),
    (gettext_lazy("Score"), gettext_lazy(
        "Work results = the mean of reports against the target (workers only, capped at the target), accepted on time, "
        "closed on time and visits done/due; skills = right first time; satisfaction = the satisfaction rate. Each part "
        "times its weight; a part with no records in the month is left out and the others scaled up to 100. Below the "
        "scheme's line: a yellow card.")),
]


def check_month(period: periods.Period) -> None:
    """Assessment is monthly: 400 naming the period otherwise."""
    first = period.first_day
    whole = periods.month(first.year, first.month)
    if (period.start, period.end) != (whole.start, whole.end):
        raise ValidationError({"period": _("assessment is by calendar month, e.g. 2026-11 or last_month")})


def scheme_for(period: periods.Period) -> AssessmentScheme:
    """The scheme in force on the month's first day (the default, unsaved, when none is)."""
    weights = Prefetch("weights", queryset=AssessmentWeights.objects.all())
    found = (AssessmentScheme.objects.filter(effective_from__lte=period.first_day).prefetch_related(weights)
             .order_by("-effective_from").first())
    return found or AssessmentScheme(name=_("default scheme"))


@dataclass
class Assessed:
    """One assessed unit: its id, code and name."""

    id: int
    code: str
    name: str


def _units(selection: Selection, unit: str) -> list[Assessed]:
    """Who or what is assessed at `unit` in the selection's area."""
    ids = selection.grid_ids()
    if unit == Unit.WORKER:
        qs = User.objects.filter(role__in=ASSESSED_ROLES, is_active=True)
        qs = qs.filter(area_id__in=ids) if ids is not None else qs
        return [Assessed(u.pk, u.username, u.display_name) for u in qs.order_by("username")]
    if unit == Unit.DEPARTMENT:
        return [Assessed(d.pk, d.code, d.name) for d in Department.objects.order_by("code")]
    qs = Area.objects.filter(level=unit).filter(Q(retired_at__isnull=True) | Q(retired_at__gt=selection.period.start))
    if unit == Unit.GRID:
        qs = qs.filter(Q(layer__isnull=True) | Q(layer__is_primary=True))  # the layer events are placed in
    qs = qs.filter(pk__in=ids) if ids is not None else qs
    return [Assessed(a.pk, a.code, a.name) for a in qs.order_by("code")]


def _keys_sql(unit: str) -> str:
    """A statement's `units (unit_id, key_id)`: which ids of the records count for which unit —
    an area for itself and every area below it (each area's path lists its ancestors' ids: one
    hash join, where a path-prefix join would compare every pair); a person or department for itself."""
    if unit in AREA_UNITS:
        return (f"SELECT u.id AS unit_id, g.id AS key_id FROM {Area._meta.db_table} g "
                f"CROSS JOIN LATERAL unnest(string_to_array(trim(BOTH '/' FROM g.path), '/')::bigint[]) AS above(id) "
                f"JOIN unnest(%s::bigint[]) AS u(id) ON u.id = above.id")
    return "SELECT k AS unit_id, k AS key_id FROM unnest(%s::bigint[]) k"


# The event columns each unit is keyed by: (for its reports, for the events it handles).
EVENT_KEYS = {Unit.WORKER: ("reporter_id", "first_assignee"), Unit.DEPARTMENT: ("department_id", "department_id"),
              **{u: ("grid_id", "grid_id") for u in AREA_UNITS}}

EVENTS_SQL = """
WITH q AS (SELECT %s::timestamptz AS now, make_interval(hours => %s) AS win),
units AS ({units}),
ev AS ({events}),
facts AS (
  SELECT ev.*, l.* FROM ev LEFT JOIN LATERAL (
    SELECT (array_agg(a.assignee_id ORDER BY a.seq) FILTER (WHERE a.action = 'assign'))[1] AS first_assignee,
           min(a.at) FILTER (WHERE a.action = 'assign') AS assigned_at,
           min(a.at) FILTER (WHERE a.action = 'start') AS signed_at,
           count(*) FILTER (WHERE a.action = 'return') AS returns,
           count(*) FILTER (WHERE a.action = 'reopen') AS reopens,
           bool_or(a.action = 'reply') AS replied
    FROM {actions} a WHERE a.event_id = ev.id) l ON true
),
keyed AS (
  SELECT u.unit_id, true AS reported, f.* FROM facts f JOIN units u ON u.key_id = f.{report_key}
  UNION ALL
  SELECT u.unit_id, false, f.* FROM facts f JOIN units u ON u.key_id = f.{handle_key}
)
SELECT unit_id,
  count(*) FILTER (WHERE reported) AS reports,
  count(*) FILTER (WHERE NOT reported) AS handled,
  count(*) FILTER (WHERE NOT reported AND assigned_at IS NOT NULL AND (signed_at IS NOT NULL OR assigned_at + q.win < q.now)) AS sign_counted,
  count(*) FILTER (WHERE NOT reported AND signed_at <= assigned_at + q.win) AS signed_on_time,
  count(*) FILTER (WHERE NOT reported AND status <> 'rejected' AND (status IN ('closed', 'archived') OR due_at < q.now)) AS close_counted,
  count(*) FILTER (WHERE NOT reported AND status IN ('closed', 'archived') AND NOT ever_overdue
                   AND (due_at IS NULL OR closed_at <= due_at)) AS closed_on_time,
  count(*) FILTER (WHERE NOT reported AND status IN ('closed', 'archived')) AS closed,
  avg(extract(epoch FROM closed_at - reported_at) / 3600) FILTER (WHERE NOT reported AND status IN ('closed', 'archived')) AS hours,
  count(*) FILTER (WHERE NOT reported AND (ever_overdue OR closed_at > due_at
                   OR (status NOT IN ('rejected', 'closed', 'archived') AND due_at < q.now))) AS overdue,
  coalesce(sum(returns) FILTER (WHERE NOT reported), 0) AS returns,
  coalesce(sum(reopens) FILTER (WHERE NOT reported), 0) AS reopens,
  count(*) FILTER (WHERE NOT reported AND replied) AS replied,
  count(*) FILTER (WHERE NOT reported AND replied AND returns = 0 AND reopens = 0) AS right_first_time,
  count(*) FILTER (WHERE NOT reported AND satisfaction <> '') AS rated,
  count(*) FILTER (WHERE NOT reported AND satisfaction IN ('very_satisfied', 'satisfied')) AS satisfied
FROM keyed CROSS JOIN q GROUP BY unit_id
"""

# Visits due and done per unit: special-group records in force in the month, keyed by their
# responsible worker or their person's grid.
VISITS_SQL = """
WITH q AS (SELECT %s::date AS first, %s::date AS last, %s::timestamptz AS start, %s::timestamptz AS stop),
units AS ({units}),
due AS (
  SELECT r.person_id, r.responsible_id, p.grid_id,
         ceil((least(coalesce(r."end", q.last), q.last) - greatest(r.start, q.first) + 1)::numeric / r.visit_every_days) AS due
  FROM {records} r JOIN {persons} p ON p.id = r.person_id CROSS JOIN q
  WHERE r.start <= q.last AND (r."end" IS NULL OR r."end" >= q.first) AND r.visit_every_days > 0
)
SELECT u.unit_id, sum(d.due)::int AS visits_due, sum(least(d.due, v.n))::int AS visits_done
FROM due d JOIN units u ON u.key_id = d.{key} CROSS JOIN q
CROSS JOIN LATERAL (SELECT count(*) AS n FROM {visits} v
                    WHERE v.person_id = d.person_id AND v.visited_at >= q.start AND v.visited_at < q.stop) v
GROUP BY u.unit_id
"""
VISIT_KEYS = {Unit.WORKER: "responsible_id", **{u: "grid_id" for u in AREA_UNITS}}  # departments make no visits


def _rows(sql: str, params: list) -> dict[int, dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def figures(selection: Selection, unit: str, scheme: AssessmentScheme, ids: list[int]) -> dict[int, dict]:
    """The raw counts per unit id (EVENTS_SQL and VISITS_SQL), units without records left out."""
    ev_sql, ev_params = (events(selection).order_by()
                         .values("id", "reporter_id", "grid_id", "department_id", "status", "reported_at", "due_at",
                                 "closed_at", "ever_overdue", "satisfaction").query.sql_with_params())
    report_key, handle_key = EVENT_KEYS[unit]
    out = _rows(EVENTS_SQL.format(units=_keys_sql(unit), events=ev_sql, actions=EventAction._meta.db_table,
                                  report_key=report_key, handle_key=handle_key),
                [clock.now(), scheme.sign_within_hours, ids, *ev_params])
    if unit in VISIT_KEYS:
        period = selection.period
        visits = _rows(VISITS_SQL.format(units=_keys_sql(unit), records=SpecialGroupRecord._meta.db_table,
                                         persons=Person._meta.db_table, visits=Visit._meta.db_table, key=VISIT_KEYS[unit]),
                       [period.first_day, period.last_day, period.start, period.end, ids])
        for pk, row in visits.items():
            out.setdefault(pk, {}).update(row)
    return out


def _share(part, whole) -> float | None:
    return part / whole if whole else None


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def scored(row: dict, unit: str, scheme: AssessmentScheme) -> dict:
    """One unit's components and weighted score from its figures (see the module's docstring)."""
    def get(key):
        return row.get(key) or 0  # a unit without records has no row
    accepted, closed = _share(get("signed_on_time"), get("sign_counted")), _share(get("closed_on_time"), get("close_counted"))
    visits = _share(get("visits_done"), get("visits_due"))
    reports = min(get("reports") / scheme.report_target, 1) if unit == Unit.WORKER else None
    results = [x for x in (reports, accepted, closed, visits) if x is not None]
    parts = dict(zip(PARTS, (sum(results) / len(results) if results else None,
                             _share(get("right_first_time"), get("replied")),
                             _share(get("satisfied"), get("rated")))))
    weights = dict(zip(PARTS, scheme.weights_for(unit)))
    points = {p: None if share is None else weights[p] * share for p, share in parts.items()}
    out_of = sum(weights[p] for p, share in parts.items() if share is not None)
    score = round(100 * sum(v for v in points.values() if v is not None) / out_of, 1) if out_of else None
    points = {p: None if v is None else round(v, 2) for p, v in points.items()}
    hours = row.get("hours")
    return {
        "reports": get("reports"), "handled": get("handled"),
        "accepted_on_time": _percent(accepted), "closed_on_time": _percent(closed),
        "handling_hours": None if hours is None else round(float(hours), 1),
        "overdue": get("overdue"), "returns": get("returns"), "reopens": get("reopens"),
        "right_first_time": _percent(parts["skills"]), "satisfaction": _percent(parts["satisfaction"]), "rated": get("rated"),
        "visits_done": get("visits_done"), "visits_due": get("visits_due"),
        "results_points": points["results"], "skills_points": points["skills"], "satisfaction_points": points["satisfaction"],
        "out_of": out_of, "score": score,
        "yellow_card": _("yellow card") if score is not None and score < scheme.yellow_card_below else "",
    }


def columns(unit: str) -> list[tuple[str, str]]:
    """The ranking's columns: who, the score and its parts' points, then the figures they come from."""
    return [
        ("rank", _("Rank")), ("code", _("Username") if unit == Unit.WORKER else _("Code")), ("name", _("Name")),
        ("score", _("Score")), ("yellow_card", _("Yellow card")),
        ("results_points", _("Work results (points)")), ("skills_points", _("Skills (points)")),
        ("satisfaction_points", _("Satisfaction (points)")), ("out_of", _("Out of")),
        *([("reports", _("Reports"))] if unit == Unit.WORKER else [("reports", _("Events reported"))]),
        ("handled", _("Events handled")), ("accepted_on_time", _("Accepted on time (%)")),
        ("closed_on_time", _("Closed on time (%)")), ("handling_hours", _("Average handling time (h)")),
        ("overdue", _("Overdue")), ("returns", _("Returns")), ("reopens", _("Reopenings")),
        ("right_first_time", _("Right first time (%)")), ("satisfaction", _("Satisfaction (%)")), ("rated", _("Ratings")),
        *([] if unit == Unit.DEPARTMENT else [("visits_done", _("Visits done")), ("visits_due", _("Visits due"))]),
    ]


def ranking(selection: Selection, unit: str, scheme: AssessmentScheme) -> dict:
    """The month's assessment at `unit` in the selection's area by `scheme` (scheme_for): the
    ranking (best first), the yellow cards (worst first), the scheme and the definitions, as
    JSON-ready data."""
    units = _units(selection, unit)
    found = figures(selection, unit, scheme, [u.id for u in units])
    rows = [{"id": u.id, "code": u.code, "name": u.name, **scored(found.get(u.id, {}), unit, scheme)} for u in units]
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["code"]))
    for i, row in enumerate(rows):  # equal scores share a rank (1, 2, 2, 4)
        same = i and rows[i - 1]["score"] == row["score"]
        row["rank"] = None if row["score"] is None else rows[i - 1]["rank"] if same else i + 1
    weights = dict(zip(PARTS, scheme.weights_for(unit)))
    label, month = Unit(unit).label, selection.period.label
    note = _("Scheme %(scheme)s: work results %(results)s, skills %(skills)s, satisfaction %(satisfaction)s; "
             "yellow card below %(line)s. %(rule)s") % {
        "scheme": scheme.name, **weights, "line": scheme.yellow_card_below, "rule": boundaries(selection)["rule"]}
    cols = columns(unit)
    tables = [
        Table("ranking", _("Assessment of %(level)s, %(month)s") % {"level": label, "month": month}, cols, rows, note),
        Table("attention", _("Needs attention: yellow cards, worst first (%(month)s)") % {"month": month}, cols,
              sorted((r for r in rows if r["yellow_card"]), key=lambda r: (r["score"], r["code"])), note),
    ]
    return {
        "level": unit, "selection": selection.as_dict(), "boundaries": boundaries(selection),
        "scheme": {"name": scheme.name, "effective_from": scheme.effective_from.isoformat(), "report_target": scheme.report_target,
                   "sign_within_hours": scheme.sign_within_hours, "yellow_card_below": scheme.yellow_card_below,
                   "weights": weights},
        "definitions": [{"term": str(term), "text": str(text)} for term, text in DEFINITIONS],
        "yellow_cards": len(tables[1].rows),
        "tables": [t.as_dict() for t in tables],
    }


def tables_of(answer: dict) -> list[Table]:
    """The tables of a (cached) answer, for export."""
    return [Table(t["name"], t["title"], [(c["key"], c["label"]) for c in t["columns"]], t["rows"], t["note"])
            for t in answer["tables"]]
