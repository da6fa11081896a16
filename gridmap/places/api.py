"""The building → floor → dwelling drill-down (楼盘表) as JSON: login required, scoped to the
caller; a record outside the caller's area is a 404, exactly like one that does not exist."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from gridmap.people import selectors as people_selectors

from . import selectors
from .models import Building, Dwelling


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def building_floors(request, pk: int):
    """GET → the building card and its floor table: floors (top first) × units → dwellings with
    their tags (floating, welfare, elderly_alone, and special for roles that see sensitive data)
    and the totals for the legend."""
    try:
        return Response(selectors.floor_table(request.user, pk))
    except Building.DoesNotExist:
        raise NotFound("no such building in your area") from None


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def dwelling(request, pk: int):
    """GET → the dwelling, its rental, its households and members with their current records,
    recent visits and linked events. ID numbers and phones are masked unless the role sees
    sensitive data; a full view is logged once per person shown."""
    try:
        return Response(people_selectors.dwelling_card(request.user, pk))
    except Dwelling.DoesNotExist:
        raise NotFound("no such dwelling in your area") from None
