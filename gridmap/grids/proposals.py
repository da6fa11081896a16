"""What a boundary edit proposes (调整方案), before anything is written: one `Proposal` per
editor operation — draw, reshape (neighbours follow), split, merge, delete — computed from the
grids as they are now with `drawing`'s exact geometry. The proposal is then checked
(`check`), previewed (selectors.impact) and committed (services.commit_redraw), all keyed by
grid code; the versions it started from travel with it so a second editor gets a conflict.
"""
import math
import re
from dataclasses import dataclass, field

import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from gridmap.core import geo

from . import drawing
from .models import Area, AreaBoundary, GridLayer, Level, Operation
from .topology import bounds


shape_of = geo.to_shape  # the grids' boundaries as the editor's geometry works on them


@dataclass
class Change:
    """A grid's part in a proposal: its new shape (None: the grid goes); `grid` None for a new one."""

    code: str
    shape: BaseGeometry | None
    grid: Area | None = None
    name: str = ""
    parent: Area | None = None  # a new grid's, when not the proposal's (an imported set spans several)


@dataclass
class Proposal:
    operation: str
    layer: GridLayer
    parent: Area
    changes: list[Change]
    # grid id → the boundary version the editor drew on (a commit against a newer one conflicts)
    base_versions: dict[int, int] = field(default_factory=dict)
    matches: list = field(default_factory=list)  # an imported set's rows matched to grids (import_set)

    @property
    def shapes(self) -> dict:
        return {c.code: c.shape for c in self.changes}

    @property
    def grids(self) -> list[Area]:
        return [c.grid for c in self.changes if c.grid is not None]

    def groups(self) -> list[tuple[Area, dict]]:
        """The changes by the parent they are checked under: [(parent, {code: shape})]."""
        out: dict = {}
        for c in self.changes:
            parent = c.parent or (c.grid.parent if c.grid else self.parent)
            out.setdefault(parent.pk, (parent, {}))[1][c.code] = c.shape
        return list(out.values())

    def check(self) -> list:
        """The topology findings of every change, each group against its parent's sheet."""
        from . import selectors

        return [f for parent, shapes in self.groups()
                for f in selectors.sheet(parent, self.layer).check(shapes)]

    def extent(self) -> BaseGeometry:
        """Where records may move: the old and new shapes of every grid in the proposal."""
        old = [shape_of(g.boundary) for g in self.grids if g.boundary is not None]
        new = [c.shape for c in self.changes if c.shape is not None]
        return shapely.union_all(old + new)


def current_versions(grids) -> dict[int, int]:
    ids = [g.pk for g in grids]
    return dict(AreaBoundary.objects.filter(area_id__in=ids, valid_to__isnull=True).values_list("area_id", "version"))


def _proposal(operation: str, parent: Area, layer: GridLayer, changes: list[Change], **kw) -> Proposal:
    p = Proposal(operation, layer, parent, changes, **kw)
    p.base_versions = current_versions(p.grids)
    return p


def _grid(area: Area) -> Area:
    if area.level != Level.GRID or area.retired_at is not None or area.boundary is None:
        raise ValidationError(_("%(area)s is not a current grid") % {"area": area.code})
    return area


def neighbours(grid: Area) -> list[Area]:
    """The other current grids of the layer that touch `grid`."""
    return list(Area.objects.filter(level=Level.GRID, layer_id=grid.layer_id, retired_at__isnull=True,
                                    boundary__intersects=grid.boundary).exclude(pk=grid.pk).order_by("code"))


def next_codes(parent: Area, n: int) -> list[str]:
    """`n` unused grid codes under `parent`: its code and a three-digit serial after the highest in
    use (a retired grid's code is never given again: events reported in it still carry it)."""
    used = Area.objects.filter(code__startswith=parent.code, level=Level.GRID).values_list("code", flat=True)
    serials = [int(c[len(parent.code):]) for c in used if re.fullmatch(r"\d{3}", c[len(parent.code):])]
    start = max(serials, default=0) + 1
    if start + n - 1 > 999:
        raise ValidationError(_("no grid codes left under %(parent)s") % {"parent": parent.code})
    return [f"{parent.code}{k:03d}" for k in range(start, start + n)]


def draw(parent: Area, layer: GridLayer, shape: BaseGeometry, *, name: str = "") -> Proposal:
    """A new grid drawn under `parent`, snapped to the grids around it."""
    around = Area.objects.filter(level=Level.GRID, layer=layer, retired_at__isnull=True,
                                 boundary__intersects=geo.to_geos(shape))
    shape = drawing.snap(shape, [shape_of(g.boundary) for g in around])
    (code,) = next_codes(parent, 1)
    return _proposal(Operation.DRAW, parent, layer, [Change(code, shape, name=name or _default_name(parent, code))])


def reshape(grid: Area, shape: BaseGeometry) -> Proposal:
    """`grid` redrawn as `shape`; its neighbours give up what it takes and receive what it gives up."""
    grid = _grid(grid)
    near = {g.code: g for g in neighbours(grid)}
    new, changed, gap = drawing.reshape(shape_of(grid.boundary), shape, {c: shape_of(g.boundary) for c, g in near.items()},
                                        siblings={c for c, g in near.items() if g.parent_id == grid.parent_id})
    changes = [Change(grid.code, new, grid)] + [Change(c, s, near[c]) for c, s in sorted(changed.items())]
    return _proposal(Operation.RESHAPE, grid.parent, grid.layer, changes)


def split(grid: Area, line: BaseGeometry) -> Proposal:
    """`grid` cut along `line`: the largest piece keeps the grid (code, leader, history), each other
    piece becomes a new grid under the same parent."""
    grid = _grid(grid)
    pieces = drawing.split_by_line(shape_of(grid.boundary), line)
    codes = next_codes(grid.parent, len(pieces) - 1)
    changes = [Change(grid.code, pieces[0], grid)] + [
        Change(code, piece, name=_default_name(grid.parent, code)) for code, piece in zip(codes, pieces[1:])]
    return _proposal(Operation.SPLIT, grid.parent, grid.layer, changes)


def merge(grids: list[Area], keep: Area | None = None) -> Proposal:
    """Neighbouring grids as one: `keep` (else the first) survives with their union; the others
    retire."""
    grids = [_grid(g) for g in grids]
    if len({g.pk for g in grids}) < 2:
        raise ValidationError(_("a merge needs at least two grids"), code="merge")
    if len({g.parent_id for g in grids}) > 1 or len({g.layer_id for g in grids}) > 1:
        raise ValidationError(_("only grids of one parent and one layer can be merged"))
    keep = keep or grids[0]
    union = drawing.merge([shape_of(g.boundary) for g in grids])
    changes = [Change(keep.code, union, keep)] + [Change(g.code, None, g) for g in grids if g.pk != keep.pk]
    return _proposal(Operation.MERGE, keep.parent, keep.layer, changes)


def delete(grid: Area, target: Area | None = None) -> Proposal:
    """`grid` retired. Its ground goes to `target` (a neighbour, which takes its contents too); with
    no target the grid must be empty and its ground becomes a gap."""
    grid = _grid(grid)
    if target is not None:
        p = merge([target, grid], keep=target)
        p.operation = Operation.DELETE
        return p
    return _proposal(Operation.DELETE, grid.parent, grid.layer, [Change(grid.code, None, grid)])


def _default_name(parent: Area, code: str) -> str:
    return _("%(parent)s grid %(n)s") % {"parent": parent.name, "n": int(code[-3:])}


# --- suggestions: grids outside the household bounds, with a split or merge to start from -------

def suggestions(parent: Area, layer: GridLayer) -> list[dict]:
    """The grids of `parent` outside the household bounds (topology.bounds), each with a proposal
    to start from: above the upper bound, a split into two of about equal households along a
    straight line between buildings (never through one); below the lower bound, a merge with the
    neighbour that gives a total within bounds (else the smallest total). Each entry names the
    operation as the editor's API takes it, so the user can preview, accept or edit it."""
    from . import selectors

    sheet = selectors.sheet(parent, layer)
    low, high = bounds()["households"]
    grids = {g.code: g for g in Area.objects.filter(parent=parent, layer=layer, level=Level.GRID, retired_at__isnull=True)}
    counts = {code: sheet.households(shape_of(g.boundary)) for code, g in grids.items()}
    found = []
    for code, g in sorted(grids.items()):
        n = counts[code]
        if n > high:
            line = _balanced_line(sheet, shape_of(g.boundary))
            if line is None:
                found.append({"grid": code, "households": n, "kind": "split", "operation": None,
                              "note": _("no straight line between buildings halves it; draw one by hand")})
                continue
            p = split(g, line)
            found.append({"grid": code, "households": n, "kind": "split",
                          "operation": {"operation": "split", "grid": g.pk, "line": shapely.geometry.mapping(line)},
                          "households_after": [sheet.households(c.shape) for c in p.changes]})
        elif n < low:
            near = [nb for nb in neighbours(g) if nb.parent_id == parent.pk and shapely.length(
                shapely.intersection(shape_of(nb.boundary).boundary, shape_of(g.boundary).boundary)) > 0]
            if not near:
                continue
            fits = [nb for nb in near if low <= n + counts.get(nb.code, 0) <= high]
            best = min(fits or near, key=lambda nb: abs(n + counts.get(nb.code, 0) - (low + high) / 2) if fits
                       else n + counts.get(nb.code, 0))
            keep = best if counts.get(best.code, 0) >= n else g
            found.append({"grid": code, "households": n, "kind": "merge",
                          "operation": {"operation": "merge", "grids": [g.pk, best.pk], "keep": keep.pk},
                          "households_after": [n + counts.get(best.code, 0)]})
    return found


def _balanced_line(sheet, grid: BaseGeometry) -> BaseGeometry | None:
    """A straight line across `grid`, square to its long axis, with about half its households on
    each side and through no building: the gaps between consecutive buildings along the axis are
    tried from the one nearest the half-way count outwards."""
    inside = [b for b in sheet.buildings_in(grid) if b.households]
    if len(inside) < 2:
        return None
    rect = grid.minimum_rotated_rectangle
    xy = list(rect.exterior.coords)[:4]
    lat_scale = math.cos(math.radians(grid.centroid.y))
    sides = [((xy[i + 1][0] - xy[i][0]) * lat_scale, xy[i + 1][1] - xy[i][1]) for i in range(2)]
    ux, uy = max(sides, key=lambda v: math.hypot(*v))
    length = math.hypot(ux, uy)
    ux, uy = ux / length, uy / length  # the long axis, in "metric-ish" degrees

    def along(p):
        return p.x * lat_scale * ux + p.y * uy

    ordered = sorted(inside, key=lambda b: along(b.point))
    total = sum(b.households for b in ordered)
    cum, gaps = 0, []
    for a, b in zip(ordered, ordered[1:]):
        cum += a.households
        gaps.append((abs(cum - total / 2), (along(a.point) + along(b.point)) / 2))
    c, reach = grid.centroid, length  # the long side: from the centroid, far enough to cross any width
    base = along(c)
    for _off, t in sorted(gaps):
        # the point on the axis through the centroid at position t, and the line square to the axis there
        px, py = c.x + (t - base) * ux / lat_scale, c.y + (t - base) * uy
        line = shapely.LineString([(px - uy * reach / lat_scale, py + ux * reach), (px + uy * reach / lat_scale, py - ux * reach)])
        if sheet.crossed_buildings(line.intersection(grid.buffer(1e-6))):
            continue
        try:
            drawing.split_by_line(grid, line)
        except ValidationError:
            continue
        return line
    return None


# --- a whole boundary set, imported as one change --------------------------------------------

@dataclass
class Match:
    """How a row of an imported set was matched: to the current grid `old` by its code or by the
    largest overlap, or to none (a new grid); `code` is the grid's code after the import."""

    row: int
    code: str
    old: str | None
    by: str  # "code" | "overlap" | "new"
    changed: bool


def import_set(layer: GridLayer, features: list[tuple[str, str, BaseGeometry]], within: Area | None = None) -> Proposal:
    """A new set of grids for `layer` from a file, as one proposal: each feature (code, name,
    shape) is matched to a current grid by code, else by the largest overlap (at least half of
    the smaller of the two), and keeps that grid's identity; a feature matching none is a new
    grid under the area of the level above that it overlaps most (its code if given and free,
    else the next under that area); a current grid of the parents the set covers that no feature
    matches retires. Features equal to their grid's current shape change nothing. `within`
    (the editor's parent area) limits all of it to the grids and communities under that area.
    The proposal's `matches` lists every feature's Match, in file order."""
    current_qs = Area.objects.filter(level=Level.GRID, layer=layer, retired_at__isnull=True).select_related("parent")
    if within is not None:
        current_qs = current_qs.filter(path__startswith=within.path)
    current = {g.code: g for g in current_qs}
    codes = list(current)
    shapes = {code: drawing.exact(shape_of(g.boundary)) for code, g in current.items()}
    tree = shapely.STRtree([shapes[c] for c in codes])
    elsewhere = set(Area.objects.filter(level=Level.GRID, layer=layer, retired_at__isnull=True,
                                        code__in=[f[0] for f in features if f[0] and f[0] not in current])
                    .values_list("code", flat=True))
    matched, changes, new, matches = {}, [], [], []
    for row, (code, name, shape) in enumerate(features, start=1):
        if code in elsewhere:
            raise ValidationError(_("row %(row)s: grid %(grid)s lies outside %(parent)s"), code="bad_row",
                                  params={"row": row, "grid": code, "parent": within.name, "field": "code"})
        shape = drawing.exact(shape)
        grid, by = (current.get(code), "code") if code else (None, "")
        if grid is None:
            near = [codes[j] for j in tree.query(shape, predicate="intersects") if codes[j] not in matched]
            overlap = {c: shapely.intersection(shape, shapes[c]).area for c in near}
            best = max(overlap, key=overlap.get, default=None)
            if best is not None and overlap[best] >= 0.5 * min(shape.area, shapes[best].area):
                grid, by = current[best], "overlap"
        if grid is not None:
            if grid.code in matched:
                raise ValidationError(_("rows %(a)s and %(b)s both match grid %(grid)s"), code="bad_row",
                                      params={"a": matched[grid.code], "b": row, "grid": grid.code, "row": row})
            matched[grid.code] = row
            changed = not shape.equals(shapes[grid.code])
            if changed:
                changes.append(Change(grid.code, shape, grid))
            matches.append(Match(row, grid.code, grid.code, by, changed))
            continue
        new.append((row, code, name, shape, _parent_of(shape, row, within)))
    by_parent: dict = {}
    for entry in new:
        by_parent.setdefault(entry[4].pk, []).append(entry)
    taken = set(Area.objects.filter(code__in=[n[1] for n in new if n[1]]).values_list("code", flat=True))
    for entries in by_parent.values():
        parent = entries[0][4]
        fresh = iter(next_codes(parent, len(entries)))
        for row, code, name, shape, _p in entries:
            code = code if code and code not in taken and len(code) <= 32 else next(fresh)
            taken.add(code)
            changes.append(Change(code, shape, name=name or _default_name(parent, code), parent=parent))
            matches.append(Match(row, code, None, "new", True))
    parents = {c.parent.pk for c in changes if c.parent} | {current[c].parent_id for c in matched}
    changes += [Change(code, None, g) for code, g in sorted(current.items()) if g.parent_id in parents and code not in matched]
    if not changes:
        raise ValidationError(_("the file matches the current grids exactly: nothing to change"), code="unchanged")
    if within is None:
        roots = Area.objects.filter(pk__in=parents)
        common = min((r.path for r in roots), key=len)
        while not all(r.path.startswith(common) for r in roots):
            common = common[:common.rstrip("/").rfind("/") + 1]
        within = Area.objects.get(path=common)
    p = _proposal(Operation.IMPORT, within, layer, changes)
    p.matches = sorted(matches, key=lambda m: m.row)
    return p


def _parent_of(shape: BaseGeometry, row: int, within: Area | None) -> Area:
    """The area of the level above grids (under `within`, if given) that a new grid overlaps most."""
    geom = geo.to_geos(shape)
    candidates = Area.objects.filter(level=Level.COMMUNITY, retired_at__isnull=True, boundary__intersects=geom)
    if within is not None:
        candidates = candidates.filter(path__startswith=within.path)
    best = max(candidates, key=lambda a: shapely.intersection(shape, shape_of(a.boundary)).area, default=None)
    if best is None:
        if within is not None:
            raise ValidationError(_("row %(row)s lies outside %(parent)s"), code="bad_row",
                                  params={"row": row, "parent": within.name, "field": "geometry",
                                          "spot": [round(c, 7) for c in shape.representative_point().coords[0]]})
        raise ValidationError(_("row %(row)s lies in no community"), code="bad_row", params={"row": row, "field": "geometry"})
    return best
