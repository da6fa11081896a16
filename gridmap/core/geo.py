"""Geometry on the way in: CRS resolution and transformation, GCJ-02 → WGS84, coordinate
range checks and polygon repair. All of it works on shapely 2 arrays, one call per file."""
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84 = CRS.from_epsg(4326)

# GCJ-02 constants: the Krasovsky ellipsoid of the public obfuscation formula.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# The obfuscation only applies inside this box (the usual rough outline of China).
_CHINA = (72.004, 0.8293, 137.8347, 55.8271)


class GeoError(ValueError):
    """A problem with a whole file's geometry (its CRS, its coordinates)."""


def parse_crs(value) -> CRS:
    """Any CRS pyproj knows: "EPSG:4490", "4547", a WKT or PROJ string."""
    try:
        return CRS.from_user_input(int(value) if str(value).isdigit() else value)
    except CRSError as exc:
        raise GeoError(f"unknown CRS {value!r}: {exc}") from None


def resolve_crs(declared, override) -> CRS:
    """The CRS of the file's coordinates: --crs wins (a .prj can be wrong), else the file's own."""
    if override:
        return parse_crs(override)
    if declared is None:
        raise GeoError("the file declares no CRS; pass --crs (e.g. --crs EPSG:4326 or --crs EPSG:4490)")
    return parse_crs(declared)


def transform(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    if source.equals(target, ignore_axis_order=True):
        return geoms
    t = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geoms: np.ndarray, source: CRS) -> np.ndarray:
    return transform(geoms, source, WGS84)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) added to WGS84 lon/lat; zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    common = (20 * np.sin(6 * np.pi * x) + 20 * np.sin(2 * np.pi * x)) * 2 / 3
    dlat = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20 * np.sin(np.pi * y) + 40 * np.sin(np.pi * y / 3)) * 2 / 3
            + (160 * np.sin(np.pi * y / 12) + 320 * np.sin(np.pi * y / 30)) * 2 / 3)
    dlon = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20 * np.sin(np.pi * x) + 40 * np.sin(np.pi * x / 3)) * 2 / 3
            + (150 * np.sin(np.pi * x / 12) + 300 * np.sin(np.pi * x / 30)) * 2 / 3)
    rad = np.radians(lat)
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    dlat = dlat * 180 / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180 / (_GCJ_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    w, s, e, n = _CHINA
    outside = (lon < w) | (lon > e) | (lat < s) | (lat > n)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(xy: np.ndarray) -> np.ndarray:
    dlon, dlat = _gcj_delta(xy[:, 0], xy[:, 1])
    return np.column_stack([xy[:, 0] + dlon, xy[:, 1] + dlat])


def gcj02_to_wgs84(xy: np.ndarray) -> np.ndarray:
    """Invert the obfuscation by fixed-point iteration (converges to < 1e-9° in a few steps)."""
    xy = np.asarray(xy, dtype=float)
    wgs = xy.copy()
    for _step in range(30):
        err = wgs84_to_gcj02(wgs) - xy
        wgs -= err
        if np.nanmax(np.abs(err), initial=0.0) < 1e-10:
            break
    return wgs


def gcj02_geoms_to_wgs84(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, gcj02_to_wgs84)


def out_of_range(geoms: np.ndarray, source: CRS) -> np.ndarray:
    """True where WGS84 geometries leave the valid lon/lat range or the source CRS's area of
    use (plus a 1° margin): the mark of coordinates given in another CRS than declared."""
    w, s, e, n = -180.0, -90.0, 180.0, 90.0
    aou = source.area_of_use
    if aou is not None and aou.west <= aou.east:  # skip areas that cross the antimeridian
        w, s, e, n = max(w, aou.west - 1), max(s, aou.south - 1), min(e, aou.east + 1), min(n, aou.north + 1)
    b = shapely.bounds(geoms)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(b).all(axis=1) | (b[:, 0] < w) | (b[:, 2] > e) | (b[:, 1] < s) | (b[:, 3] > n)
    return present & bad


@dataclass
class Repair:
    """Outcome of `repair_polygons` for the invalid inputs only (index into the input)."""

    index: np.ndarray
    reason: np.ndarray        # GEOS validity reason of the original
    repaired: np.ndarray      # bool: accepted repair
    change: np.ndarray        # relative area change of the repair


def _polygonal(geom):
    """Keep the polygon parts of what make_valid returned (it may add stray lines/points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else None


def repair_polygons(geoms: np.ndarray, tolerance: float = 0.01) -> tuple[np.ndarray, Repair]:
    """Repair invalid polygons with make_valid; a repair is accepted only if the area, measured in
    settings.METRIC_SRID, changes by at most `tolerance` (1%). Returns the (partly) repaired array;
    refused ones keep their invalid input and are marked in the Repair."""
    present = ~shapely.is_missing(geoms)
    idx = np.flatnonzero(present & ~shapely.is_valid(geoms))
    out = geoms.copy()
    if not len(idx):
        return out, Repair(idx, np.array([], dtype=object), np.array([], dtype=bool), np.array([]))
    bad = geoms[idx]
    reason = shapely.is_valid_reason(bad)
    fixed = np.array([_polygonal(g) for g in shapely.make_valid(bad)], dtype=object)
    metric = CRS.from_epsg(settings.METRIC_SRID)
    before = shapely.area(transform(bad, WGS84, metric))
    after = np.where(shapely.is_missing(fixed), 0.0,
                     shapely.area(transform(np.where(shapely.is_missing(fixed), bad, fixed), WGS84, metric)))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(before > 0, np.abs(after - before) / before, np.inf)
    ok = change <= tolerance
    out[idx[ok]] = fixed[ok]
    return out, Repair(idx, reason, ok, change)


# --- one check for every geometry that is stored (services, admin forms, importer) --------------

# Per kind: (most vertices, largest extent in km, None = no limit). settings.GEOMETRY_LIMITS may
# override any of them, e.g. GEOMETRY_LIMITS = {"boundary": (50_000, 400)}.
DEFAULT_LIMITS = {
    "boundary": (20_000, 200.0),    # an area or grid boundary: at most a district
    "footprint": (5_000, 5.0),      # a building
    "line": (10_000, 50.0),         # a facility's point or line (pipe, road marking)
    "point": (1, None),
}
REPAIR_TOLERANCE = 0.01  # an invalid polygon is repaired only if its area changes by at most 1%
_KM_PER_DEGREE = 111.32


# The importer's geometry fields (core/io/registers.py) and the kind of limits each gets.
FIELD_KINDS = {"boundary": "boundary", "footprint": "footprint", "location": "point", "geom": "line"}


def over_limits(geoms: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """For the importer (one call per file): where geometries have more vertices than `kind`
    allows, and where they span more than its extent (the limits `check_shape` applies one by one)."""
    most, km = limits(kind)
    count = shapely.get_num_coordinates(geoms)
    many = np.zeros(len(geoms), dtype=bool) if most is None else count > most
    with np.errstate(invalid="ignore"):
        wide = np.zeros(len(geoms), dtype=bool) if km is None else extent_km(shapely.bounds(geoms)) > km
    return many, wide


def limits(kind: str) -> tuple[int | None, float | None]:
    return {**DEFAULT_LIMITS, **getattr(settings, "GEOMETRY_LIMITS", {})}[kind]


def extent_km(bounds) -> float:
    """The larger side of a lon/lat bounding box in km (east-west measured at its middle latitude)."""
    w, s, e, n = np.moveaxis(np.asarray(bounds, dtype=float), -1, 0)  # one box (4,) or many (N, 4)
    return np.maximum((e - w) * _KM_PER_DEGREE * np.cos(np.radians((s + n) / 2)), (n - s) * _KM_PER_DEGREE)


def _spot(reason: str) -> str:
    """"Self-intersection[116.39 39.91]" → "lon 116.39, lat 39.91" (the spot GEOS names)."""
    if "[" not in reason:
        return ""
    xy = reason[reason.find("[") + 1:reason.find("]")].split()
    try:
        return _("lon %(lon).6f, lat %(lat).6f") % {"lon": float(xy[0]), "lat": float(xy[1])}
    except (ValueError, IndexError):
        return ""


def check_shape(geom, *, kind: str, max_vertices: int | None = None, max_extent_km: float | None = None,
                repair: bool = True):
    """The one geometry check (lon/lat in WGS84, a shapely geometry): vertex count, coordinate range,
    extent and — for polygons — validity, repairing an invalid polygon with make_valid when its area
    changes by at most 1% (`repair_polygons`, the importer's rule). Returns the geometry, repaired
    if need be; raises ValidationError naming the problem and where it is."""
    default_vertices, default_extent = limits(kind)
    max_vertices = default_vertices if max_vertices is None else max_vertices
    max_extent_km = default_extent if max_extent_km is None else max_extent_km
    n = shapely.get_num_coordinates(geom)
    if max_vertices is not None and n > max_vertices:
        raise ValidationError(
            _("%(n)s vertices; at most %(most)s are allowed here") % {"n": f"{n:,}", "most": f"{max_vertices:,}"},
            code="too_many_vertices")
    if shapely.is_empty(geom):
        raise ValidationError(_("the geometry is empty"), code="empty_geometry")
    xy = shapely.get_coordinates(geom)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            _("vertex %(i)d (lon %(lon)s, lat %(lat)s) is out of range: longitude must be within "
              "-180…180 and latitude within -90…90") % {"i": i + 1, "lon": xy[i, 0], "lat": xy[i, 1]},
            code="coordinate_out_of_range")
    if max_extent_km is not None:
        km = extent_km(shapely.bounds(geom))
        if km > max_extent_km:
            raise ValidationError(
                _("spans %(km).1f km; at most %(most)s km are allowed here") % {"km": km, "most": f"{max_extent_km:g}"},
                code="extent_too_large")
    if shapely.get_type_id(geom) in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON) \
            and not shapely.is_valid(geom):
        if repair:
            fixed, rep = repair_polygons(np.array([geom], dtype=object), REPAIR_TOLERANCE)
            if rep.repaired[0]:
                return fixed[0]
            change = rep.change[0]
            shown = _("more than 100%") if not change <= 1 else f"{change:.1%}"
        reason = shapely.is_valid_reason(geom)
        at = _spot(reason)
        message = _("not a valid polygon: %(reason)s") % {
            "reason": reason.split("[")[0] + (_(" at %(spot)s") % {"spot": at} if at else "")}
        if repair:
            message += "; " + _("a repair would change its area by %(change)s (limit 1%%)") % {"change": shown}
        raise ValidationError(message, code="invalid_geometry")
    return geom


def to_shape(geom: GEOSGeometry | None):
    """A Django (GEOS) geometry as a shapely one (None stays None)."""
    return None if geom is None else shapely.from_wkb(bytes(geom.wkb))


def to_geos(shape, srid: int = 4326) -> GEOSGeometry:
    """A shapely geometry as a Django (GEOS) one, in lon/lat unless told."""
    return GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=srid)


def check_geometry(geom: GEOSGeometry, *, kind: str, max_vertices: int | None = None,
                   max_extent_km: float | None = None, repair: bool = True) -> GEOSGeometry:
    """`check_shape` for a Django (GEOS) geometry, in WGS84 (transformed there if it has another
    SRID). Returns a GEOS geometry of the same family (a repaired polygon stays a (multi)polygon)."""
    if geom.srid and geom.srid != 4326:
        try:
            geom = geom.transform(4326, clone=True)
        except GEOSException as exc:
            raise ValidationError(_("the coordinates cannot be converted to lon/lat: %(e)s") % {"e": exc},
                                  code="coordinate_out_of_range") from None
    shape = to_shape(geom)
    checked = check_shape(shape, kind=kind, max_vertices=max_vertices, max_extent_km=max_extent_km, repair=repair)
    if checked is shape:
        return geom
    out = to_geos(checked)
    if out.geom_type == "MultiPolygon" and geom.geom_type == "Polygon" and len(out) == 1:
        out = out[0]
        out.srid = 4326
    elif out.geom_type == "Polygon" and geom.geom_type == "MultiPolygon":
        out = MultiPolygon(out, srid=4326)
    return out


def checked_form(base=None, **kinds):
    """A ModelForm whose clean_<field> passes each named geometry field through `check_geometry`,
    e.g. `form = checked_form(footprint="footprint")` on a ModelAdmin: a bad geometry becomes a
    form error on its field, never a 500."""
    from django import forms

    def cleaner(field, kind):
        def clean(self):
            value = self.cleaned_data.get(field)
            return None if value is None else check_geometry(value, kind=kind)
        return clean

    attrs = {f"clean_{field}": cleaner(field, kind) for field, kind in kinds.items()}
    return type("GeometryCheckedForm", (base or forms.ModelForm,), attrs)
