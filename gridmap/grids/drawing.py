"""The boundary editor's geometry (划分网格): split a grid by a drawn line, merge neighbours,
reshape a grid so its neighbours follow, snap a drawing to its neighbours.

Pure shapely on lon/lat (EPSG:4326) shapes, no database: the editor's services call these and
then check and store the result. Every overlay runs on a fixed precision grid (PRECISION, about
0.1 mm), so two grids cut from one polygon share their edge vertex for vertex and their union
gives the polygon back exactly. (Where a cut ends on a neighbour's straight edge, the new vertex
rounds off that edge by under 0.1 mm: a sliver of a few cm², far below the checks' 1 m².)"""
import math

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

PRECISION = 1e-9  # degrees; ~0.1 mm, far below survey accuracy, far above float noise
_M_PER_DEGREE = 111_320.0
SNAP_M = 1.0  # a drawn vertex this close to a neighbour's vertex or edge lands on it
SLIVER_M2 = 1.0  # a piece smaller than this left over by an overlay is noise, not a polygon


def degrees(metres: float, lat: float) -> float:
    """A distance in metres as degrees of longitude at `lat` (the larger of the two: a tolerance
    in degrees then covers at least `metres` in every direction)."""
    return metres / (_M_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))


def _lat(geom: BaseGeometry) -> float:
    w, s, e, n = geom.bounds
    return (s + n) / 2


def polygonal(geom: BaseGeometry | None, *, min_m2: float = SLIVER_M2) -> BaseGeometry:
    """The polygon parts of an overlay result as one (Multi)Polygon, dropping lines, points and
    slivers under `min_m2`; an empty Polygon when nothing is left."""
    if geom is None:
        return shapely.Polygon()
    lat = _lat(geom) if not geom.is_empty else 0.0
    m2_per_deg2 = _M_PER_DEGREE ** 2 * max(math.cos(math.radians(lat)), 0.01)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p) if q.area * m2_per_deg2 >= min_m2]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def exact(geom: BaseGeometry) -> BaseGeometry:
    """`geom` on the editor's precision grid (what every result of this module is on)."""
    return shapely.set_precision(geom, PRECISION)


def keep_vertices(geom: BaseGeometry, originals: list[BaseGeometry]) -> BaseGeometry:
    """`geom` (a result on the precision grid) with its vertices put back where rounding moved them
    off the `originals`: onto their vertices, and new vertices (where a cut meets an edge) onto
    their edges. The stored boundaries are not on the precision grid: without this a split or
    merge would shift the grid's untouched edges by up to 0.05 mm, into the neighbour of another
    community across them, and a point lying on that border would change grid (seen on the demo:
    a facility on a community border). Two results sharing a vertex move it alike."""
    if geom.is_empty or not originals:
        return geom
    tolerance = 2 * PRECISION
    kept = shapely.snap(geom, shapely.multipoints(shapely.get_coordinates(originals)), tolerance)
    xy = shapely.get_coordinates(kept)
    points = shapely.points(xy)
    for outline in (shapely.boundary(o) for o in originals):
        near = (shapely.distance(points, outline) <= tolerance) & (shapely.distance(points, outline) > 0)
        if near.any():
            on_edge = shapely.line_interpolate_point(outline, shapely.line_locate_point(outline, points[near]))
            xy[near] = shapely.get_coordinates(on_edge)
            points = shapely.points(xy)
    kept = shapely.set_coordinates(kept, xy)
    return kept if kept.is_valid and not kept.is_empty else geom


def snap(geom: BaseGeometry, neighbours: list[BaseGeometry], metres: float = SNAP_M) -> BaseGeometry:
    """Move the vertices of a drawing that lie within `metres` of a neighbour's vertex or edge onto
    it, as the map's snapping does while drawing, so a shared edge is shared exactly."""
    if not neighbours:
        return exact(geom)
    target = shapely.union_all([n.boundary for n in neighbours])
    return exact(shapely.snap(geom, target, degrees(metres, _lat(geom))))


def _extend(line: shapely.LineString, by: float) -> shapely.LineString:
    """The line with both ends pushed out by `by` degrees along its end segments, so a line
    drawn to just short of (or just onto) an edge still crosses it."""
    xy = list(line.coords)

    def pushed(a, b):
        dx, dy = a[0] - b[0], a[1] - b[1]
        length = math.hypot(dx, dy) or 1.0
        return a[0] + dx / length * by, a[1] + dy / length * by

    return shapely.LineString([pushed(xy[0], xy[1]), *xy[1:-1], pushed(xy[-1], xy[-2])])


def split_by_line(grid: BaseGeometry, line: BaseGeometry, *, reach_m: float = SNAP_M) -> list[BaseGeometry]:
    """Cut `grid` along a drawn line into the pieces it separates, largest first. The line may
    start and end outside the grid or within `reach_m` of its edge; a line that does not cross
    the grid from edge to edge is refused."""
    if line.geom_type != "LineString" or len(line.coords) < 2:
        raise ValidationError(_("a split needs a line of at least two points"), code="split_line")
    original, grid = grid, exact(grid)
    cut = exact(_extend(line, degrees(reach_m, _lat(grid))))
    # node the grid's rings with the line and rebuild the faces: those inside the grid are the pieces
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union(grid.boundary, cut, grid_size=PRECISION))))
    inside = [f for f in faces if grid.contains(f.representative_point())]
    pieces = [exact(p) for p in inside]
    if len(pieces) < 2:
        raise ValidationError(_("the line does not cut the grid in two: draw it across the grid, from edge to edge"),
                              code="split_line")
    big = [p for p in pieces if not polygonal(p).is_empty]
    if len(big) < 2:
        raise ValidationError(_("the line only cuts off a sliver (under %(m2)s m²)") % {"m2": SLIVER_M2}, code="split_line")
    # a sliver the line cuts off near a corner goes to the piece it borders longest: dropped, it
    # would be a gap between the new grids
    for sliver in (p for p in pieces if polygonal(p).is_empty):
        i = max(range(len(big)), key=lambda k: shapely.intersection(sliver.boundary, big[k].boundary).length)
        big[i] = exact(shapely.union(big[i], sliver, grid_size=PRECISION))
    return sorted((keep_vertices(p, [original]) for p in big), key=lambda p: -p.area)


def merge(grids: list[BaseGeometry]) -> BaseGeometry:
    """One grid out of neighbouring grids: their union, which must be one polygon (grids that
    only touch at a point, or not at all, are not neighbours)."""
    if len(grids) < 2:
        raise ValidationError(_("a merge needs at least two grids"), code="merge")
    union = polygonal(shapely.union_all([exact(g) for g in grids], grid_size=PRECISION))
    if union.geom_type != "Polygon":
        raise ValidationError(_("these grids do not share an edge, so they cannot become one grid"), code="merge")
    return keep_vertices(union, grids)


def reshape(old: BaseGeometry, new: BaseGeometry, neighbours: dict, siblings=None) -> tuple[BaseGeometry, dict, BaseGeometry]:
    """A grid redrawn from `old` to `new`, with its neighbours ({key: geometry}) following: each
    neighbour gives up what the new shape takes from it, and each piece of ground the grid gives
    up goes to the sibling (a neighbour under the same parent; `siblings`, default all) that
    shares the longest border with that piece — so moving a shared edge moves it in both grids at
    once. Returns (the grid's new shape, {key: new shape} of the neighbours that changed, the
    ground given up that no sibling borders: a gap)."""
    originals = [old, *neighbours.values()]
    old, new = exact(old), snap(new, list(neighbours.values()))
    changed = {}
    for key, geom in neighbours.items():
        geom = exact(geom)
        # a neighbour changes only where the new shape takes ground from it: one that merely
        # touches it, or overlaps it by a rounding sliver, keeps its shape and its version
        if not polygonal(shapely.intersection(geom, new, grid_size=PRECISION)).is_empty:
            changed[key] = polygonal(shapely.difference(geom, new, grid_size=PRECISION))
    released = polygonal(shapely.difference(old, new, grid_size=PRECISION))
    gap = []
    for piece in shapely.get_parts(released):
        current = {k: changed.get(k, exact(g)) for k, g in neighbours.items() if siblings is None or k in siblings}
        shared = {k: shapely.intersection(piece.boundary, g.boundary, grid_size=PRECISION).length for k, g in current.items()}
        best = max(shared, key=shared.get, default=None)
        if best is None or shared[best] <= 0:
            gap.append(piece)
            continue
        changed[best] = polygonal(shapely.union(current[best], piece, grid_size=PRECISION))
    changed = {k: keep_vertices(g, originals) for k, g in changed.items()}
    return keep_vertices(new, originals), changed, polygonal(shapely.union_all(gap)) if gap else shapely.Polygon()
