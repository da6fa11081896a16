"""The boundary editor's API (login required, scoped to the caller): the sheet a drawing is made
on, checks while drawing, the impact preview, the commit, a grid's history, and whole boundary
sets imported from a file and exported as of a date. Thin: parsing and scoping here, the proposal
in proposals.py, the checks in topology.py, the write in services.py, the files in
boundary_files.py."""

import datetime as dt
from dataclasses import asdict

import shapely
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gridmap.core import clock, geo
from gridmap.core.downloads import FileNegotiation
from gridmap.core.io.reading import FileRefused

from . import boundary_files, proposals, selectors, services
from .followers import POLICIES
from .models import Area, GridLayer, Level, Operation
from .topology import invalid_spot


class OperationSerializer(serializers.Serializer):
    """One editor operation. draw: parent, layer, shape[, name]; reshape: grid, shape; split: grid,
    line; merge: grids[, keep]; delete: grid[, target]; import: parent, layer, features (a whole
    set, as /api/editor/import/ answers it). Shapes and lines are GeoJSON geometries in lon/lat.
    base_versions: {grid id: version} as the editor loaded them (from the sheet)."""

    operation = serializers.ChoiceField(choices=Operation.values)
    grid = serializers.IntegerField(required=False)
    grids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=20)
    keep = serializers.IntegerField(required=False)
    target = serializers.IntegerField(required=False)
    parent = serializers.IntegerField(required=False)
    layer = serializers.CharField(required=False, max_length=40)
    shape = serializers.JSONField(required=False)
    line = serializers.JSONField(required=False)
    features = serializers.JSONField(required=False, help_text="import: a GeoJSON FeatureCollection, "
                                     "properties code and name (either may be blank)")
    name = serializers.CharField(required=False, max_length=100, allow_blank=True)
    base_versions = serializers.DictField(child=serializers.IntegerField(), required=False)

    def validate_base_versions(self, value: dict) -> dict:
        if not all(str(k).isdigit() and len(str(k)) < 19 for k in value):
            raise serializers.ValidationError("keys are grid ids")
        return {int(k): v for k, v in value.items()}


class CommitSerializer(OperationSerializer):
    reason = serializers.CharField(max_length=300)
    effective_from = serializers.DateTimeField(required=False, help_text="default: now; not in the future")
    policy = serializers.ChoiceField(choices=list(POLICIES), default="default",
                                     help_text="; ".join(f"{k}: {v}" for k, v in POLICIES.items()))

    def validate_effective_from(self, value):
        if value.year < 2000:  # grid management began in 2004; older dates are typing errors
            raise serializers.ValidationError("a date from 2000 on")
        return value.astimezone(dt.timezone.utc)


def _geometry(data: dict, key: str, kinds: tuple[str, ...]):
    value = data.get(key)
    if value is None:
        raise ValidationError({key: "required for this operation"})
    try:
        geom = shapely.geometry.shape(value)
    except Exception as exc:  # noqa: BLE001 — any malformed GeoJSON is the client's error
        raise ValidationError({key: f"not a GeoJSON geometry: {exc}"}) from None
    if geom.geom_type not in kinds:
        raise ValidationError({key: f"a {' or '.join(kinds)}, got {geom.geom_type}"})
    try:  # an invalid polygon is repaired when that changes its area by at most 1%
        return geo.check_shape(geom, kind="line" if "LineString" in kinds else "boundary")
    except DjangoValidationError as exc:
        spot = invalid_spot(geom) if exc.code == "invalid_geometry" else None
        raise InvalidDrawing({key: exc.messages, **({"spot": [spot.x, spot.y]} if spot else {})}) from None


class InvalidDrawing(Exception):
    """A drawing refused, answered as 400 with the spot to mark as numbers (DRF's ValidationError
    would turn them into strings)."""

    def __init__(self, body: dict):
        self.body = body


def _layer(code: str | None) -> GridLayer:
    """The grid layer of `code`, else the primary one."""
    return GridLayer.objects.filter(code=code or "").first() or selectors.primary_layer()


def _proposal(request, data: dict):
    """The proposal of an operation, on grids the caller sees and may redraw (404 / 403)."""
    visible = selectors.visible_areas(request.user, Area.objects.select_related("parent", "layer"))

    def area(pk, what="grid"):
        if pk is None:
            raise ValidationError({what: "required for this operation"})
        found = visible.filter(pk=pk).first()
        if found is None:
            raise NotFound(f"no {what} {pk} among your areas")
        return found

    op = data["operation"]
    try:
        if op == Operation.DRAW:
            parent = area(data.get("parent"), "parent")
            layer = _layer(data.get("layer"))
            p = proposals.draw(parent, layer, _geometry(data, "shape", ("Polygon",)), name=data.get("name", ""))
        elif op == Operation.RESHAPE:
            p = proposals.reshape(area(data.get("grid")), _geometry(data, "shape", ("Polygon", "MultiPolygon")))
        elif op == Operation.SPLIT:
            p = proposals.split(area(data.get("grid")), _geometry(data, "line", ("LineString",)))
        elif op == Operation.MERGE:
            grids = [area(pk) for pk in data.get("grids") or []]
            p = proposals.merge(grids, keep=area(data["keep"]) if data.get("keep") else None)
        elif op == Operation.IMPORT:
            parent = area(data.get("parent"), "parent")
            layer = _layer(data.get("layer"))
            p = _imported(parent, layer, _feature_rows(data.get("features")))
        else:
            p = proposals.delete(area(data.get("grid")), target=area(data["target"], "target") if data.get("target") else None)
    except DjangoValidationError as exc:
        raise ValidationError({"operation": exc.messages}) from None
    if not selectors.may_redraw(request.user, p.parent):
        raise PermissionDenied("only the centre, and street or community staff within their area, redraw grids")
    # the versions the editor drew on, for the grids this operation changes (a commit conflicts
    # when one has moved on since)
    p.base_versions.update({k: v for k, v in (data.get("base_versions") or {}).items() if k in p.base_versions})
    return p


def _operation(request, serializer_class, answer):
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    named = {data.validated_data.get(k) for k in ("grid", "keep", "target")} | set(data.validated_data.get("grids") or ())
    named = set(selectors.visible_areas(request.user).filter(pk__in=named - {None}).values_list("pk", flat=True))
    base = {k: v for k, v in (data.validated_data.get("base_versions") or {}).items() if k in named}
    stale = selectors.changed_since(base)
    if stale:  # before any geometry: the grids the user drew on are not the ones there now
        return Response({"detail": "changed since you loaded it", "conflict": stale}, status=409)
    try:
        p = _proposal(request, data.validated_data)
    except InvalidDrawing as exc:
        return Response(exc.body, status=400)
    return answer(p, data.validated_data)


def _checked(p) -> dict:
    findings = p.check()
    return {
        "operation": p.operation, "parent": p.parent.pk, "layer": p.layer.code,
        "shapes": {c.code: None if c.shape is None else shapely.geometry.mapping(c.shape) for c in p.changes},
        "names": {c.code: c.name or (c.grid.name if c.grid else "") for c in p.changes},
        "base_versions": p.base_versions,
        "findings": [f.as_json() for f in findings],
        "ok": not any(f.severity == "error" for f in findings),
    }


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def editor_sheet(request):
    """GET ?parent=id[&layer=code] → what the editor draws under a parent area: its outline, its
    neighbours, the layer's grids with their version, leader and households."""
    return Response(selectors.editable_sheet(*_redrawn_parent(request)))


def _redrawn_parent(request, params=None) -> tuple[Area, GridLayer]:
    """The ?parent= area (visible, with a boundary, one the caller may redraw under) and the
    ?layer= grid layer (default: the primary one); from `params` instead when given (a form)."""
    params = request.query_params if params is None else params
    try:
        pk = int(params.get("parent", ""))
    except (TypeError, ValueError):
        raise ValidationError({"parent": "an area id"}) from None
    parent = selectors.visible_areas(request.user).filter(pk=pk, boundary__isnull=False).first()
    if parent is None:
        raise NotFound(f"no area {pk} among your areas")
    if not selectors.may_redraw(request.user, parent):
        raise PermissionDenied("only the centre, and street or community staff within their area, redraw grids")
    layer = _layer(params.get("layer"))
    return parent, layer


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def editor_suggestions(request):
    """GET ?parent=id[&layer=code] → the parent's grids outside the household bounds, each with a
    split or merge to start from, as the operation this API takes (proposals.suggestions)."""
    parent, layer = _redrawn_parent(request)
    return Response({"parent": parent.pk, "layer": layer.code, "suggestions": proposals.suggestions(parent, layer)})


@extend_schema(request=OperationSerializer, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def editor_check(request):
    """POST an operation → the proposed shapes and the topology findings (in process: no query
    while the sheet is in memory). Called while the user draws."""
    return _operation(request, OperationSerializer, lambda p, v: Response(_checked(p)))


@extend_schema(request=OperationSerializer, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def editor_preview(request):
    """POST an operation → its check, and what it would move (counts and lists by kind, from
    which grid to which; each grid's totals after)."""
    return _operation(request, OperationSerializer,
                      lambda p, v: Response({**_checked(p), "impact": selectors.impact(p).as_json()}))


@extend_schema(request=CommitSerializer, responses={201: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT})
@api_view(["POST"])
def editor_commit(request):
    """POST an operation with reason[, effective_from, policy] → 201 with the committed change;
    409 when one of the grids changed since base_versions (with what changed); 400 with the
    errors when the topology checks refuse it."""
    return _operation(request, CommitSerializer, lambda p, v: _commit(request, p, v))


def _commit(request, p, v) -> Response:
    try:
        redraw = services.commit_redraw(p, author=request.user, reason=v["reason"],
                                        effective_from=v.get("effective_from"), policy=v["policy"])
    except services.BoundaryConflict as exc:
        return Response({"detail": "changed since you loaded it", "conflict": exc.changes}, status=409)
    except DjangoValidationError as exc:
        raise ValidationError({"commit": exc.messages}) from None
    return Response({"redraw": redraw.pk, "operation": redraw.operation, "moved": redraw.moved,
                     "grids": sorted(c.code for c in p.changes)}, status=201)


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def editor_history(request, grid: int):
    """GET → a grid's boundary versions, newest first: who, when, why, what moved, the shape."""
    area = selectors.visible_areas(request.user).filter(pk=grid).first()
    if area is None:
        raise NotFound(f"no area {grid} among your areas")
    return Response({"id": area.pk, "code": area.code, "name": area.name, "retired_at": area.retired_at,
                     "versions": selectors.boundary_history(area)})


# --- whole boundary sets: a file imported as one change, any version exported ---------------------

MAX_FEATURES = 5000  # an import operation's features (a street has tens of grids, a city thousands)


def _feature_rows(collection) -> list[tuple[str, str, object]]:
    """An import operation's features (a GeoJSON FeatureCollection) as checked rows, numbered in
    their order as the file's rows were; refused (400) with every bad one named."""
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features or len(features) > MAX_FEATURES:
        raise ValidationError({"features": f"a GeoJSON FeatureCollection of 1 to {MAX_FEATURES} features"})
    rows = []
    for row, feature in enumerate(features, start=1):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except Exception:  # noqa: BLE001 — any malformed geometry is the client's error, named by row
            geom = None
        rows.append((row, str(props.get("code") or "").strip(), str(props.get("name") or "").strip(), geom))
    try:
        return boundary_files.checked_rows(rows)
    except DjangoValidationError as exc:
        raise InvalidDrawing({"features": boundary_files.feature_errors(exc)}) from None


def _imported(parent: Area, layer: GridLayer, rows) -> proposals.Proposal:
    """The import of `rows` under `parent` (proposals.import_set); a row that cannot be placed is
    refused (400) by its number."""
    try:
        return proposals.import_set(layer, rows, within=parent)
    except DjangoValidationError as exc:
        raise InvalidDrawing({"features": boundary_files.feature_errors(exc)}) from None


def _import_answer(p, rows) -> dict:
    """The preview of an imported set: the check and impact as for a drawn change, each row's
    match (old code → code after, by code, overlap or new), the retired grids, the counts, and
    the operation to POST to /api/editor/commit/ with a reason."""
    answer = {**_checked(p), "impact": selectors.impact(p).as_json()}
    row_of = {m.code: m.row for m in p.matches}
    for finding in answer["findings"]:  # the file's rows to blame, beside the grid codes
        finding["rows"] = sorted(row_of[c] for c in finding["grids"] if c in row_of)
    retired = [c.code for c in p.changes if c.shape is None]
    by = [m.by for m in p.matches]
    answer.update({
        "matches": [asdict(m) for m in p.matches],
        "retired": retired,
        "counts": {"rows": len(p.matches), "by_code": by.count("code"), "by_overlap": by.count("overlap"),
                   "new": by.count("new"), "redrawn": sum(m.changed and m.old is not None for m in p.matches),
                   "unchanged": sum(not m.changed for m in p.matches), "retired": len(retired)},
        "operation": {"operation": Operation.IMPORT, "parent": p.parent.pk, "layer": p.layer.code,
                      "base_versions": p.base_versions, "features": {"type": "FeatureCollection", "features": [
                          {"type": "Feature", "properties": {"row": row, "code": code, "name": name},
                           "geometry": shapely.geometry.mapping(shape)}
                          for row, (code, name, shape) in enumerate(rows, start=1)]}},
    })
    return answer


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=f"a .geojson, a .gpkg or a .zip holding one Shapefile; at most "
                                 f"{boundary_files.MAX_UPLOAD_BYTES // 2**20} MB. Columns code and name, both optional")
    parent = serializers.IntegerField(help_text="the street or community whose grids the set redraws")
    layer = serializers.CharField(required=False, max_length=40, help_text="grid layer code (default: the primary layer)")
    crs = serializers.CharField(required=False, max_length=40, help_text="the file's CRS when it declares none, e.g. EPSG:4490")
    gcj02 = serializers.BooleanField(default=False, help_text="the coordinates are GCJ-02 (Chinese web maps)")


@extend_schema(request={"multipart/form-data": ImportSerializer}, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
def editor_import(request):
    """POST a boundary file (multipart: file, parent[, layer, crs, gcj02]) → the whole set as one
    proposed change, previewed as a drawn one is (findings, impact) with each row's match, the
    retired grids and the counts; its `operation`, POSTed to /api/editor/commit/ with a reason,
    commits it as one change. 400 names the file's fault, or every bad row (row, field, spot)."""
    data = ImportSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    v = data.validated_data
    parent, layer = _redrawn_parent(request, {"parent": v["parent"], "layer": v.get("layer")})
    try:
        rows = boundary_files.read_upload(v["file"], crs=v.get("crs"), gcj02=v["gcj02"])
        p = _imported(parent, layer, rows)
    except FileRefused as exc:
        return Response({"file": [str(exc)]}, status=400)
    except DjangoValidationError as exc:
        return Response({"features": boundary_files.feature_errors(exc)}, status=400)
    except InvalidDrawing as exc:
        return Response(exc.body, status=400)
    return Response(_import_answer(p, rows))


class EditorExport(APIView):
    content_negotiation_class = FileNegotiation

    @extend_schema(parameters=[
        OpenApiParameter("parent", int, required=True, description="a street or community"),
        OpenApiParameter("layer", str, description="grid layer code (default: the primary layer)"),
        OpenApiParameter("as_of", OpenApiTypes.DATE, description="the boundaries in force at that day's end (default: today)"),
        OpenApiParameter("format", str, enum=list(boundary_files.EXPORTS), description="default geojson; shp comes zipped"),
    ], responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request):
        """GET → the grids under the parent as they were at the end of `as_of` (any version), as a
        file: code, name, parent, version, valid_from, valid_to, reason; importable again."""
        parent, layer = _redrawn_parent(request)
        fmt = request.query_params.get("format") or "geojson"
        if fmt not in boundary_files.EXPORTS:
            raise ValidationError({"format": f"one of {', '.join(boundary_files.EXPORTS)}"})
        raw = request.query_params.get("as_of") or clock.today().isoformat()
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError({"as_of": "a date, YYYY-MM-DD"}) from None
        if not dt.date(2000, 1, 1) <= day <= clock.today():
            raise ValidationError({"as_of": "a date from 2000 to today"})
        versions = (selectors.areas_as_of(clock.end_of_day(day), Level.GRID, layer)
                    .filter(area__path__startswith=parent.path).order_by("area__code"))
        content, suffix, media_type = boundary_files.set_file(versions, fmt)
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="grids-{parent.code}-{layer.code}-{day}{suffix}"'
        return response


editor_export = EditorExport.as_view()
