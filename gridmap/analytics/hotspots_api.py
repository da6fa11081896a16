"""The hotspots endpoints and the offline map report (thin: parse the selection, read, answer).

    GET /api/analytics/hotspots/?unit=grid|bin|hex&weights=queen|knn|distance[&k=6][&distance=m][&size=500]
                                [&permutations=0]&<selection>            Gi* per unit, GeoJSON
    GET /api/analytics/hotspots/emerging/?weeks=4&<the same>              the last weeks against the weeks before
    GET /api/analytics/recurring/?months=6&min_events=2&<selection>      buildings and households that recur
    GET /analytics/report/map/?<selection>                                the standalone HTML map (attachment)

<selection> is selection.parse's: area, period or from/to, category (repeatable), status.
For the roles selection.may_read names; each over their own area.
"""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import cache, hotspots, report_map
from .selection import PARAMETERS, Readers, may_read, parse

HOTSPOT_PARAMETERS = [
    OpenApiParameter("unit", str, enum=list(hotspots.UNITS), description="grids (default), square bins or hexagons"),
    OpenApiParameter("weights", str, enum=list(hotspots.WEIGHTS),
                     description="neighbours: queen contiguity (default), k nearest, or a distance band"),
    OpenApiParameter("k", int, description="neighbours for weights=knn (1–30, default 6)"),
    OpenApiParameter("distance", float, description="band in metres for weights=distance (default: the least "
                                                    "that gives every unit a neighbour)"),
    OpenApiParameter("size", int, description="bin side or hexagon width (flat to flat) in metres for unit=bin or hex (50–10000, default 500)"),
    OpenApiParameter("permutations", int, description="0 (default): analytical p-values; up to 999 random permutations"),
]


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT}, parameters=[*HOTSPOT_PARAMETERS, *PARAMETERS])
@api_view(["GET"])
@permission_classes([Readers])
def hotspots_view(request):
    """Getis-Ord Gi* of the selection's events per grid or bin, as GeoJSON: per unit the count,
    z, two-sided p, FDR-adjusted q, confidence (99, 95, 90 or 0) and class (hot, cold, none);
    "method" says how, in words, "boundaries" which boundaries the counts use."""
    selection = parse(request)
    params = hotspots.parse_params(request.query_params)
    return Response(cache.answer("hotspots", selection, lambda: hotspots.hotspots(selection, params), **params.as_dict()))


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT},
               parameters=[OpenApiParameter("weeks", int, description="length of each window (1–26, default 4)"),
                           *HOTSPOT_PARAMETERS, *PARAMETERS])
@api_view(["GET"])
@permission_classes([Readers])
def emerging_view(request):
    """Gi* over the last `weeks` weeks (up to the period's end, or now while it is open) and over
    the same length before, per unit with the change and its trend (new, intensifying,
    persistent, cooling, none); the rule is in "method"."""
    selection = parse(request)
    params = hotspots.parse_params(request.query_params)
    weeks = hotspots.number_param(request.query_params, "weeks", 1, 26, int, 4)
    return Response(cache.answer("hotspots_emerging", selection, lambda: hotspots.emerging(selection, params, weeks),
                            weeks=weeks, **params.as_dict()))


@extend_schema(tags=["analytics"], responses={200: OpenApiTypes.OBJECT},
               parameters=[OpenApiParameter("months", int, description="calendar months up to the period's last (1–24, default 6)"),
                           OpenApiParameter("min_events", int, description="events at least (2–100, default 2)"),
                           *PARAMETERS])
@api_view(["GET"])
@permission_classes([Readers])
def recurring_view(request):
    """Buildings and households with at least `min_events` events of the selected categories in
    the last `months` months, worst first, each with its events (number, category, time, status)."""
    selection = parse(request)
    months = hotspots.number_param(request.query_params, "months", 1, 24, int, 6)
    min_events = hotspots.number_param(request.query_params, "min_events", 2, 100, int, 2)
    return Response(cache.answer("recurring", selection, lambda: hotspots.recurring(selection, months, min_events),
                            months=months, min_events=min_events))


@login_required
def report_map_view(request):
    """GET /analytics/report/map/?<selection> → the area's map report for the period as one HTML
    file that opens offline (attachment)."""
    if not may_read(request.user):
        raise PermissionDenied
    try:
        selection = parse(request)
        params = hotspots.parse_params(request.GET)
    except ValidationError as exc:
        return JsonResponse(exc.detail, status=400)
    html = cache.answer("report_map", selection, lambda: report_map.render(selection, params), **params.as_dict())
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report_map.filename(selection)}"'
    return response


urlpatterns = [
    path("api/analytics/hotspots/", hotspots_view, name="hotspots"),
    path("api/analytics/hotspots/emerging/", emerging_view, name="hotspots-emerging"),
    path("api/analytics/recurring/", recurring_view, name="recurring"),
    path("analytics/report/map/", report_map_view, name="report-map"),
]
