"""The demo district's ground plan, in metres (the metric CRS): a convex district cut into
streets, communities and grids, then re-built from one noded set of lines so that siblings
share their edges vertex for vertex (no gap, no overlap, "横向到边"), and footprints and
points placed inside it. Pure shapely/numpy; `to_wgs84` converts for storage."""
import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

# Snap-rounding grid for the overlay: 1 cm, far below any boundary a clerk could draw.
PRECISION_M = 0.01


@dataclass
class Cell:
    """One area of the plan; `index` is its 1-based number among its siblings (CJ/T 213 order)."""

    level: str
    index: int
    geom: Polygon
    children: list["Cell"] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self):
        return [c for c in self.walk() if not c.children]


def district_outline(centre_xy: tuple[float, float], area_m2: float, rng: np.random.Generator) -> Polygon:
    """An irregular convex outline of about `area_m2`; convex so every Voronoi cut of it stays
    in one piece at every level."""
    angles = np.sort(rng.uniform(0, 2 * math.pi, 14))
    radius = math.sqrt(area_m2 / math.pi) * rng.uniform(0.8, 1.25, 14)
    pts = np.column_stack([centre_xy[0] + radius * np.cos(angles), centre_xy[1] + radius * np.sin(angles)])
    hull = MultiPoint(pts).convex_hull
    return affinity.scale(hull, *(2 * [math.sqrt(area_m2 / hull.area)]), origin=centre_xy)


def sample_points(poly: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(2 * n, 2))
        out = np.vstack([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 30) -> np.ndarray:
    """Lloyd's relaxation: seeds spread so the Voronoi cells come out of similar size."""
    centres = points[rng.choice(len(points), k, replace=False)]
    for _ in range(rounds):
        nearest = np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        centres = np.array([points[nearest == i].mean(axis=0) if (nearest == i).any() else centres[i] for i in range(k)])
    return centres


def reading_order(polys: list[Polygon], band_m: float) -> list[Polygon]:
    """West→east within bands of `band_m` from north to south: the CJ/T 213 numbering order."""
    top = max(p.bounds[3] for p in polys)

    def key(p):
        c = p.centroid
        return (int((top - c.y) // band_m), c.x)

    return sorted(polys, key=key)


def cut(parent: Polygon, k: int, rng: np.random.Generator) -> list[Polygon]:
    """`k` compact convex cells covering `parent`, in CJ/T 213 order."""
    if k == 1:
        return [parent]
    centres = _kmeans(sample_points(parent, 80 * k, rng), k, rng)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(centres), extend_to=parent))
    clipped = [c.intersection(parent) for c in cells]
    return reading_order([c for c in clipped if c.area > 0], math.sqrt(parent.area / k))


def _cuts(poly: Polygon, n: int) -> tuple[bool, list[float]]:
    """Where to cut `poly` into `n` strips of equal area across its longer side: (True, x values)
    when it is wider than tall, else (False, y values), ascending."""
    minx, miny, maxx, maxy = poly.bounds
    across_x = maxx - minx >= maxy - miny
    lo, hi = (minx, maxx) if across_x else (miny, maxy)

    def below(t: float) -> float:  # the area west of x = t (south of y = t)
        half = box(minx, miny, t, maxy) if across_x else box(minx, miny, maxx, t)
        return poly.intersection(half).area

    cuts = []
    for k in range(1, n):
        a, b = lo, hi
        for _ in range(40):  # the width halved 40 times: a millionth of a millimetre a kilometre
            mid = (a + b) / 2
            a, b = (mid, b) if below(mid) < poly.area * k / n else (a, mid)
        cuts.append((a + b) / 2)
    return across_x, cuts


def strips(polys: list[Polygon], counts: list[int]) -> list[list[Polygon]]:
    """Each of `polys` (areas that tile, sharing their edges) cut into `counts[i]` strips of
    equal area across its longer side, numbered west→east, or north→south when it is taller
    than wide (the CJ/T 213 order either way). All the cut lines are noded with all the
    outlines in one pass, so strips share each vertex with their neighbours, in the same area
    and across a shared edge (where a cut meets it, the neighbour's strip gets the vertex too),
    and together make up their area. Any planar coordinates (lon/lat as stored: then a new
    vertex lies on the stored edge, not on a metric edge bent by the projection).
    Deterministic: no random numbers."""
    cuts = [_cuts(poly, n) for poly, n in zip(polys, counts)]
    segments = []
    for poly, (across_x, ts) in zip(polys, cuts):
        minx, miny, maxx, maxy = poly.bounds
        past = 1e-3 * max(maxx - minx, maxy - miny)  # just past the outline: the noding splits the shared edge
        for t in ts:
            line = (LineString([(t, miny - past), (t, maxy + past)]) if across_x
                    else LineString([(minx - past, t), (maxx + past, t)]))
            segments.append(line.intersection(poly.buffer(past)))  # the loose ends are dropped by polygonize
    lines = shapely.union_all([p.boundary for p in polys] + segments)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    tree = shapely.STRtree(polys)
    owned: list[list[list[Polygon]]] = [[[] for _ in range(n)] for n in counts]
    for face in faces:
        p = face.point_on_surface()
        hits = tree.query(p, predicate="intersects")
        owner = hits.min() if len(hits) else tree.nearest(p)
        across_x, ts = cuts[owner]
        owned[owner][bisect.bisect(ts, p.x if across_x else p.y)].append(face)
    out = []
    for (across_x, _ts), parts in zip(cuts, owned):
        pieces = [shapely.union_all(faces) for faces in parts if faces]
        out.append(pieces if across_x else pieces[::-1])
    return out


def build_tree(outline: Polygon, fanout: Callable[[tuple[int, ...]], int], levels: list[str],
               rng: np.random.Generator) -> Cell:
    """Cut `outline` level by level, then node. `fanout(path)` is how many children the area at
    `path` gets: () is the root, (2,) its second child, (2, 1) that one's first child…"""
    root = Cell(levels[0], 1, outline)
    frontier: list[tuple[Cell, tuple[int, ...]]] = [(root, ())]
    for level in levels[1:]:
        nxt = []
        for cell, path in frontier:
            cell.children = [Cell(level, i, g) for i, g in enumerate(cut(cell.geom, fanout(path), rng), 1)]
            nxt += [(child, path + (child.index,)) for child in cell.children]
        frontier = nxt
    _node(root)
    return root


def _node(root: Cell) -> None:
    """Rebuild every area from the faces of one noded arrangement of all the cut lines, so
    neighbours in different parents share each vertex exactly (cutting parents separately
    leaves T-junctions a few nanometres off the line)."""
    lines = shapely.union_all([c.geom.boundary for c in root.walk()], grid_size=PRECISION_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    leaves = root.leaves()
    tree = shapely.STRtree([leaf.geom for leaf in leaves])
    owned: list[list[Polygon]] = [[] for _ in leaves]
    for face in faces:
        hits = tree.query(face.point_on_surface(), predicate="intersects")
        owner = hits.min() if len(hits) else tree.nearest(face.point_on_surface())
        owned[owner].append(face)
    for leaf, mine in zip(leaves, owned):
        leaf.geom = shapely.union_all(mine, grid_size=PRECISION_M)

    def rebuild(cell: Cell) -> Polygon:
        if cell.children:
            cell.geom = shapely.union_all([rebuild(c) for c in cell.children], grid_size=PRECISION_M)
        return cell.geom

    rebuild(root)


def lattice(area: Polygon, size: tuple[float, float], gap: tuple[float, float], angle: float,
            rng: np.random.Generator) -> list[Polygon]:
    """Footprints of `size` (w × d m) in rows `gap` apart, turned by `angle`°, wholly inside `area`."""
    if area.is_empty:
        return []
    origin = area.centroid
    turned = affinity.rotate(area, -angle, origin=origin)
    minx, miny, maxx, maxy = turned.bounds
    (w, d), (gx, gy) = size, gap
    ox, oy = rng.uniform(0, w + gx), rng.uniform(0, d + gy)
    xs = np.arange(minx + ox, maxx - w, w + gx)
    ys = np.arange(miny + oy, maxy - d, d + gy)
    boxes = np.array([box(x, y, x + w, y + d) for y in ys for x in xs], dtype=object)
    if not len(boxes):
        return []
    shapely.prepare(turned)
    inside = boxes[shapely.contains(turned, boxes)]
    return [affinity.rotate(b, angle, origin=origin) for b in inside]


def take_nearest(candidates: list[Polygon], n: int, towards: Point, taken: list[Polygon], clearance: float) -> list[Polygon]:
    """Up to `n` candidates nearest `towards` that keep `clearance` metres from what is taken:
    buildings of one estate cluster around its centre."""
    blocked = shapely.union_all([t.buffer(clearance) for t in taken]) if taken else None
    out = []
    for cand in sorted(candidates, key=towards.distance):
        if len(out) == n:
            break
        if blocked is None or not cand.intersects(blocked):
            out.append(cand)
    return out


def points_along(lines, spacing_m: float, rng: np.random.Generator) -> list[Point]:
    """Points every ~`spacing_m` along the road lines (the area edges)."""
    out = []
    for line in shapely.get_parts(lines):
        for dist in np.arange(rng.uniform(0, spacing_m), line.length, spacing_m):
            out.append(line.interpolate(dist))
    return out


def to_wgs84(geoms, metric_srid: int):
    """Metric → EPSG:4326 (lon, lat). Equal vertices stay equal, so shared edges stay shared."""
    tr = Transformer.from_crs(metric_srid, 4326, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def from_wgs84(lon: float, lat: float, metric_srid: int) -> tuple[float, float]:
    return Transformer.from_crs(4326, metric_srid, always_xy=True).transform(lon, lat)
