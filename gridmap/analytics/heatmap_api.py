"""The heatmap endpoints and page (thin: parse the selection, read, answer).

    GET /api/analytics/bins/?bbox=w,s,e,n&zoom=z[&layer=events|special_groups|welfare]&<selection>
    GET /api/analytics/points/?bbox=w,s,e,n&<selection>        the point-density view (events)
    GET /api/analytics/grids/?[layer=…]&<selection>[&export=csv|xlsx]   counts and rates per grid
    GET /api/analytics/grids/outlines/?<selection>               the area's grids (GeoJSON)
    GET /analytics/                                               the leaders' analytics map

<selection> is selection.parse's: area, period or from/to, category (repeatable), status.
Every answer goes through cache.answer (keyed by the language too: answers carry text).
"""
import math

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from gridmap.core.basemap import base_map
from gridmap.core.bbox import parse_bbox
from gridmap.core.geojson import GEOJSON
from gridmap.events.map_layer import parse_zoom
from gridmap.events.models import Category
from gridmap.grids.models import Level
from gridmap.grids.selectors import visible_areas, visible_extent

from . import cache, heatmap, tables
from .selection import PARAMETERS, STATUS_WORDS, Selection, boundaries, choice, parse

BINS_MAX_DEGREES = 3.0  # a district with room around it; a wider view is clamped by the page
POINTS_MAX_DEGREES = 0.1  # a few streets: the point-density view is for street zoom
POINTS_MIN_ZOOM = 16  # the page switches from bins to points here
LAYER_PARAMETER = OpenApiParameter(
    "layer", str, enum=list(heatmap.LAYERS),
    description="what is counted: events (default), or persons of special groups or with welfare where they live "
                "(roles that see sensitive records only; small bins and grids are suppressed)")
BBOX_PARAMETER = OpenApiParameter("bbox", str, required=True, description="west,south,east,north (WGS84 degrees)")


def _layer(request, selection: Selection) -> str:
    layer = choice(request.query_params, "layer", heatmap.LAYERS, heatmap.EVENTS)
    if layer in heatmap.PEOPLE_LAYERS and not selection.sensitive:
        raise PermissionDenied(_("Counts of special groups and welfare are not shown to your role."))
    return layer


def _zoom(request) -> int:
    zoom = parse_zoom(request.query_params.get("zoom"))
    if zoom is None:
        raise ValidationError({"zoom": _("required: the map's zoom, 0 to 24")})
    return math.floor(zoom)  # one bin size per whole zoom: fractional zooms share bins and cache entries


def _cached(name: str, selection: Selection, compute, **params):
    """cache.answer, per language too: the answers carry translated text (the boundaries' rule)."""
    return cache.answer(name, selection, compute, **params)


def _framed(selection: Selection, answer: dict) -> dict:
    """An answer with the selection it is for, the boundaries its figures use and the period's
    months (the time slider's steps)."""
    return {"selection": selection.as_dict(), "boundaries": boundaries(selection),
            "months": [m.as_dict() for m in selection.period.months()], **answer}


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT},
               parameters=[BBOX_PARAMETER, OpenApiParameter("zoom", float, required=True, description="the map's zoom, 0–24"),
                           LAYER_PARAMETER, *PARAMETERS])
@api_view(["GET"])
def bins(request):
    """Counts per square bin of the box, the bins sized to the zoom (about 32 screen pixels) in a
    local metric plane: "bin" gives their size in metres and degrees, "bins" the occupied ones as
    [gx, gy, count] — bin (gx, gy) spans gx·dlon … (gx+1)·dlon east, gy·dlat … (gy+1)·dlat north;
    "months" are the period's months (the time slider's steps; every answer here has them).
    People layers: bins of fewer than "min_persons" are left out and counted in "suppressed"."""
    selection = parse(request)
    layer = _layer(request, selection)
    bbox = parse_bbox(request.query_params.get("bbox"), BINS_MAX_DEGREES)
    zoom = _zoom(request)
    return Response(_cached("heat_bins", selection, lambda: _framed(selection, heatmap.bins(selection, layer, bbox, zoom)),
                                 layer=layer, bbox=bbox, zoom=zoom))


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT}, parameters=[BBOX_PARAMETER, *PARAMETERS])
@api_view(["GET"])
def points(request):
    """The events of a street-sized box (at most 0.1° each way) as [lat, lon], newest first, at most
    "limit"; "truncated" says when more matched (zoom in or filter)."""
    selection = parse(request)
    bbox = parse_bbox(request.query_params.get("bbox"), POINTS_MAX_DEGREES)
    return Response(_cached("heat_points", selection, lambda: _framed(selection, heatmap.points(selection, bbox)), bbox=bbox))


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT},
               parameters=[LAYER_PARAMETER, *PARAMETERS,
                           OpenApiParameter("export", str, enum=list(tables.FORMATS), description="the table as a file")])
@api_view(["GET"])
def grids(request):
    """Per grid of the area: the count, today's residents and households, the count per 1,000
    residents and per 100 households (null where a grid has none: "no residents", never
    infinite). People layers: a grid
    of fewer than "min_persons" has its figures emptied and "suppressed": true. With export=csv or
    xlsx, the table as a file."""
    selection = parse(request)
    layer = _layer(request, selection)
    if fmt := request.query_params.get("export"):
        table = _cached("heat_grid_table", selection, lambda: heatmap.grid_table(selection, layer), layer=layer)
        return tables.export([table], fmt, f"grids-{layer}-{selection.period.key}")
    return Response(_cached("heat_grids", selection, lambda: _framed(selection, heatmap.grids(selection, layer)), layer=layer))


@extend_schema(tags=["analytics"], responses={(200, GEOJSON): OpenApiTypes.OBJECT}, parameters=[OpenApiParameter("area", str)])
@api_view(["GET"])
def outlines(request):
    """The area's grids as drawn today, GeoJSON (id, code, name): the choropleth's shapes."""
    selection = parse(request)
    return HttpResponse(_cached("heat_outlines", selection, lambda: heatmap.outlines(selection)), content_type=GEOJSON)


@login_required
def page(request):
    """GET /analytics/ → the leaders' analytics map: heat bins, street-level point density, the
    per-grid choropleth, hotspots, a time slider; the filters go to the API as query params."""
    user = request.user
    areas = visible_areas(user).filter(level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY]).order_by("path")
    own = user.area
    config = {
        **base_map(visible_extent(user)),
        "api": {
            "bins": reverse("analytics:bins"), "points": reverse("analytics:points"),
            "grids": reverse("analytics:grids"), "outlines": reverse("analytics:outlines"),
            "dashboard": reverse("analytics:dashboard"),
        },
        "heatScript": static("vendor/leaflet.heat/dist/leaflet-heat.js"),
        "pointsMinZoom": POINTS_MIN_ZOOM,
        "maxBboxDegrees": BINS_MAX_DEGREES, "pointsMaxBboxDegrees": POINTS_MAX_DEGREES,
        "sensitive": user.sees_sensitive,
        "categories": [[c.code, c.name] for c in Category.objects.filter(parent=None, active=True).order_by("code")],
        "text": page_text(),
    }
    context = {
        "config": config,
        "areas": [own] if own is not None and own.level == Level.GRID else list(areas),
        "own_area": own,
        "statuses": list(STATUS_WORDS),
    }
    return render(request, "analytics/map.html", context)


def page_text() -> dict:
    """What the page's script writes (web/static/gridmap/analytics_map.js); "{n}", "{month}" … are
    filled in by the page. The filters' labels are in the template."""
    return {
        "bins": _("Heat bins"), "choropleth": _("Grids"), "density": _("Point density"),
        "legendEvents": _("Events per bin"), "legendPersons": _("Persons per bin"),
        "legendGrid": _("Per grid"), "noResidents": _("no residents"), "noHouseholds": _("no households"),
        "suppressedGrid": _("fewer than {n}: not shown"),
        "suppressed": _("{count} bins or grids with fewer than {n} persons not shown"),
        "count": _("Count"), "residents": _("Residents"), "households": _("Households"),
        "per1000": _("Per 1,000 residents"), "per100": _("Per 100 households"),
        "dashboard": _("Dashboard of this grid"),
        "allMonths": _("Whole period"), "month": _("Month {month}"),
        "total": _("{n} in view"), "pointsShown": _("{n} events (point density)"),
        "truncated": _("only the newest {n} shown: zoom in or filter"),
        "loadFailed": _("Could not load the figures"), "loading": _("Loading…"),
        "boundaries": _("Boundaries"),
    }


urlpatterns = [
    path("analytics/", page, name="map"),
    path("api/analytics/bins/", bins, name="bins"),
    path("api/analytics/points/", points, name="points"),
    path("api/analytics/grids/", grids, name="grids"),
    path("api/analytics/grids/outlines/", outlines, name="outlines"),
]
