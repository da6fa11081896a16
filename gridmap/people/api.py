"""A person's full record as JSON (login required, scoped, masked or logged as the role requires)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from . import selectors
from .models import Person


@extend_schema(responses={200: OpenApiTypes.OBJECT})  # a JSON object; its shape is the selector's
@api_view(["GET"])
def person(request, pk: int):
    """GET → the person with every dated record (employment, welfare, special groups as the role
    allows), household, dwelling, recent visits and linked events."""
    try:
        return Response(selectors.person_card(request.user, pk, history=True))
    except Person.DoesNotExist:
        raise NotFound("no such person in your area") from None
