"""The map's layers as GeoJSON and vector tiles, its search and "my patch" (login required,
scoped to the caller). Thin: parsing here, queries in the selectors, the JSON text itself written
by PostGIS."""
import datetime as dt

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from gridmap.core.basemap import BUILDING_TILE_ZOOMS
from gridmap.core.bbox import parse_bbox
from gridmap.core.geojson import GEOJSON, geojson_view
from gridmap.grids.models import Level
from gridmap.places import selectors as place_selectors

from . import selectors
from .patch import OVERVIEW_OUTLINE, area_overview, patch_summary
from .search import search as run_search

# A box wider or taller than this is refused (≈ 15 km): the map itself takes buildings as tiles.
MAX_BBOX_DEGREES = 0.15
MVT = "application/vnd.mapbox-vector-tile"


@geojson_view
def areas(request):
    """GET ?level=district|street|community|grid[&layer=code] → the visible areas of that level.
    GET ?level=district|street|community&overview=1 → the same areas for the low zooms: simplified
    outlines, each with its counts, a label point and its bbox (map.patch.area_overview).
    GET ?level=…&as_of=YYYY-MM-DD → the areas as drawn at the end of that day (Asia/Shanghai): the
    boundary version then in force, with its number."""
    level = request.query_params.get("level", Level.GRID)
    if level not in Level.values:
        raise ValidationError({"level": f"one of {', '.join(Level.values)}"})
    if request.query_params.get("overview") in ("1", "true"):
        if level not in OVERVIEW_OUTLINE:
            raise ValidationError({"overview": f"for the levels {', '.join(OVERVIEW_OUTLINE)} only"})
        return HttpResponse(area_overview(request.user, level), content_type=GEOJSON)
    layer = request.query_params.get("layer") or None
    if request.query_params.get("as_of"):
        try:
            day = dt.date.fromisoformat(request.query_params["as_of"])
        except ValueError:
            raise ValidationError({"as_of": "a date, YYYY-MM-DD"}) from None
        return HttpResponse(selectors.area_layer_as_of(request.user, level, layer, day), content_type=GEOJSON)
    return HttpResponse(selectors.area_layer(request.user, level, layer), content_type=GEOJSON)


@geojson_view
def buildings(request):
    """GET ?bbox=w,s,e,n → the visible building footprints in the box."""
    bbox = parse_bbox(request.query_params.get("bbox"), MAX_BBOX_DEGREES)
    return HttpResponse(place_selectors.building_layer(request.user, bbox), content_type=GEOJSON)


@gzip_page
@require_GET
def building_tile(request, z: int, x: int, y: int):
    """GET /api/map/buildings/{z}/{x}/{y}.mvt → the visible buildings of that web-mercator tile
    as a Mapbox Vector Tile (layer "buildings", footprints unclipped; see
    places.selectors.building_tile). A plain view: tiles come by the dozen, and the framework's
    negotiation would cost more than some tiles' query. Private to the caller (scoped), cached
    by their browser for a minute."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=403)
    if z not in BUILDING_TILE_ZOOMS or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return JsonResponse({"tile": f"zoom {BUILDING_TILE_ZOOMS[0]}–{BUILDING_TILE_ZOOMS[-1]} and 0 ≤ x, y < 2^zoom;"
                                     f" got {z}/{x}/{y}"}, status=400, json_dumps_params={"ensure_ascii": False})
    response = HttpResponse(place_selectors.building_tile(request.user, z, x, y), content_type=MVT)
    response["Cache-Control"] = "private, max-age=60"
    patch_vary_headers(response, ["Cookie"])  # another login in the same browser gets its own tiles
    return response


@geojson_view
def facilities(request):
    """GET ?bbox=w,s,e,n → the visible facilities (部件) in the box (same bbox rules as buildings)."""
    bbox = parse_bbox(request.query_params.get("bbox"), MAX_BBOX_DEGREES)
    return HttpResponse(place_selectors.facility_layer(request.user, bbox), content_type=GEOJSON)


@geojson_view
def organisations(request):
    """GET ?bbox=w,s,e,n → the visible organisations (单位) in the box (same bbox rules as buildings)."""
    bbox = parse_bbox(request.query_params.get("bbox"), MAX_BBOX_DEGREES)
    return HttpResponse(place_selectors.organisation_layer(request.user, bbox), content_type=GEOJSON)


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def search(request):
    """GET ?q=… → at most 20 areas, buildings, people, organisations and events in the caller's
    area, grouped by kind, each with where to fly and what to open (see map/search.py)."""
    return Response(run_search(request.user, request.query_params.get("q")))


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def patch(request):
    """GET → the caller's patch (grid, area or whole district) with its counts, unread messages
    and due list (see map/patch.py)."""
    return Response(patch_summary(request.user))
