"""The building → floor → dwelling → person drill-down (楼盘表) as JSON: login required, scoped to
the caller, masked or logged as the role requires; a record outside the caller's area is a 404,
exactly like one that does not exist."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from gridmap.places.models import Building, Dwelling

from . import selectors
from .models import Person


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
        return Response(selectors.dwelling_card(request.user, pk))
    except Dwelling.DoesNotExist:
        raise NotFound("no such dwelling in your area") from None


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def person(request, pk: int):
    """GET → the person with every dated record (employment, welfare, special groups as the role
    allows), household, dwelling, recent visits and linked events."""
    try:
        return Response(selectors.person_card(request.user, pk, history=True))
    except Person.DoesNotExist:
        raise NotFound("no such person in your area") from None
