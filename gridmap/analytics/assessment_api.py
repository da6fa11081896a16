"""The assessment endpoints and page (thin: parse the selection, read, answer).

    GET /api/analytics/assessment/?level=worker|grid|community|street|department&period=2026-11&area=…
    GET /api/analytics/assessment/export/?…&format=xlsx|csv
    GET /analytics/assessment/?…   the page: month, level tabs, ranking with yellow cards, exports
"""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import urlencode
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from gridmap.core.downloads import FileNegotiation

from . import assessment, cache, selection, tables
from .models import Unit

PARAMETERS = [
    OpenApiParameter("level", str, enum=Unit.values, description="who is assessed (default: worker)"),
    OpenApiParameter("period", str, description="a month: 2026-11, this_month or last_month (default: this month)"),
    OpenApiParameter("area", str, description="area id or code (default: the user's own area)"),
    OpenApiParameter("category", str, many=True, description="category codes, each with its sub-categories"),
]


def _level(params) -> str:
    return selection.choice(params, "level", Unit.values, Unit.WORKER)


def _answer(request, params) -> dict:
    """The cached assessment the request asks for (labels in the request's language)."""
    chosen = selection.parse(request, params)
    level = _level(params)
    assessment.check_month(chosen.period)
    scheme = assessment.scheme_for(chosen.period)
    return cache.answer("assessment", chosen, lambda: assessment.ranking(chosen, level, scheme),
                        level=level, scheme=scheme.fingerprint)


@extend_schema(parameters=PARAMETERS, responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
@permission_classes([selection.Readers])
def ranking(request):
    """The month's scores at one level, ranked, with their components, the yellow cards (worst
    first), the scheme and the definitions (analytics.assessment)."""
    return Response(_answer(request, request.query_params))


class Export(APIView):
    """The ranking and the yellow cards as an XLSX or CSV file, the same numbers as the API's."""

    permission_classes = [selection.Readers]
    content_negotiation_class = FileNegotiation

    @extend_schema(
        parameters=[*PARAMETERS, OpenApiParameter("format", str, enum=list(tables.FORMATS), description="file type (default: xlsx)")],
        responses={(200, media): OpenApiTypes.BINARY for media in tables.FORMATS.values()})
    def get(self, request):
        params = request.query_params
        fmt = selection.choice(params, "format", tables.FORMATS, "xlsx")  # before computing anything
        found = _answer(request, params)
        name = f"assessment-{found['level']}-{found['selection']['period']['label']}"
        return tables.export(assessment.tables_of(found), fmt, name)


def _cells(table: dict) -> dict:
    """A table with each row's values in column order, for the template."""
    keys = [c["key"] for c in table["columns"]]
    rows = [{"code": r["code"], "yellow": bool(r["yellow_card"]), "cells": [(k, r.get(k)) for k in keys]} for r in table["rows"]]
    return {**table, "rows": rows}


@login_required
def page(request):
    """The assessment page, rendered on the server from the same answer as the API."""
    if not selection.may_read(request.user):
        raise PermissionDenied
    try:
        found, error = _answer(request, request.GET), None
    except ValidationError as e:
        found, error = None, "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in e.detail.items())
    query = {k: v for k, v in request.GET.items() if k in ("period", "area")}
    level = request.GET.get("level") if request.GET.get("level") in Unit.values else Unit.WORKER
    context = {
        "found": found, "error": error, "shown": [_cells(t) for t in found["tables"]] if found else [], "level": level, "period": request.GET.get("period", ""),
        "tabs": [(u, label, "?" + urlencode({**query, "level": u})) for u, label in Unit.choices],
        "exports": [(fmt.upper(), reverse("analytics:assessment-export") + "?" + urlencode({**query, "level": level, "format": fmt}))
                    for fmt in tables.FORMATS],
    }
    return render(request, "analytics/assessment.html", context, status=400 if error else 200)


urlpatterns = [
    path("api/analytics/assessment/", ranking, name="assessment-api"),
    path("api/analytics/assessment/export/", Export.as_view(), name="assessment-export"),
    path("analytics/assessment/", page, name="assessment"),
]
