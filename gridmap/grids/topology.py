"""Topology checks of a drawing (拓扑检查), in process, while the user edits.

A `Sheet` holds what a drawing under one parent area is checked against — the parent's
boundary, the layer's grids around it and the buildings with their households — in memory,
indexed with shapely's STRtree, so checking a drawing needs no database round trip. `check`
answers with findings: errors refuse a commit (an invalid polygon, a grid outside its parent,
an overlap, a new gap), warnings need the user's eye (households or area outside the bounds,
a new line through a building), info lists what was already there (older gaps). Each finding
carries the shape the map draws and its area in m² (`area_m2`).
"""
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from gridmap.core import geo

from . import drawing

OVERLAP_M2 = 1.0  # shared edges meet in a line; more than this is an overlap (services use the same)
GAP_M2 = 1.0
# Bounds of a grid (warnings, not errors): PRODUCT.md's 300–500 households; the area range is a
# sanity check for hand drawing (a stray click makes a grid of a few m² or of a whole street).
DEFAULT_BOUNDS = {"households": (300, 500), "area_km2": (0.01, 10.0), "parent_tolerance_m": 5.0}


def bounds() -> dict:
    return {**DEFAULT_BOUNDS, **getattr(settings, "GRIDMAP_GRID_BOUNDS", {})}


def area_m2(geoms) -> np.ndarray:
    """Areas of lon/lat shapes in m²: the planar area in degrees² (the plane every shape here is
    cut and compared in, as PostGIS geometry does), scaled by the WGS84 metres per degree at each
    shape's latitude (within 0.1% for a district). Not a projected CRS: it bends the straight
    lon/lat edges, and a sliver of a few cm² along a 1 km edge would measure several m²."""
    arr = np.asarray(geoms, dtype=object).reshape(-1)
    lat = np.array([0.0 if g is None or g.is_empty else g.centroid.y for g in arr])
    return np.nan_to_num(shapely.area(arr) * m2_per_deg2(lat))


def m2_per_deg2(lat):
    """WGS84 square metres per square degree at latitude `lat` (degrees; a number or an array)."""
    lat = np.radians(lat)
    per_lat = 111132.92 - 559.82 * np.cos(2 * lat) + 1.175 * np.cos(4 * lat)
    per_lon = 111412.84 * np.cos(lat) - 93.5 * np.cos(3 * lat)
    return per_lat * per_lon


@dataclass
class Finding:
    severity: str  # "error" | "warning" | "info"
    kind: str      # invalid, outside_parent, overlap, gap, households, area, through_building
    message: str
    grids: tuple = ()
    area_m2: float | None = None
    where: BaseGeometry | None = None

    def as_json(self) -> dict:
        return {
            "severity": self.severity, "kind": self.kind, "message": self.message, "grids": list(self.grids),
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
            "where": None if self.where is None or self.where.is_empty else shapely.geometry.mapping(self.where),
        }


@dataclass
class Building:
    code: str
    point: BaseGeometry
    footprint: BaseGeometry | None
    households: int


@dataclass
class Sheet:
    """`parent`: the parent area's boundary; `grids`: code → (shape, parent code) of the layer's
    grids on and around the parent; `buildings`: those on the parent."""

    parent_code: str
    parent: BaseGeometry
    grids: dict
    buildings: list = field(default_factory=list)

    def __post_init__(self):
        self._codes = list(self.grids)
        self._grid_tree = shapely.STRtree([g for g, _p in self.grids.values()])
        self._points = shapely.STRtree([b.point for b in self.buildings])
        feet = [b.footprint if b.footprint is not None else b.point for b in self.buildings]
        self._feet = shapely.STRtree(feet)
        self._households = np.array([b.households for b in self.buildings], dtype=np.int64)
        self._allowed: dict[float, BaseGeometry] = {}  # the parent grown by a tolerance, prepared
        self._gap_before: BaseGeometry | None = None  # the parent's gaps as it is (the editor's info)

    def children(self, proposal: dict | None = None) -> dict:
        """The parent's grids after `proposal` (code → new shape, None for a grid that goes)."""
        proposal = proposal or {}
        shapes = {code: g for code, (g, parent) in self.grids.items() if parent == self.parent_code}
        shapes.update(proposal)
        return {code: g for code, g in shapes.items() if g is not None and not g.is_empty}

    def households(self, geom: BaseGeometry) -> int:
        """Households of the buildings whose point lies in `geom` (a building on an edge counts
        on both sides here; the preview places it by the database's rule)."""
        idx = self._points.query(geom, predicate="intersects")
        return int(self._households[idx].sum())

    def buildings_in(self, geom: BaseGeometry) -> list:
        return [self.buildings[i] for i in self._points.query(geom, predicate="intersects")]

    def crossed_buildings(self, line: BaseGeometry) -> list:
        """Buildings whose footprint a boundary line runs through (not merely along)."""
        hit = []
        for i in self._feet.query(line, predicate="intersects"):
            b = self.buildings[i]
            if b.footprint is not None and shapely.relate_pattern(b.footprint, line, "1********"):
                hit.append(b)
        return hit

    def check(self, proposal: dict, *, errors_only: bool = False) -> list[Finding]:
        """Findings for `proposal`: {grid code (a new code for a new grid): new shape or None}.
        `errors_only`: only what refuses a commit (a sheet without buildings will do)."""
        findings, shapes = [], {}
        for code, geom in proposal.items():
            if geom is None:
                continue
            try:
                shapes[code] = geo.check_shape(geom, kind="boundary")
            except ValidationError as exc:
                findings.append(Finding("error", "invalid", f"{code}: {' '.join(exc.messages)}", (code,),
                                        where=invalid_spot(geom)))
        gone = {code for code, geom in proposal.items() if geom is None}
        findings += self._outside_parent(shapes)
        findings += self._overlaps(shapes, gone)
        findings += self._gaps(shapes, existing=not errors_only)
        if not errors_only:
            findings += self._bounds(shapes)
            findings += self._through_buildings(shapes)
        return findings

    def _outside_parent(self, shapes: dict) -> list[Finding]:
        tolerance = bounds()["parent_tolerance_m"]
        if tolerance not in self._allowed:
            allowed = self.parent.buffer(drawing.degrees(tolerance, self.parent.centroid.y))
            shapely.prepare(allowed)
            self._allowed[tolerance] = allowed
        allowed = self._allowed[tolerance]
        codes = list(shapes)
        inside = shapely.covers(allowed, np.array(list(shapes.values()), dtype=object)) if codes else []
        found = []
        for code in (c for c, covered in zip(codes, inside) if not covered):  # only these reach out at all
            out = drawing.polygonal(shapely.difference(shapes[code], allowed), min_m2=0)
            m2 = float(area_m2([out])[0]) if not out.is_empty else 0.0
            if m2 > OVERLAP_M2:
                found.append(Finding("error", "outside_parent", _(
                    "%(grid)s reaches %(m2)s m² beyond its parent %(parent)s (tolerance %(tol)s m)") % {
                    "grid": code, "m2": f"{m2:,.0f}", "parent": self.parent_code, "tol": f"{tolerance:g}"},
                    (code,), m2, out))
        return found

    def _overlaps(self, shapes: dict, gone: set) -> list[Finding]:
        # each drawn shape against the layer's other grids as they will be (unchanged ones from the
        # index, redrawn ones from the drawing, removed ones not at all), each pair once
        pairs = set()
        for code, geom in shapes.items():
            near = {self._codes[i] for i in self._grid_tree.query(geom, predicate="intersects")}
            pairs |= {tuple(sorted((code, other))) for other in (near | set(shapes)) - {code} - gone}
        after = {code: shapes[code] if code in shapes else self.grids[code][0] for pair in pairs for code in pair}
        # grids that tile meet along edges: when their areas add up to their union's, no two overlap
        # (a point in k shapes counts k − 1 times in the difference, which so bounds every pair's
        # overlap) and no pair needs an overlay of its own
        if not pairs or _overlap_bound_m2(list(after.values())) <= OVERLAP_M2:
            return []
        found = []
        for a, b in sorted(pairs):
            both = drawing.polygonal(shapely.intersection(after[a], after[b]), min_m2=0)
            m2 = float(area_m2([both])[0]) if not both.is_empty else 0.0
            if m2 > OVERLAP_M2:
                found.append(Finding("error", "overlap", _("%(a)s and %(b)s overlap by %(m2)s m²") % {
                    "a": a, "b": b, "m2": f"{m2:,.0f}"}, (a, b), m2, both))
        return found

    def _gaps(self, shapes: dict, *, existing: bool = True) -> list[Finding]:
        """New gaps (errors): ground a redrawn grid gave up that no grid of the parent covers after;
        with `existing`, the parent's older gaps that stay (info). Both are local to the redrawn
        grids: elsewhere the parent is covered as before. A grid that goes keeps its old shape
        here (deleting an empty grid leaves its ground to nobody on purpose), as does an invalid
        drawing (refused anyway)."""
        own = {code for code, (_g, parent) in self.grids.items() if parent == self.parent_code}
        given_up = [self.grids[code][0] for code in shapes if code in own]
        found = []
        if given_up:
            region = shapely.union_all(given_up)
            near = {self._codes[i] for i in self._grid_tree.query(region, predicate="intersects")} & own
            cover = list(shapes.values()) + [self.grids[code][0] for code in near - set(shapes)]
            left = shapely.difference(region, shapely.union_all(cover, grid_size=drawing.PRECISION), grid_size=drawing.PRECISION)
            # within the parent only; usually nothing is left and there is nothing to cut
            new = drawing.polygonal(left if left.is_empty else shapely.intersection(left, self.parent, grid_size=drawing.PRECISION),
                                    min_m2=0)
            for piece, m2 in _sized(new):
                if m2 > GAP_M2:
                    found.append(Finding("error", "gap", _("a gap of %(m2)s m² inside %(parent)s belongs to no grid") % {
                        "m2": f"{m2:,.0f}", "parent": self.parent_code}, (), m2, piece))
        if existing:
            if self._gap_before is None:
                self._gap_before = self._gap_shape(self.children())
            left = self._gap_before
            if shapes and not left.is_empty:
                left = shapely.difference(left, shapely.union_all(list(shapes.values()), grid_size=drawing.PRECISION),
                                          grid_size=drawing.PRECISION)
            for piece, m2 in _sized(drawing.polygonal(left, min_m2=0)):
                if m2 > GAP_M2:
                    found.append(Finding("info", "gap", _("an existing gap of %(m2)s m² inside %(parent)s") % {
                        "m2": f"{m2:,.0f}", "parent": self.parent_code}, (), m2, piece))
        return found

    def _gap_shape(self, children: dict) -> BaseGeometry:
        covered = shapely.union_all(list(children.values()), grid_size=drawing.PRECISION) if children else shapely.Polygon()
        return drawing.polygonal(shapely.difference(self.parent, covered, grid_size=drawing.PRECISION), min_m2=0)

    def _bounds(self, shapes: dict) -> list[Finding]:
        b, found = bounds(), []
        low, high = b["households"]
        small, large = b["area_km2"]
        areas = area_m2(list(shapes.values())) if shapes else []
        for (code, geom), m2 in zip(shapes.items(), areas):
            n = self.households(geom)
            if not low <= n <= high:
                found.append(Finding("warning", "households", _(
                    "%(grid)s would hold %(n)s households (bounds %(low)s–%(high)s)") % {
                    "grid": code, "n": n, "low": low, "high": high}, (code,)))
            km2 = m2 / 1e6
            if not small <= km2 <= large:
                found.append(Finding("warning", "area", _("%(grid)s would cover %(km2).3f km² (bounds %(small)s–%(large)s km²)") % {
                    "grid": code, "km2": km2, "small": f"{small:g}", "large": f"{large:g}"}, (code,), m2))
        return found

    def _through_buildings(self, shapes: dict) -> list[Finding]:
        found = []
        for code, geom in shapes.items():
            old = self.grids.get(code, (None, None))[0]
            new_lines = geom.boundary if old is None else shapely.difference(geom.boundary, old.boundary.buffer(1e-7))
            for b in self.crossed_buildings(new_lines):
                found.append(Finding("warning", "through_building", _("the boundary of %(grid)s runs through building %(b)s") % {
                    "grid": code, "b": b.code}, (code,), None, b.footprint))
        return found


def _overlap_bound_m2(geoms: list) -> float:
    """An upper bound of the overlap of any two of `geoms` in m²: their areas' sum less their
    union's, at the largest m² per degree² of their latitudes."""
    arr = np.array(geoms, dtype=object)
    excess = float(shapely.area(arr).sum() - shapely.area(shapely.union_all(arr)))
    south, north = shapely.total_bounds(arr)[[1, 3]]
    nearest_equator = 0.0 if south <= 0 <= north else min(abs(south), abs(north))  # the most m² per degree²
    return max(excess, 0.0) * float(m2_per_deg2(nearest_equator))


def _sized(geom: BaseGeometry):
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty]
    return zip(parts, area_m2(parts)) if parts else ()


def invalid_spot(geom: BaseGeometry) -> BaseGeometry | None:
    reason = shapely.is_valid_reason(geom) if geom is not None else ""
    if "[" not in reason:
        return None
    xy = reason[reason.find("[") + 1:reason.find("]")].split()
    try:
        return shapely.Point(float(xy[0]), float(xy[1]))
    except (ValueError, IndexError):
        return None


def refuse_on_errors(findings: list[Finding]) -> None:
    """Raise ValidationError listing the errors among `findings` (the commit's last word)."""
    errors = [f.message for f in findings if f.severity == "error"]
    if errors:
        raise ValidationError(errors)
