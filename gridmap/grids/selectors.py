"""Reads over the area tree: subtrees, point-in-grid look-ups, unassigned records, and the
boundary editor's reads (the sheet a drawing is checked against, the impact preview,
the boundaries as of a date)."""
import time
from dataclasses import dataclass, field

import shapely
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from gridmap.core import geo
from gridmap.core.scoping import scope

from .followers import FOLLOWERS
from .models import Area, AreaBoundary, GridLayer, Level
from .topology import Building, Sheet


def primary_layer() -> GridLayer | None:
    return GridLayer.objects.filter(is_primary=True).first()


def subtree(area: Area) -> QuerySet[Area]:
    """The area and everything below it."""
    return Area.objects.filter(path__startswith=area.path)


def visible_areas(user, qs: QuerySet[Area] | None = None) -> QuerySet[Area]:
    """The areas `user` may see: the subtree of their own area (an area's scope is itself and
    everything below it), all of them for the centre, none without an area."""
    return scope(Area.objects.all() if qs is None else qs, user, grid="", location=None)


def visible_extent(user) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the user's area, or of everything for the centre."""
    return visible_areas(user).filter(boundary__isnull=False).aggregate(e=Extent("boundary"))["e"]


def grids(layer: GridLayer | None = None) -> QuerySet[Area]:
    return Area.objects.filter(level=Level.GRID, layer=layer or primary_layer())


def grid_at(lon: float, lat: float) -> Area | None:
    """The primary-layer grid of a point, by the same rule the database triggers use."""
    with connection.cursor() as cur:
        cur.execute("SELECT gridmap_grid_at(ST_SetSRID(ST_MakePoint(%s, %s), 4326))", [lon, lat])
        (grid_id,) = cur.fetchone()
    return Area.objects.filter(pk=grid_id).first() if grid_id else None


def grids_at(lon: float, lat: float) -> dict[str, Area]:
    """The grid of a point in every layer (layer code → grid), lowest code on shared edges."""
    found = {}
    for grid in (
        Area.objects.filter(level=Level.GRID, boundary__intersects=Point(lon, lat, srid=4326))
        .select_related("layer")
        .order_by("layer_id", "code")
    ):
        found.setdefault(grid.layer.code, grid)
    return found


def unassigned(model) -> QuerySet:
    """Located records outside every grid: the community's or centre's queue."""
    qs = model.objects.filter(grid__isnull=True)
    if any(f.name == "location" for f in model._meta.get_fields()):
        qs = qs.filter(location__isnull=False)
    return qs


# --- the boundary editor's reads: what a drawing is checked against, what it would move ---------

_SHEETS: dict[tuple[int, int], tuple[float, Sheet]] = {}
SHEET_SECONDS = 60  # another process's commit shows within this; this process's at once (forget_sheets)


def sheet(parent: Area, layer: GridLayer, *, fresh: bool = False) -> Sheet:
    """What a drawing under `parent` is checked against (topology.Sheet): the layer's current grids
    that touch the parent, its buildings and their households. Kept in memory between checks of
    one editing session, so a check while drawing costs no query."""
    key = (parent.pk, layer.pk)
    hit = _SHEETS.get(key)
    if hit and not fresh and time.monotonic() - hit[0] < SHEET_SECONDS:
        return hit[1]
    outline = bytes(parent.boundary.ewkb)
    # raw rows, not models: building model instances with their parents' outlines cost more than
    # the query
    with connection.cursor() as cur:
        grids = _grids_around(cur, [parent.pk], layer)[parent.pk]
        # buildings by table name, as the placement does (services.POINT_PLACED): grids sits below
        # places and people and reads their rows only to place them and to weigh a drawing
        cur.execute(
            """SELECT b.code, ST_AsBinary(b.location), ST_AsBinary(b.footprint), count(h.id)
               FROM places_building b
               LEFT JOIN places_dwelling d ON d.building_id = b.id
               LEFT JOIN people_household h ON h.dwelling_id = d.id
               WHERE b.location IS NOT NULL AND ST_Intersects(b.location, ST_GeomFromEWKB(%s))
               GROUP BY b.id""",
            [outline],
        )
        buildings = [Building(code, shapely.from_wkb(bytes(pt)), shapely.from_wkb(bytes(fp)) if fp else None, n)
                     for code, pt, fp, n in cur.fetchall()]
    result = Sheet(parent.code, geo.to_shape(parent.boundary), grids, buildings)
    _SHEETS[key] = (time.monotonic(), result)
    return result


def grid_sheets(parents: list[Area], layer: GridLayer) -> dict[int, Sheet]:
    """Each parent's sheet with the layer's grids as they are now and no buildings, in one query,
    not kept: what a commit checks its proposal against again (only errors refuse a commit, and
    none of them weighs a building)."""
    with connection.cursor() as cur:
        grids = _grids_around(cur, [p.pk for p in parents], layer)
    return {p.pk: Sheet(p.code, geo.to_shape(p.boundary), grids[p.pk]) for p in parents}


def _grids_around(cur, parent_ids: list[int], layer: GridLayer) -> dict[int, dict]:
    """{parent id: {code: (shape, parent code)}} of the layer's current grids touching each parent
    (a grid near two parents is read and parsed once)."""
    cur.execute(
        """SELECT p.id, g.code, gp.code, CASE WHEN row_number() OVER (PARTITION BY g.id) = 1 THEN ST_AsBinary(g.boundary) END
           FROM grids_area p
           JOIN grids_area g ON g.level = %s AND g.layer_id = %s AND g.retired_at IS NULL AND ST_Intersects(g.boundary, p.boundary)
           JOIN grids_area gp ON gp.id = g.parent_id
           WHERE p.id = ANY(%s) ORDER BY g.code""",
        [Level.GRID, layer.pk, list(parent_ids)],
    )
    rows = cur.fetchall()
    shapes = {code: shapely.from_wkb(bytes(wkb)) for _p, code, _pc, wkb in rows if wkb is not None}
    around = {pk: {} for pk in parent_ids}
    for parent_id, code, parent_code, _wkb in rows:
        around[parent_id][code] = (shapes[code], parent_code)
    return around


def forget_sheets() -> None:
    _SHEETS.clear()


# Located tables whose rows move with a boundary, and the cascade below buildings: kind → how the
# preview finds the moved rows' dwellings, households and people.
_LISTED = {"places_building": ("buildings", "coalesce(nullif(t.name, ''), t.code)"),
           "places_organisation": ("organisations", "t.name"),
           "places_facility": ("facilities", "t.code")}
_BELOW_BUILDINGS = {
    "dwellings": "SELECT m.from_code, m.to_code, count(*) FROM _moved m JOIN places_dwelling d ON d.building_id = m.id GROUP BY 1, 2",
    "households": """SELECT m.from_code, m.to_code, count(*) FROM _moved m JOIN places_dwelling d ON d.building_id = m.id
                     JOIN people_household h ON h.dwelling_id = d.id GROUP BY 1, 2""",
    "people": """SELECT m.from_code, m.to_code, count(*) FROM _moved m JOIN places_dwelling d ON d.building_id = m.id
                 JOIN people_person p ON p.dwelling_id = d.id GROUP BY 1, 2""",
}
_TOTALS = {
    "buildings": "SELECT grid_id, count(*) FROM places_building WHERE grid_id = ANY(%s) GROUP BY 1",
    "dwellings": "SELECT grid_id, count(*) FROM places_dwelling WHERE grid_id = ANY(%s) GROUP BY 1",
    "households": "SELECT grid_id, count(*) FROM people_household WHERE grid_id = ANY(%s) GROUP BY 1",
    "people": "SELECT grid_id, count(*) FROM people_person WHERE grid_id = ANY(%s) GROUP BY 1",
    "organisations": "SELECT grid_id, count(*) FROM places_organisation WHERE grid_id = ANY(%s) GROUP BY 1",
    "facilities": "SELECT grid_id, count(*) FROM places_facility WHERE grid_id = ANY(%s) GROUP BY 1",
}
LIST_LIMIT = 500  # rows listed per kind; counts are always whole


@dataclass
class Impact:
    """What a proposal moves (the preview): per kind, (from code, to code, count) — None for
    "no grid" — and the moved rows listed (buildings with their point for the map); per grid of
    the proposal, its totals afterwards."""

    moves: dict = field(default_factory=dict)
    listed: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)

    def moved(self, kind: str) -> int:
        return sum(n for _f, _t, n in self.moves.get(kind, ()))

    def as_json(self) -> dict:
        return {
            "moves": {k: [{"from": f, "to": t, "count": n} for f, t, n in v] for k, v in self.moves.items()},
            "moved": {k: self.moved(k) for k in self.moves},
            "listed": self.listed, "totals": self.totals,
        }


def impact(proposal) -> Impact:
    """The impact preview of a proposal (proposals.Proposal), computed in PostGIS by the placement
    rule (a point goes to the grid that covers it, lowest code on a shared edge): which located
    records change grid, what hangs on the moved buildings, the open records of other apps
    (followers), and each proposed grid's totals after. Writes nothing (a temp table, dropped)."""
    result = Impact()
    changed = {g.pk: g.code for g in proposal.grids}
    codes = [c.code for c in proposal.changes]
    if not proposal.layer.is_primary:  # only the primary layer places records
        result.totals = {code: {} for code in codes}
        return result
    extent = proposal.extent()
    with transaction.atomic(), connection.cursor() as cur:
        shaped = [(c.code, c.grid.pk if c.grid else None, shapely.to_wkb(c.shape)) for c in proposal.changes if c.shape is not None]
        cur.execute(
            """CREATE TEMP TABLE _proposed ON COMMIT DROP AS
               SELECT p.code, p.grid_id, ST_Multi(ST_SetSRID(ST_GeomFromWKB(p.wkb), 4326)) AS boundary
               FROM unnest(%s::text[], %s::bigint[], %s::bytea[]) AS p(code, grid_id, wkb)
               UNION ALL
               SELECT g.code, g.id, g.boundary FROM grids_area g JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
               WHERE g.level = 'grid' AND g.boundary IS NOT NULL AND NOT g.id = ANY(%s)
                 AND ST_Intersects(g.boundary, ST_GeomFromWKB(%s, 4326));
               CREATE INDEX ON _proposed USING gist (boundary);""",
            [[s[0] for s in shaped], [s[1] for s in shaped], [s[2] for s in shaped], list(changed),
             shapely.to_wkb(extent)],
        )
        for table, (kind, label) in _LISTED.items():
            cur.execute(
                f"""CREATE TEMP TABLE _moved ON COMMIT DROP AS
                    SELECT * FROM (
                        SELECT t.id, {label} AS label, ST_X(t.location) AS lon, ST_Y(t.location) AS lat,
                               g.code AS from_code,
                               (SELECT p.code FROM _proposed p WHERE ST_Intersects(p.boundary, t.location)
                                ORDER BY p.code LIMIT 1) AS to_code
                        FROM {table} t LEFT JOIN grids_area g ON g.id = t.grid_id
                        WHERE t.location IS NOT NULL AND ST_Intersects(t.location, ST_GeomFromWKB(%s, 4326))
                    ) s WHERE from_code IS DISTINCT FROM to_code""",
                [shapely.to_wkb(extent)],
            )
            cur.execute("SELECT from_code, to_code, count(*) FROM _moved GROUP BY 1, 2 ORDER BY 1, 2")
            result.moves[kind] = cur.fetchall()
            cur.execute("SELECT id, label, from_code, to_code, lon, lat FROM _moved ORDER BY from_code, to_code, label LIMIT %s",
                        [LIST_LIMIT])
            result.listed[kind] = [dict(zip(("id", "label", "from", "to", "lon", "lat"), row)) for row in cur.fetchall()]
            if kind == "buildings":
                for below, sql in _BELOW_BUILDINGS.items():
                    cur.execute(sql + " ORDER BY 1, 2")
                    result.moves[below] = cur.fetchall()
            cur.execute("DROP TABLE _moved")
        for follower in FOLLOWERS.values():
            for kind, (moves, listed) in follower.preview(cur, list(changed)).items():
                result.moves[kind], result.listed[kind] = moves, listed
        cur.execute("DROP TABLE _proposed")
        result.totals = _totals(cur, changed, codes, result.moves)
    return result


def _totals(cur, changed: dict, codes: list, moves: dict) -> dict:
    """Each proposed grid's counts afterwards: what it holds now, plus what comes, minus what goes."""
    totals = {code: {} for code in codes}
    for kind, sql in _TOTALS.items():
        cur.execute(sql, [list(changed)])
        now = {changed[grid_id]: n for grid_id, n in cur.fetchall()}
        for code in codes:
            came = sum(n for f, t, n in moves.get(kind, ()) if t == code)
            went = sum(n for f, t, n in moves.get(kind, ()) if f == code)
            totals[code][kind] = now.get(code, 0) + came - went
    return totals


def areas_as_of(when, level: str = Level.GRID, layer: GridLayer | None = None) -> QuerySet[AreaBoundary]:
    """The boundary versions in force at `when` (the map as of a date): one per area."""
    qs = AreaBoundary.objects.filter(valid_from__lte=when).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=when))
    qs = qs.filter(area__level=level)
    if level == Level.GRID:
        qs = qs.filter(area__layer=layer or primary_layer())
    return qs.select_related("area", "redraw", "author")


def may_redraw(user, parent: Area) -> bool:
    """Who may redraw the grids under `parent`: the centre anywhere, street and community staff
    within their own area (PRODUCT.md: centre staff draw and re-draw boundaries)."""
    from gridmap.core.models import Role

    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.CENTRE_ADMIN:
        return True
    return (user.role == Role.AREA_STAFF and user.area_id is not None and user.area.level in (Level.STREET, Level.COMMUNITY)
            and parent.is_within(user.area))


def editable_sheet(parent: Area, layer: GridLayer) -> dict:
    """What the editor draws around a parent: its outline, its neighbours at its level (so a line
    is not drawn into the next community), and the layer's grids on and around it with their
    current version, leader and households."""
    near = Area.objects.filter(level=parent.level, boundary__intersects=parent.boundary, retired_at__isnull=True).exclude(pk=parent.pk)
    grids = (Area.objects.filter(level=Level.GRID, layer=layer, retired_at__isnull=True, boundary__intersects=parent.boundary)
             .select_related("leader").order_by("code"))
    versions = dict(AreaBoundary.objects.filter(area__in=grids, valid_to__isnull=True).values_list("area_id", "version"))
    checked = sheet(parent, layer)
    households = {code: checked.households(shape) for code, (shape, _p) in checked.grids.items()}

    def feature(area, **props):
        return {"type": "Feature", "geometry": shapely.geometry.mapping(geo.to_shape(area.boundary)),
                "properties": {"id": area.pk, "code": area.code, "name": area.name, **props}}

    return {
        "parent": feature(parent, level=parent.level),
        "neighbours": [feature(a, level=a.level) for a in near],
        "grids": [feature(g, version=versions.get(g.pk), own=g.parent_id == parent.pk, households=households.get(g.code, 0),
                          leader=(g.leader.get_full_name() or g.leader.username) if g.leader else "") for g in grids],
        "layer": layer.code,
    }


def boundary_history(area: Area) -> list[dict]:
    """A grid's versions, newest first, each with who changed what, when, why and its shape."""
    return [
        {"version": v.version, "valid_from": v.valid_from, "valid_to": v.valid_to, "reason": v.reason,
         "author": (v.author.get_full_name() or v.author.username) if v.author else "",
         "operation": v.redraw.operation if v.redraw else "", "moved": v.redraw.moved if v.redraw else {},
         "geometry": shapely.geometry.mapping(geo.to_shape(v.geom))}
        for v in area.boundary_versions.select_related("author", "redraw").order_by("-version")
    ]


def changed_since(base_versions: dict[int, int]) -> list[dict]:
    """The grids whose current boundary version is not the one given ({grid id: version}): what
    changed, by whom, when and why — what a second editor is told instead of overwriting."""
    versions = dict(AreaBoundary.objects.filter(area_id__in=base_versions, valid_to__isnull=True).order_by()
                    .values_list("area_id", "version"))
    if all(versions.get(grid_id) == base for grid_id, base in base_versions.items()):
        return []  # the usual answer, in one light query
    current = {v.area_id: v for v in AreaBoundary.objects.filter(area_id__in=base_versions, valid_to__isnull=True)
               .select_related("author")}
    codes = dict(Area.objects.filter(pk__in=base_versions).values_list("pk", "code"))
    stale = []
    for grid_id, base in sorted(base_versions.items()):
        now = current.get(grid_id)
        if now is not None and now.version == base:
            continue
        what = (gettext("retired") if now is None else
                gettext("now at version %(v)s by %(who)s at %(when)s: %(why)s") % {
                    "v": now.version, "who": now.author or "—",
                    "when": timezone.localtime(now.valid_from).strftime("%Y-%m-%d %H:%M"), "why": now.reason})
        stale.append({"grid_id": grid_id, "code": codes.get(grid_id, ""), "base_version": base,
                      "version": None if now is None else now.version, "what": what})
    return stale
