"""The events layer of the map page: markers by bounding box, and what the page needs to draw
them and the event panel (web/static/gridmap/events_layer.js, event_panel.js).

GET /api/events/map/?bbox=w,s,e,n[&status=][&category=][&clock=][&since=] answers a GeoJSON
FeatureCollection written by PostGIS with only what a marker draws (id, number, category,
status, clock colour), scoped by selectors.visible_events, newest first and at most
MAP_LIMIT features; the collection says so in its foreign members "limit" and "truncated".
"""
import datetime as dt
import math
import re

from django.contrib.gis.geos import Polygon
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.exceptions import ValidationError

from gridmap.core.geojson import feature_collection
from gridmap.grids.api import GEOJSON, RENDERERS

from . import selectors
from .calendar import TZ
from .filters import category_and_descendants
from .models import Category, Department, Event, Satisfaction, Urgency
from .workflow import FINAL_STATES, TRANSITIONS, Action, State

MAP_LIMIT = 2000  # features per request; more in the box: "truncated": true (zoom in or filter)
MAP_MAX_BBOX_DEGREES = 2.0  # a whole district fits; the limit keeps the answer small
CLOCKS = ("green", "yellow", "red")
OPEN = "open"  # status=open: every state that is not final
_RELATIVE = re.compile(r"^(\d{1,4})d$")


def parse_bbox(raw: str | None) -> tuple[float, float, float, float]:
    """'west,south,east,north' in WGS84 degrees → a checked tuple, or a 400 saying why."""
    if not raw:
        raise ValidationError({"bbox": "required: bbox=west,south,east,north (WGS84 degrees)"})
    try:
        w, s, e, n = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValidationError({"bbox": "must be four numbers: west,south,east,north"}) from None
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise ValidationError({"bbox": "coordinates must be finite numbers"})
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise ValidationError({"bbox": "coordinates out of range (longitude ±180, latitude ±90)"})
    if w >= e or s >= n:
        raise ValidationError({"bbox": "west must be less than east and south less than north"})
    if e - w > MAP_MAX_BBOX_DEGREES or n - s > MAP_MAX_BBOX_DEGREES:
        raise ValidationError({"bbox": f"too large: at most {MAP_MAX_BBOX_DEGREES}° each way; zoom in"})
    return w, s, e, n


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
    now = now or timezone.now()
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    # scoping as a semi-join: visible_events may be DISTINCT, which the GeoJSON query must not be
    qs = Event.objects.filter(pk__in=selectors.visible_events(user).values("pk"), point__intersects=box)
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


def event_layer(user, bbox, limit: int = MAP_LIMIT, **filters) -> str:
    """GeoJSON of the markers, with "limit" and "truncated" (more events matched than sent)."""
    qs = events_in_bbox(user, bbox, **filters)
    body = feature_collection(qs[:limit], "point", {
        "id": "id", "number": "number", "category": "category__code", "category_name": "category__name",
        "status": "status", "clock": "clock",
    })
    truncated = qs[limit:limit + 1].exists()
    return f'{{"limit": {limit}, "truncated": {"true" if truncated else "false"}, {body.lstrip()[1:]}'


@extend_schema(
    tags=["events"], responses={(200, GEOJSON): OpenApiTypes.OBJECT},
    parameters=[
        OpenApiParameter("bbox", str, required=True, description="west,south,east,north (WGS84), at most 2° each way"),
        OpenApiParameter("status", str, description=f"comma-separated states, or `{OPEN}` for every non-final state"),
        OpenApiParameter("category", str, description="category code; its sub-categories are included"),
        OpenApiParameter("clock", str, description="comma-separated: green, yellow, red"),
        OpenApiParameter("since", str, description="today, <n>d (last n days), or an ISO date / date-time"),
    ],
)
@api_view(["GET"])
@renderer_classes(RENDERERS)
def event_map(request):
    """Event markers in a box (GeoJSON by PostGIS; only what a marker draws), newest first, at most
    2,000: the collection's "truncated" says when more matched."""
    now = timezone.now()
    bbox = parse_bbox(request.query_params.get("bbox"))
    filters = map_filters(request.query_params, now)
    return HttpResponse(event_layer(request.user, bbox, now=now, **filters), content_type=GEOJSON)


# --- what the map page passes to events_layer.js and event_panel.js ------------------------------

def page_config(user) -> dict:
    needs_note = {t.action for t in TRANSITIONS if t.needs_note}
    return {
        "api": {
            "map": reverse("events:map"),
            "detail": reverse("events:detail", args=[0]).replace("/0/", "/{id}/"),
            "actions": reverse("events:actions", args=[0]).replace("/0/", "/{id}/"),
        },
        "markercluster": static("vendor/leaflet.markercluster/dist/leaflet.markercluster.js"),
        "limit": MAP_LIMIT,
        "maxBboxDegrees": MAP_MAX_BBOX_DEGREES,
        "statuses": [[v, str(label)] for v, label in State.choices],
        "openStatuses": [s for s in State.values if s not in FINAL_STATES],
        "categories": [[c.code, c.name] for c in Category.objects.filter(parent=None, active=True).order_by("code")],
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
