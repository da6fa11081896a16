"""My patch (我的网格): the summary a user lands on. A grid leader or worker gets their grid, area
staff their area, leaders and the centre the whole district; the same counts either way, each an
aggregate query in SQL over the caller's scoped rows:

- households; people by residence type (registered / floating / overseas);
- open events (not rejected, closed or archived) by clock colour (green / yellow / red, the rule
  of events.selectors.with_clock);
- visits due: special-group members (current records) whose last visit is older than their
  record's visit_every_days, or who were never visited. Special-group records are sensitive: a
  role that may see them counts every such member of the area; any other role (a grid worker)
  only the members they are the responsible worker for, which they know already;
- unread inbox messages, and the due list: open events assigned to the caller, soonest due first.

The same counts per district or street (area_overview) label the map's low zooms, where grids
and buildings are too small to draw.
"""
import datetime as dt

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gridmap.core import clock
from gridmap.core.geojson import EMPTY
from gridmap.core.scoping import scope
from gridmap.events.models import Event
from gridmap.events.selectors import unread_count, visible_events, with_clock
from gridmap.events.workflow import FINAL_STATES, State
from gridmap.grids.models import Level
from gridmap.grids.selectors import visible_areas, visible_extent
from gridmap.people.models import ResidenceType, SpecialGroupRecord, Visit
from gridmap.people.selectors import households, persons, special_group_records

DUE_LIST = 10


def patch_area(user) -> dict:
    """The area the summary is about: the user's own, or the whole district."""
    area = user.area if user.area_id and not user.sees_everything else None
    extent = visible_extent(user)
    bbox = [round(v, 7) for v in extent] if extent else None
    if area is None:
        return {"id": None, "code": None, "name": _("whole district"), "level": None, "bbox": bbox}
    return {"id": area.pk, "code": area.code, "name": area.name, "level": area.level,
            "level_label": area.get_level_display(), "bbox": bbox}


def people_counts(user) -> dict:
    counts = persons(user).aggregate(
        total=Count("id"),
        **{t: Count("id", filter=Q(residence_type=t)) for t in ResidenceType.values},
    )
    return {"households": households(user).count(), "people": counts}


def event_counts(user, now: dt.datetime) -> dict:
    open_events = with_clock(visible_events(user).exclude(status__in=FINAL_STATES), now)
    counts = open_events.aggregate(
        open=Count("id"), **{c: Count("id", filter=Q(clock=c)) for c in ("green", "yellow", "red")})
    return counts


def special_records_to_visit(user):
    """The special-group records whose visits count for `user` (see the module's note)."""
    if user.sees_sensitive:
        return special_group_records(user), "area"
    mine = scope(SpecialGroupRecord.objects.filter(responsible=user, sealed=False), user, grid="person__grid", location=None)
    return mine, "mine"


def visits_due(user, now: dt.datetime) -> dict:
    records, basis = special_records_to_visit(user)
    today = timezone.localdate(now)
    last = Visit.objects.filter(person=OuterRef("person")).order_by("-visited_at").values("visited_at")[:1]
    cutoff = ExpressionWrapper(
        Value(now, output_field=DateTimeField()) - F("visit_every_days") * Value(dt.timedelta(days=1), output_field=DurationField()),
        output_field=DateTimeField())
    due = (
        records.filter(Q(end__isnull=True) | Q(end__gte=today), start__lte=today)
        .annotate(last_visit=Subquery(last, output_field=DateTimeField()), cutoff=cutoff)
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=F("cutoff")))
    )
    return {"visits_due": due.aggregate(n=Count("person", distinct=True))["n"], "visits_due_basis": basis}


def due_list(user, now: dt.datetime, limit: int = DUE_LIST) -> dict:
    mine = with_clock(Event.objects.filter(assignee=user).exclude(status__in=FINAL_STATES), now)
    states = dict(State.choices)
    rows = list(
        mine.order_by(F("due_at").asc(nulls_last=True), "id")
        .values("id", "number", "status", "due_at", "clock", "point", "address", "category__name")[:limit]
    )
    total = len(rows) if len(rows) < limit else mine.count()
    return {
        "due_total": total,
        "due": [
            {"id": r["id"], "number": r["number"], "category": r["category__name"], "status": r["status"],
             "status_label": str(states.get(r["status"], r["status"])), "due_at": r["due_at"], "clock": r["clock"],
             "address": r["address"], "point": [round(r["point"].x, 7), round(r["point"].y, 7)] if r["point"] else None,
             "url": f"/?event={r['id']}"}
            for r in rows
        ],
    }


def patch_summary(user, now: dt.datetime | None = None) -> dict:
    """The card's content: the area, its counts, the caller's unread count and due list."""
    now = now or clock.now()
    return {
        "area": patch_area(user),
        **people_counts(user),
        "events": event_counts(user, now),
        **visits_due(user, now),
        "unread": unread_count(user),
        **due_list(user, now),
        "sensitive": user.sees_sensitive,
    }


# How far each level's overview outline may stray from the boundary (degrees: about 100 m and 10 m,
# under a pixel at the zooms they are drawn at, map.js OVERVIEW_ZOOM), and the decimals sent.
OVERVIEW_OUTLINE = {Level.DISTRICT: (0.001, 4), Level.STREET: (0.0001, 5), Level.COMMUNITY: (0.00005, 5)}
OVERVIEW_COUNTS = ("grids", "households", "people", "events", "overdue")


def _sql(qs):
    """(sql, params) of a queryset, or None when it is empty by construction (scope() → none())."""
    try:
        return qs.query.sql_with_params()
    except EmptyResultSet:
        return None


def overview_counts(user, now: dt.datetime) -> dict:
    """Per kind, a scoped queryset of (grid id, count) rows: primary-layer grids, households,
    people, open events and the overdue among them (an event by its grid, else its handling
    area). Records outside every grid count nowhere."""
    def per_grid(qs, at="grid_id"):
        return qs.order_by().annotate(gm_at=F(at)).filter(gm_at__isnull=False).values("gm_at").annotate(gm_n=Count("id")).values_list("gm_at", "gm_n")

    open_events = with_clock(visible_events(user).exclude(status__in=FINAL_STATES), now).annotate(
        gm_place=Coalesce("grid_id", "area_id"))
    return {
        "grids": visible_areas(user).filter(level=Level.GRID, layer__is_primary=True).order_by().annotate(gm_n=Value(1)).values_list("id", "gm_n"),
        "households": per_grid(households(user)),
        "people": per_grid(persons(user)),
        "events": per_grid(open_events, "gm_place"),
        "overdue": per_grid(open_events.filter(clock="red"), "gm_place"),
    }


def area_overview(user, level: str, now: dt.datetime | None = None) -> str:
    """The visible areas of `level` as a GeoJSON FeatureCollection text for the map's low zooms:
    each outline simplified (ST_SimplifyPreserveTopology, OVERVIEW_OUTLINE) with its counts
    (OVERVIEW_COUNTS, the caller's scoped records below it), a label point inside it and its
    bounding box [w, s, e, n]. One statement: each kind is counted per grid first, and the few
    hundred grid rows are then added up per area by path prefix."""
    areas = _sql(visible_areas(user).filter(level=level, boundary__isnull=False).order_by().values("id"))
    if areas is None:
        return EMPTY
    tolerance, decimals = OVERVIEW_OUTLINE[level]
    parts, params = [], []
    for kind, qs in overview_counts(user, now or clock.now()).items():
        sql = _sql(qs)
        if sql is not None:
            parts.append(f"SELECT '{kind}' AS kind, c.grid_id, c.n FROM ({sql[0]}) AS c(grid_id, n)")
            params += sql[1]
    counts = " UNION ALL ".join(parts) or "SELECT NULL::text, NULL::int, NULL::bigint WHERE false"
    totals = ", ".join(f"'{k}', COALESCE(sum(per.n) FILTER (WHERE per.kind = '{k}'), 0)" for k in OVERVIEW_COUNTS)
    query = f"""
        WITH a AS (SELECT id, code, name, level, path, boundary FROM grids_area WHERE id IN ({areas[0]})),
        counted AS ({counts}),
        per AS (
            SELECT a.id, counted.kind, sum(counted.n) AS n
            FROM counted JOIN grids_area g ON g.id = counted.grid_id JOIN a ON starts_with(g.path, a.path)
            GROUP BY a.id, counted.kind)
        SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(json_build_object(
            'type', 'Feature', 'id', a.id,
            'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.boundary, %s), %s)::json,
            'properties', json_build_object(
                'id', a.id, 'code', a.code, 'name', a.name, 'level', a.level,
                'label', json_build_array(round(ST_X(a.point)::numeric, 5), round(ST_Y(a.point)::numeric, 5)),
                'bbox', json_build_array(round(ST_XMin(a.boundary)::numeric, 5), round(ST_YMin(a.boundary)::numeric, 5),
                                         round(ST_XMax(a.boundary)::numeric, 5), round(ST_YMax(a.boundary)::numeric, 5)),
                'counts', (SELECT json_build_object({totals}) FROM per WHERE per.id = a.id))
        ) ORDER BY a.code), '[]'::json))::text
        FROM (SELECT a.*, ST_PointOnSurface(a.boundary) AS point FROM a) a"""
    with connection.cursor() as cur:
        cur.execute(query, [*areas[1], *params, tolerance, decimals])
        return cur.fetchone()[0]


def page_text() -> dict:
    """Labels of the "my patch" card (web/static/gridmap/patch.js)."""
    return {
        "myPatch": _("My patch"), "wholeDistrict": _("whole district"), "showPatch": _("Show on map"),
        "registered": pgettext("residence", "registered"), "floating": pgettext("residence", "floating"),
        "overseas": pgettext("residence", "overseas"),
        "openEvents": _("Open events"), "clock_green": pgettext("my patch", "in time"),
        "clock_yellow": pgettext("my patch", "warning"), "clock_red": pgettext("my patch", "overdue"), "visitsDue": _("Visits due"),
        "visitsDueArea": _("Special-group members whose last visit is older than their visit interval"),
        "visitsDueMine": _("Special-group members you visit whose last visit is older than their visit interval"),
        "unread": _("Unread messages"), "openInbox": _("Inbox"), "dueList": _("My due list"),
        "dueAt": _("due"), "noDue": _("no time limit"), "nothingDue": _("Nothing assigned to you is open"),
        "patchFailed": _("Could not load your patch"),
    }
