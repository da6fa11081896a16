"""The dashboards endpoints and pages (thin: parse the selection, read, answer).

    GET /api/analytics/dashboard/?area=&period=…            every figure and table (JSON)
    GET /api/analytics/dashboard/export/?table=<name>|all&format=xlsx|csv&…   the tables as a file
    /analytics/dashboard/?area=&period=…                    the page (ECharts, drill-down)
    /analytics/report/?area=&period=2026-11                 the printable monthly report
"""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from gridmap.core.downloads import FileNegotiation

from . import cache, dashboards, selection
from .tables import FORMATS, Table, export


NOT_YOURS = OpenApiResponse(OpenApiTypes.OBJECT, description="an area outside yours")


def _check_role(user) -> None:
    if not selection.may_read(user):
        raise PermissionDenied(_("Statistics are for the centre, leaders, area staff and grid leaders."))


def _answer(sel: selection.Selection) -> dict:
    """The dashboard from the cache (kept per language: it carries its labels)."""
    return cache.answer("dashboard", sel, lambda: dashboards.dashboard(sel))


class DashboardView(APIView):
    """The dashboard of an area for a period: key figures (on-time acceptance and closure,
    handling time, overdue, returns, reopenings, satisfaction), events by category, status,
    source channel and month, where disputes were settled, a row per child area, the worst
    grids, the overdue events and (for roles that may see them) the population figures. Each
    table says which boundaries it uses. A closed period's answer is cached."""

    @extend_schema(tags=["analytics"], parameters=selection.PARAMETERS,
                   responses={200: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: NOT_YOURS})
    def get(self, request):
        _check_role(request.user)
        return Response(_answer(selection.parse(request)))


class DashboardExportView(APIView):
    """One table of the dashboard (or all of them) as XLSX or CSV: the numbers the page shows."""

    content_negotiation_class = FileNegotiation

    @extend_schema(tags=["analytics"], parameters=[
        *selection.PARAMETERS,
        OpenApiParameter("table", str, description="a table's name (by_category, by_status, by_channel, satisfaction, settlement, "
                                                   "trend, children, worst, overdue, kpis, residence, …) or all; default: all"),
        OpenApiParameter("format", str, enum=list(FORMATS), description="default: xlsx"),
    ], responses={**{(200, media.split(";")[0]): OpenApiTypes.BINARY for media in FORMATS.values()},
                  400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: NOT_YOURS})
    def get(self, request):
        _check_role(request.user)
        sel = selection.parse(request)
        fmt = selection.choice(request.query_params, "format", FORMATS, "xlsx")
        data = _answer(sel)
        tables = [Table(t["name"], t["title"], [(c["key"], c["label"]) for c in t["columns"]], t["rows"], t["note"]) for t in data["tables"]]
        name = request.query_params.get("table", "all")
        if name != "all":
            tables = [t for t in tables if t.name == name]
            if not tables:
                raise ValidationError({"table": _("no such table: %(name)s (one of: %(names)s, all)") % {
                    "name": name[:40], "names": ", ".join(t["name"] for t in data["tables"])}})
        area = sel.area.code if sel.area else "all"
        return export(tables, fmt, f"dashboard-{area}-{sel.period.key}" + ("" if name == "all" else f"-{name}"))


# --- pages --------------------------------------------------------------------------------------

def _page_selection(request, params=None):
    """The page's selection, or the 400 page naming what is wrong (404 for an area not theirs)."""
    _check_role(request.user)
    try:
        return selection.parse(request, params), None
    except ValidationError as e:
        return None, HttpResponseBadRequest(" ".join(f"{k}: {v}" for k, v in _flat(e.detail)), content_type="text/plain; charset=utf-8")


def _flat(detail):
    for key, value in (detail.items() if isinstance(detail, dict) else [("", detail)]):
        yield key, " ".join(str(v) for v in value) if isinstance(value, list) else str(value)


KEPT = ("period", "from", "to", "category", "status")  # what a drill-down or another view of the area keeps


def _links(params) -> dict:
    kept = QueryDict(mutable=True)
    for key in KEPT:
        if values := [v for v in params.getlist(key) if v]:
            kept.setlist(key, values)
    return {
        "dashboard": reverse("analytics:dashboard"), "report": reverse("analytics:report"),
        "api": reverse("analytics:dashboard-api"), "export": reverse("analytics:dashboard-export"),
        "mapReport": reverse("analytics:report-map"), "query": kept.urlencode(),  # without the area: each link adds its own
    }


@login_required
def dashboard_page(request):
    """The dashboard page: a shell the module (dashboard.js) fills from the API."""
    sel, refused = _page_selection(request)
    if refused:
        return refused
    config = {"links": _links(request.GET), "selection": sel.as_dict(), "text": _page_text()}
    return render(request, "analytics/dashboard.html", {"sel": sel, "config": config, "links": config["links"],
                                                       "breadcrumbs": dashboards.breadcrumbs(sel.area)})


@login_required
def report_page(request):
    """The monthly report of an area, for print (A4): last month unless a period is asked for."""
    params = request.GET
    if not any(params.get(k) for k in ("period", "from", "to")):
        params = QueryDict(mutable=True)
        params.update(request.GET)
        params["period"] = "last_month"
    sel, refused = _page_selection(request, params)
    if refused:
        return refused
    data = _answer(sel)
    return render(request, "analytics/monthly_report.html", {
        "sel": sel, "data": data, "links": _links(params), "kpis": [(label, data["kpis"][k]) for k, label in dashboards.kpi_labels()],
        "trend": _trend_bars(data),
        "tables": [{**t, "cells": [[r.get(c["key"]) for c in t["columns"]] for r in t["rows"]]}
                   for t in data["tables"] if t["name"] not in ("kpis", "trend")],
    })


def _trend_bars(data: dict) -> dict | None:
    """The trend table with each month's bar length (% of the busiest month), for the print page."""
    trend = next((t for t in data["tables"] if t["name"] == "trend"), None)
    if trend is None:
        return None
    top = max((r["events"] for r in trend["rows"]), default=0) or 1
    return {**trend, "bars": [{**r, "width": round(100 * r["events"] / top)} for r in trend["rows"]]}


def _page_text() -> dict:
    """The module's words, in the page's language."""
    return {
        "failed": _("Could not load the figures"), "noData": _("No events in this selection."),
        "events": _("Events"), "closed": _("Closed"), "overdue": _("Overdue now"), "share": _("Share (%)"),
        "pattern": _("Pattern (%)"), "exportCsv": _("CSV"), "exportXlsx": _("XLSX"),
    }


urlpatterns = [
    path("api/analytics/dashboard/", DashboardView.as_view(), name="dashboard-api"),
    path("api/analytics/dashboard/export/", DashboardExportView.as_view(), name="dashboard-export"),
    path("analytics/dashboard/", dashboard_page, name="dashboard"),
    path("analytics/report/", report_page, name="report"),
]
