"""Geometry on the way in: CRS resolution and transformation, GCJ-02 → WGS84, coordinate
range checks and polygon repair. All of it works on shapely 2 arrays, one call per file."""
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
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
    for _ in range(30):
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
