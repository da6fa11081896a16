"""The events layer of the map page: markers by bounding box, and what the page needs to draw
them and the event panel (web/static/gridmap/events_layer.js, event_panel.js).

GET /api/events/map/?bbox=w,s,e,n[&status=][&category=][&clock=][&since=] answers a GeoJSON
FeatureCollection written by PostGIS with only what a marker draws (id, number, category,
status, clock colour; category names come once with the page), scoped by selectors.visible_events, newest first and at most
MAP_LIMIT features; the collection says so in its foreign members "limit" and "truncated".

With &zoom= (the map's zoom level) the layer scales to a city: below AGGREGATE_BELOW_ZOOM, or
whenever the box holds more matching events than MAP_LIMIT, the answer is aggregates instead of
points — one feature per occupied square cell of about CELL_PX screen pixels (EPSG:3857 at that
zoom), with the count and the count per clock colour, scoped and filtered exactly like the points,
written by one set-based PostGIS statement (GROUP BY) and marked "aggregated": true. Without zoom
the answer is points as before ("aggregated": false).
"""
import datetime as dt
import math
import re

from django.contrib.gis.geos import Polygon
from django.db import connections
from django.db.models import F
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError

from gridmap.core import clock
from gridmap.core.bbox import parse_bbox
from gridmap.core.geojson import GEOJSON, feature_collection, geojson_view

from . import selectors
from .calendar import TZ
from .filters import category_and_descendants
from .models import Category, Department, Satisfaction, Urgency
from .workflow import FINAL_STATES, TRANSITIONS, Action, State

# Points per request; more in the box: cells (with zoom) or "truncated": true. A thousand points
# is ~180 KB — a dense view stays under 300 KB — and more than a cluster layer shows anyway.
MAP_LIMIT = 1000
MAP_MAX_BBOX_DEGREES = 2.0  # a whole district fits; the limit keeps the answer small
AGGREGATE_BELOW_ZOOM = 16  # zoom < 16: cells, not points (building zoom and closer: points)
CELL_PX = 60  # an aggregate cell is about this many screen pixels wide
MAX_CELLS_ACROSS = 32  # a box is at most this many cells wide or high, whatever the zoom asked (a
                       # 1280×800 view has 21 × 13 cells of 60 px; more only for boxes no screen shows)
WEB_MERCATOR_WORLD_M = 40075016.685578488  # the EPSG:3857 world's width in metres
CLOCKS = ("green", "yellow", "red")
OPEN = "open"  # status=open: every state that is not final
_RELATIVE = re.compile(r"^(\d{1,4})d$")


def parse_zoom(raw: str | None) -> float | None:
    """The map's zoom level (0–24, fractions allowed), or None when not given; 400 when bad."""
    if raw is None or raw == "":
        return None
    try:
        zoom = float(raw)
    except ValueError:
        raise ValidationError({"zoom": "must be a number from 0 to 24"}) from None
    if not math.isfinite(zoom) or not 0 <= zoom <= 24:
        raise ValidationError({"zoom": "must be a number from 0 to 24"})
    return zoom


def cell_size_m(zoom: float, bbox) -> float:
    """The aggregate cell's side in EPSG:3857 metres: CELL_PX screen pixels at `zoom`, but never so
    small that the box spans more than MAX_CELLS_ACROSS cells (the answer stays small)."""
    w, s, e, n = bbox
    per_px = WEB_MERCATOR_WORLD_M / (256 * 2 ** zoom)
    y = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(max(min(lat, 85), -85)) / 2)) * 6378137.0  # noqa: E731
    span = max((e - w) / 360 * WEB_MERCATOR_WORLD_M, y(n) - y(s))
    return max(per_px * CELL_PX, span / MAX_CELLS_ACROSS)


def _values(params, name) -> list[str]:
    """A parameter given repeated and/or comma-separated, as one list without blanks."""
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def parse_since(raw: str | None, now: dt.datetime) -> dt.datetime | None:
    """today | <n>d (the last n days) | an ISO date or date-time (Asia/Shanghai when naive)."""
    if not raw:
        return None
    raw = raw.strip()
    local_now = now.astimezone(TZ)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if raw == "today":
        return midnight
    if m := _RELATIVE.match(raw):
        return now - dt.timedelta(days=int(m.group(1)))
    try:
        at = parse_datetime(raw)
        if at is None and (day := parse_date(raw)) is not None:
            at = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        at = None
    if at is None:
        raise ValidationError({"since": "today, <n>d (e.g. 7d), or an ISO 8601 date or date-time"})
    return at if at.tzinfo else at.replace(tzinfo=TZ)


def map_filters(params, now: dt.datetime) -> dict:
    """The query's filters, checked (400 naming the parameter)."""
    statuses = _values(params, "status")
    bad = [s for s in statuses if s != OPEN and s not in State.values]
    if bad:
        raise ValidationError({"status": f"unknown {', '.join(bad)}; one or more of {OPEN}, {', '.join(State.values)}"})
    clocks = _values(params, "clock")
    if bad := [c for c in clocks if c not in CLOCKS]:
        raise ValidationError({"clock": f"unknown {', '.join(bad)}; one or more of {', '.join(CLOCKS)}"})
    category = None
    if code := (params.get("category") or "").strip():
        category = Category.objects.filter(code=code).first()
        if category is None:
            raise ValidationError({"category": f"no category {code}"})
    return {"statuses": statuses, "clocks": clocks, "category": category, "since": parse_since(params.get("since"), now)}


def events_in_bbox(user, bbox, *, statuses=(), clocks=(), category=None, since=None, now=None):
    """The caller's visible events in the box with the filters, clock annotated, newest first."""
    now = now or clock.now()
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    qs = selectors.visible_events(user).filter(point__intersects=box)
    if statuses:
        wanted = set(statuses) - {OPEN}
        if OPEN in statuses:
            wanted |= set(State.values) - set(FINAL_STATES)
        qs = qs.filter(status__in=sorted(wanted))
    if category is not None:
        qs = qs.filter(category_id__in=category_and_descendants(category))
    if since is not None:
        qs = qs.filter(reported_at__gte=since)
    qs = selectors.with_clock(qs, now)
    if clocks:
        qs = qs.filter(clock__in=clocks)
    return qs.order_by("-reported_at", "-pk")


def map_layer(user, bbox, zoom: float | None = None, limit: int = MAP_LIMIT, **filters) -> str:
    """Points or cells of the caller's events in the box: cells when a zoom is given and it is below
    AGGREGATE_BELOW_ZOOM, or the box holds more matching events than `limit`; points otherwise
    (without a zoom, the newest `limit` with "truncated" saying whether more matched)."""
    qs = events_in_bbox(user, bbox, **filters)
    if zoom is not None and zoom < AGGREGATE_BELOW_ZOOM:
        return _cells(qs, bbox, zoom, limit)
    more = qs[limit:limit + 1].exists()  # one look decides cells and, for points, "truncated"
    if more and zoom is not None:
        return _cells(qs, bbox, zoom, limit)
    return _points(qs, limit, truncated=more)


def _points(qs, limit: int, truncated: bool) -> str:
    """GeoJSON of the markers, with "limit" and "truncated" (more events matched than sent)."""
    body = feature_collection(qs[:limit], "point", {
        "id": "id", "number": "number", "category": "category__code", "status": "status", "clock": "clock",
    })
    return f'{{"aggregated": false, "limit": {limit}, "truncated": {"true" if truncated else "false"}, {body.lstrip()[1:]}'


def _cells(qs, bbox, zoom: float, limit: int) -> str:
    """GeoJSON of the events in the box as square cells (one statement, GROUP BY in PostGIS): per
    occupied cell a point at the mean of its events, with "count", "green", "yellow", "red" and
    "clock" (the worst clock inside). Foreign members: "aggregated": true, "zoom", "cell_m" (the
    cell side in EPSG:3857 metres), "total" (the events counted) and "limit"."""
    qs = qs.order_by()
    inner = qs.values(gm_pt=F("point"), gm_clock=F("clock"))
    sql, params = inner.query.sql_with_params()
    size = cell_size_m(zoom, bbox)
    outer = f"""
        WITH e AS ({sql}),
        cells AS (
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE e.gm_clock = 'green') AS green,
                   count(*) FILTER (WHERE e.gm_clock = 'yellow') AS yellow,
                   count(*) FILTER (WHERE e.gm_clock = 'red') AS red,
                   ST_MakePoint(avg(ST_X(e.gm_pt)), avg(ST_Y(e.gm_pt))) AS pt,
                   gx, gy
            -- web-mercator metres by the formula (cheaper than ST_Transform on every point)
            FROM e, LATERAL (SELECT floor(radians(ST_X(e.gm_pt)) * 6378137.0 / %s)::bigint AS gx,
                                    floor(ln(tan(pi() / 4 + radians(ST_Y(e.gm_pt)) / 2)) * 6378137.0 / %s)::bigint AS gy) g
            GROUP BY gx, gy
        )
        SELECT json_build_object(
            'type', 'FeatureCollection', 'aggregated', true, 'zoom', %s::float8, 'cell_m', round(%s::numeric, 1),
            'limit', %s::int, 'total', COALESCE(sum(n), 0)::bigint,
            'features', COALESCE(json_agg(json_build_object(
                'type', 'Feature',
                'geometry', ST_AsGeoJSON(pt, 6)::json,
                'properties', json_build_object(
                    'count', n, 'green', green, 'yellow', yellow, 'red', red,
                    'clock', CASE WHEN red > 0 THEN 'red' WHEN yellow > 0 THEN 'yellow' ELSE 'green' END)
            ) ORDER BY n DESC, gx, gy), '[]'::json)
        )::text
        FROM cells"""
    with connections[qs.db].cursor() as cur:
        cur.execute(outer, [*params, size, size, zoom, size, limit])
        return cur.fetchone()[0]


@extend_schema(
    tags=["events"], responses={(200, GEOJSON): OpenApiTypes.OBJECT},
    parameters=[
        OpenApiParameter("bbox", str, required=True, description="west,south,east,north (WGS84), at most 2° each way"),
        OpenApiParameter("status", str, description=f"comma-separated states, or `{OPEN}` for every non-final state"),
        OpenApiParameter("category", str, description="category code; its sub-categories are included"),
        OpenApiParameter("clock", str, description="comma-separated: green, yellow, red"),
        OpenApiParameter("since", str, description="today, <n>d (last n days), or an ISO date / date-time"),
        OpenApiParameter("zoom", float, description=f"the map's zoom (0–24): below {AGGREGATE_BELOW_ZOOM}, or when more "
                         f"than {MAP_LIMIT} events match, the answer is square cells with counts (\"aggregated\": true)"),
    ],
)
@geojson_view
def event_map(request):
    """Event markers in a box (GeoJSON by PostGIS; only what a marker draws), newest first, at most
    1,000: the collection's "truncated" says when more matched. With zoom below 16, or more than
    1,000 matching, counts per square cell instead ("aggregated": true)."""
    now = clock.now()
    bbox = parse_bbox(request.query_params.get("bbox"), MAP_MAX_BBOX_DEGREES)
    zoom = parse_zoom(request.query_params.get("zoom"))
    filters = map_filters(request.query_params, now)
    return HttpResponse(map_layer(request.user, bbox, zoom=zoom, now=now, **filters), content_type=GEOJSON)


# --- what the map page passes to events_layer.js and event_panel.js ------------------------------

def page_config(user) -> dict:
    needs_note = {t.action for t in TRANSITIONS if t.needs_note}
    return {
        "api": {
            "map": reverse("events:map"),
            "detail": reverse("events:detail", args=[0]).replace("/0/", "/{id}/"),
            "actions": reverse("events:actions", args=[0]).replace("/0/", "/{id}/"),
            "assignees": reverse("events:assignees", args=[0]).replace("/0/", "/{id}/"),
        },
        "markercluster": static("vendor/leaflet.markercluster/dist/leaflet.markercluster.js"),
        "limit": MAP_LIMIT,
        "aggregateBelowZoom": AGGREGATE_BELOW_ZOOM,
        "maxBboxDegrees": MAP_MAX_BBOX_DEGREES,
        "statuses": [[v, str(label)] for v, label in State.choices],
        "openStatuses": [s for s in State.values if s not in FINAL_STATES],
        "categories": [[c.code, c.name] for c in Category.objects.filter(parent=None, active=True).order_by("code")],
        "categoryNames": dict(Category.objects.values_list("code", "name")),  # the markers' titles
        "urgencies": {v: str(label) for v, label in Urgency.choices},
        "actions": {v: {"label": str(label), "needsNote": v in needs_note} for v, label in Action.choices},
        "departments": [[d.code, d.name] for d in Department.objects.order_by("code")],
        "satisfactions": [[v, str(label)] for v, label in Satisfaction.choices],
        "text": {
            "layer": pgettext("event map", "Events"),
            "legend": pgettext("event map", "Event clock"),
            "green": pgettext("event clock", "in time"),
            "yellow": pgettext("event clock", "due soon"),
            "red": pgettext("event clock", "overdue"),
            "filter": pgettext("event map", "Filter events"),
            "status": _("Status"), "category": _("Category"), "time": pgettext("event map", "Reported"),
            "all": pgettext("event map", "all"), "open": pgettext("event map", "not closed"),
            "today": pgettext("event map", "today"), "days7": pgettext("event map", "last 7 days"),
            "days30": pgettext("event map", "last 30 days"),
            "shown": pgettext("event map", "{n} events"),
            "aggregated": pgettext("event map", "counts per area: zoom in for single events"),
            "zoomIn": pgettext("event map", "{n} events here: zoom in"),
            "truncated": pgettext("event map", "only the newest {n} shown: zoom in or filter"),
            "loadFailed": pgettext("event map", "Could not load the events"),
            "openFailed": pgettext("event map", "Could not open this event"),
            "notFound": pgettext("event map", "No such event in your area"),
            "number": pgettext("event map", "Number"), "urgency": _("Urgency"), "address": pgettext("event map", "Address"),
            "reporter": pgettext("event map", "Reporter"), "phone": pgettext("event map", "Phone"),
            "grid": pgettext("event map", "Grid"), "assignee": pgettext("event map", "Assignee"),
            "department": pgettext("event map", "Department"), "reportedAt": pgettext("event map", "Reported at"),
            "dueAt": pgettext("event map", "Due"), "clock": pgettext("event map", "Clock"),
            "description": pgettext("event map", "Description"), "photos": pgettext("event map", "Photos"),
            "timeline": pgettext("event map", "Timeline"), "actions": pgettext("event map", "Actions"),
            "noActions": pgettext("event map", "No action is open to you at this step."),
            "system": pgettext("event map", "system"), "note": pgettext("event map", "Note"),
            "noteRequired": pgettext("event map", "Note (required)"),
            "assignTo": pgettext("event map", "Assign to (username)"),
            "assignPick": pgettext("event map", "Assign to"),
            "onLeave": pgettext("event map", "on leave: goes to {name}"),
            "onLeaveAway": pgettext("event map", "on leave: goes to a deputy"),
            "assignFilter": pgettext("event map", "Find by name"),
            "assignMore": pgettext("event map", "More people can be assigned: type a name to find them."),
            "assignNoMatch": pgettext("event map", "Nobody matches."),
            "assignSearchFailed": pgettext("event map", "The search failed: try again."),
            "assignNobody": pgettext("event map", "Nobody you may name can take this event."),
            "toDepartment": pgettext("event map", "Department"), "satisfaction": pgettext("event map", "Satisfaction"),
            "submit": pgettext("event map", "Submit"), "cancel": pgettext("event map", "Cancel"),
            "done": pgettext("event map", "Done: {action}"),
            "conflict": pgettext("event map", "The event changed meanwhile (now: {status}); shown afresh. Check and try again."),
            "invalid": pgettext("event map", "Not sent"), "forbidden": pgettext("event map", "Not allowed"),
            "failed": pgettext("event map", "The action failed"),
            "paused": pgettext("event map", "clock paused"), "none": pgettext("event map", "none"),
            "assignedTo": pgettext("event map", "to {name}"),
        },
    }
