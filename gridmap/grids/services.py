"""Writes to the area tree: creating areas, redrawing boundaries (versioned) one by one or as a
committed editor change (split, merge, reshape, draw, delete), bulk regrid."""
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from gridmap.core import clock, geo

from . import selectors, topology
from .followers import FOLLOWERS, POLICIES
from .models import Area, AreaBoundary, GridLayer, Level, Redraw

# Tables whose rows are placed by their own point, and those placed through another row.
POINT_PLACED = ["places_building", "places_organisation", "places_facility"]


def as_multipolygon(geom: GEOSGeometry) -> MultiPolygon:
    """A boundary as stored: a multipolygon in WGS84 within the limits of `geo.check_geometry`
    (coordinate range, vertex count, extent; an invalid polygon repaired within 1% or refused)."""
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=geom.srid)
    if geom.geom_type != "MultiPolygon":
        raise ValidationError(f"a boundary must be a polygon, got {geom.geom_type}")
    return geo.check_geometry(geom, kind="boundary")


# Shared edges meet in a line of zero area; anything above this is an overlap, not noise.
OVERLAP_TOLERANCE_M2 = 1.0


def check_no_overlap(area: Area, geom: MultiPolygon) -> None:
    """Grids of one layer must not overlap ("横向到边"): refuse a boundary that covers part of
    another grid of the layer, naming the grids and the overlapping area in m²."""
    clashes = (
        Area.objects.filter(level=Level.GRID, layer_id=area.layer_id, boundary__intersects=geom)
        .exclude(pk=area.pk)
        .annotate(overlap=RawSQL("ST_Area(ST_Intersection(boundary, ST_GeomFromEWKB(%s))::geography)", [bytes(geom.ewkb)]))
        .filter(overlap__gt=OVERLAP_TOLERANCE_M2)
        .order_by("code")
    )
    if clashes:
        listed = ", ".join(f"{g.code} {g.name} ({g.overlap:,.0f} m²)" for g in clashes[:5])
        raise ValidationError(f"the boundary of {area.code} overlaps other grids of its layer: {listed}")


@transaction.atomic
def create_area(*, code: str, name: str, level: str, parent: Area | None = None,
                layer: GridLayer | None = None, boundary: GEOSGeometry | None = None,
                author=None, reason: str = "created") -> Area:
    if level == Level.GRID and layer is None:
        raise ValidationError("a grid needs a layer")
    area = Area(code=code, name=name, level=level, parent=parent, layer=layer if level == Level.GRID else None)
    area.full_clean(exclude=["path"])
    area.save()
    if boundary is not None:
        set_boundary(area, boundary, author=author, reason=reason, regrid_now=False)
    return area


@transaction.atomic
def create_grids(layer: GridLayer, grids: list[tuple[str, str, Area, GEOSGeometry]], *, author=None,
                 reason: str = "created") -> list[Area]:
    """Many grids of one layer at once, each (code, name, parent, boundary): what `create_area`
    does for one — a valid polygon, a unique code, a parent above the grid, no overlap with
    the layer's other grids (new or not), a first boundary version — checked and written
    set-based, in a handful of statements whatever the number (a second layer of thousands of
    grids). Nothing is written if any check fails. Like `create_area`, it places no records:
    after adding primary-layer grids, `regrid`."""
    if layer is None or layer.pk is None:
        raise ValidationError("grids need a saved layer")
    if not grids:
        return []
    # one writer per layer at a time: a concurrent call waits here, then sees this one's grids in
    # its overlap check (each would otherwise pass it, blind to the other's uncommitted grids)
    GridLayer.objects.select_for_update().get(pk=layer.pk)
    counts = Counter(code for code, _name, _parent, _geom in grids)
    duplicates = sorted((code for code, n in counts.items() if n > 1), key=str)
    if duplicates:
        raise ValidationError(f"duplicate grid codes: {', '.join(map(str, duplicates[:5]))}")
    areas = []
    for code, name, parent, geom in grids:
        if parent is None or parent.pk is None or parent.level == Level.GRID:
            raise ValidationError(f"grid {code} needs a saved parent above the grid level")
        if geom is None:
            raise ValidationError(f"grid {code} needs a boundary")
        try:
            area = Area(code=code, name=name, level=Level.GRID, parent=parent, layer=layer, boundary=as_multipolygon(geom))
            # each field's own rules (lengths, blanks, choices); not the relations (a query each)
            # nor the path (set below) nor the boundary (as_multipolygon checked it)
            area.clean_fields(exclude=["parent", "layer", "leader", "path", "boundary"])
        except ValidationError as exc:
            why = ("; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
                   if hasattr(exc, "error_dict") else " ".join(exc.messages))
            raise ValidationError(f"grid {code}: {why}") from None
        areas.append(area)
    taken = sorted(Area.objects.filter(code__in=counts).values_list("code", flat=True))
    if taken:
        raise ValidationError(f"area codes already in use: {', '.join(taken[:5])}")
    Area.objects.bulk_create(areas, batch_size=2000)
    ids = [a.pk for a in areas]
    with connection.cursor() as cur:
        cur.execute("""UPDATE grids_area a SET path = p.path || a.id || '/' FROM grids_area p
                       WHERE p.id = a.parent_id AND a.id = ANY(%s) RETURNING a.id, a.path""", [ids])
        paths = dict(cur.fetchall())
        # the same rule as check_no_overlap, for every new grid against the layer's grids at once
        cur.execute(
            """SELECT a.code, b.code, ST_Area(ST_Intersection(a.boundary, b.boundary)::geography) FROM grids_area a
               JOIN grids_area b ON b.level = 'grid' AND b.layer_id = a.layer_id AND b.id <> a.id
                    AND ST_Intersects(a.boundary, b.boundary) AND NOT (b.id = ANY(%s) AND b.id < a.id)
               WHERE a.id = ANY(%s) AND ST_Area(ST_Intersection(a.boundary, b.boundary)::geography) > %s
               ORDER BY a.code, b.code LIMIT 5""",
            [ids, ids, OVERLAP_TOLERANCE_M2],
        )
        clashes = cur.fetchall()
    if clashes:
        listed = ", ".join(f"{a} and {b} ({m2:,.0f} m²)" for a, b, m2 in clashes)
        raise ValidationError(f"grids of layer {layer.code} would overlap: {listed}")
    now = clock.now()
    AreaBoundary.objects.bulk_create(
        [AreaBoundary(area=a, version=1, geom=a.boundary, valid_from=now, author=author, reason=reason) for a in areas],
        batch_size=2000,
    )
    for a in areas:
        a.path = paths[a.pk]
    return areas


@transaction.atomic
def set_boundary(area: Area, geom: GEOSGeometry, *, author=None, reason: str, regrid_now: bool = True) -> AreaBoundary:
    """Write a new boundary version: the old one is closed and kept; what moved is re-placed."""
    if not reason:
        raise ValidationError("a boundary change needs a reason")
    geom = as_multipolygon(geom)
    if area.level == Level.GRID:
        check_no_overlap(area, geom)
    old, when = area.boundary, clock.now()
    (version,) = _new_versions([(area.pk, geom)], when, author=author, reason=reason)
    area.boundary, area.retired_at = geom, None
    if regrid_now and area.level == Level.GRID:
        extent = geom if old is None else geom.union(old)
        regrid(extent=extent)
    return AreaBoundary.objects.get(pk=version)


def _new_versions(changes: list[tuple[int, MultiPolygon | None]], when, *, author, reason: str,
                  redraw=None) -> list[int]:
    """For each (area id, shape): close the area's current boundary version at `when` and open the
    next with the shape (None: the area retires — no current boundary, the row and its history
    stay). One round trip however many areas a change redraws; returns the new versions' ids."""
    with connection.cursor() as cur:
        # closed first (one_current_boundary is checked row by row), in the same round trip
        cur.execute(
            """UPDATE grids_areaboundary SET valid_to = %(when)s WHERE area_id = ANY(%(ids)s) AND valid_to IS NULL;
               WITH changed AS (SELECT * FROM unnest(%(ids)s::bigint[], %(shapes)s::bytea[]) AS c(id, shape)),
               areas AS (UPDATE grids_area a SET boundary = ST_GeomFromEWKB(c.shape),
                                                 retired_at = CASE WHEN c.shape IS NULL THEN %(when)s::timestamptz END
                         FROM changed c WHERE a.id = c.id)
               INSERT INTO grids_areaboundary (area_id, version, geom, valid_from, author_id, reason, redraw_id)
               SELECT c.id, coalesce((SELECT max(v.version) FROM grids_areaboundary v WHERE v.area_id = c.id), 0) + 1,
                      ST_GeomFromEWKB(c.shape), %(when)s, %(author)s, %(reason)s, %(redraw)s
               FROM changed c WHERE c.shape IS NOT NULL
               RETURNING id""",
            {"when": when, "ids": [pk for pk, _geom in changes],
             "shapes": [None if geom is None else bytes(geom.ewkb) for _pk, geom in changes],
             "author": getattr(author, "pk", None), "reason": reason, "redraw": getattr(redraw, "pk", None)})
        return [pk for (pk,) in cur.fetchall()]


@dataclass
class RegridResult:
    changed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.changed.values())


@contextmanager
def bulk_placement():
    """Inside, the geocoding row triggers stand aside (gridmap.bulk = 'on') so bulk writes are
    cheap; the caller then places the rows set-based (`place_table`, `regrid`). The previous
    mode comes back on exit, so later writes in the same transaction are placed again."""
    if not connection.in_atomic_block:
        raise RuntimeError("bulk_placement needs a transaction (transaction.atomic)")
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(current_setting('gridmap.bulk', true), ''), set_config('gridmap.bulk', 'on', true)")
        previous = cur.fetchone()[0]
    yield
    # not in a `finally`: after an error the transaction is aborted and rolls back anyway, the
    # setting with it (set_config(..., true) is transaction-local); a query now would hide the error
    with connection.cursor() as cur:
        cur.execute("SELECT set_config('gridmap.bulk', %s, true)", [previous])


# Set-based placement into a temp table `target` (id, grid_id, grid_code, inside). The grid
# polygon is the outer side of the join, so PostGIS prepares it once and probes the points' GiST
# index with it; the grids are split among parallel workers (planner settings for this statement
# only: left on, they would make every later query of the transaction a parallel plan that waits
# ~40 ms for its workers). A point matches two grids of a layer on a shared edge or vertex, or
# inside one grid and on the edge of another where they overlap by a sliver (the overlap checks
# allow up to 1 m²): for every point with a match on an edge, the lowest code among all its
# matches wins, as in gridmap_grid_at. A point in no grid gets no row (unassigned).
ASSIGN_SQL = """
SELECT set_config('gridmap.planner', concat_ws(' ', current_setting('jit'), current_setting('parallel_setup_cost'),
                  current_setting('parallel_tuple_cost'), current_setting('min_parallel_table_scan_size')), true);
SET LOCAL jit = off;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
CREATE TEMP TABLE {target} ON COMMIT DROP AS
SELECT t.id, g.id AS grid_id, g.code AS grid_code, ST_ContainsProperly(g.boundary, t.location) AS inside
FROM grids_area g
JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
JOIN {table} t ON ST_Intersects(g.boundary, t.location)
WHERE g.level = 'grid' AND {where};
SELECT set_config(s.name, split_part(current_setting('gridmap.planner'), ' ', s.n::int), true)
FROM unnest(ARRAY['jit', 'parallel_setup_cost', 'parallel_tuple_cost', 'min_parallel_table_scan_size']) WITH ORDINALITY s(name, n);
DELETE FROM {target} p USING (
    SELECT id, min(grid_code) AS grid_code FROM {target}
    WHERE id IN (SELECT id FROM {target} WHERE NOT inside) GROUP BY id HAVING count(*) > 1
) d WHERE p.id = d.id AND p.grid_code > d.grid_code;
"""

# Whole tables: dwellings take their building's grid, households and people their dwelling's.
_CASCADE_SQL = [
    ("places_dwelling", """UPDATE places_dwelling d SET grid_id = b.grid_id FROM places_building b
        WHERE b.id = d.building_id AND d.grid_id IS DISTINCT FROM b.grid_id"""),
    ("people_household", """UPDATE people_household h SET grid_id = d.grid_id FROM places_dwelling d
        WHERE d.id = h.dwelling_id AND h.grid_id IS DISTINCT FROM d.grid_id"""),
    ("people_person", """UPDATE people_person p SET grid_id = d.grid_id FROM places_dwelling d
        WHERE d.id = p.dwelling_id AND p.grid_id IS DISTINCT FROM d.grid_id"""),
]
# regrid's steps after the point-placed tables: visits (placed by their GPS point) and the cascade.
CASCADE_TABLES = ["people_visit"] + [table for table, _sql in _CASCADE_SQL]

# A boundary change places only what lies in its extent (the old and new shapes), in one
# statement: a round trip and a plan, where the machine is busy each costs more than the work.
# Per located table: its rows in the extent (ground), each placed with the grids touching the
# extent as the outer side of the join (each prepared once), serial (a street's few thousand
# points do not repay parallel workers' start-up); DISTINCT ON keeps the lowest code among a
# point's grids, the rule of gridmap_grid_at and ASSIGN_SQL; only rows whose grid changes are
# written. Then what stands on the extent's buildings: the dwellings that disagree with their
# building's grid after this statement (a building moved, here or by an import's upsert) take
# it, and the households and people of the dwellings that moved follow them, looked up by index
# (= ANY: the planner cannot tell how few dwellings moved, and would hash every household of the
# city). The gridmap.bulk setting is on while the statement runs (the cascade triggers stand
# aside) and back as it was after it. The answer: rows written per table.
_EXTENT = "ST_GeomFromEWKB(%(extent)s)"
_LOCAL_PLACE_SQL = f"""
ground_{{i}} AS MATERIALIZED (SELECT t.id, t.grid_id FROM {{table}} t WHERE ST_Intersects(t.location, {_EXTENT})),
placed_{{i}} AS MATERIALIZED (
    SELECT r.id, p.grid_id FROM ground_{{i}} r LEFT JOIN (
        SELECT DISTINCT ON (t.id) t.id, g.id AS grid_id
        FROM grids_area g
        JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
        JOIN {{table}} t ON ST_Intersects(g.boundary, t.location)
        WHERE g.level = 'grid' AND ST_Intersects(g.boundary, {_EXTENT}) AND ST_Intersects(t.location, {_EXTENT})
        ORDER BY t.id, g.code) p ON p.id = r.id),
written_{{i}} AS (
    UPDATE {{table}} t SET grid_id = p.grid_id FROM placed_{{i}} p
    WHERE t.id = ANY(ARRAY(SELECT id FROM ground_{{i}})) AND t.id = p.id AND t.grid_id IS DISTINCT FROM p.grid_id
    RETURNING 1)"""
_LOCAL_CASCADE_SQL = """
dwellings AS (
    UPDATE places_dwelling d SET grid_id = b.grid_id FROM buildings b
    WHERE d.building_id = b.id AND d.grid_id IS DISTINCT FROM b.grid_id
    RETURNING d.id, d.grid_id),
households AS (
    UPDATE people_household h SET grid_id = m.grid_id FROM dwellings m
    WHERE h.dwelling_id = ANY(ARRAY(SELECT id FROM dwellings)) AND h.dwelling_id = m.id AND h.grid_id IS DISTINCT FROM m.grid_id
    RETURNING 1),
people AS (
    UPDATE people_person p SET grid_id = m.grid_id FROM dwellings m
    WHERE p.dwelling_id = ANY(ARRAY(SELECT id FROM dwellings)) AND p.dwelling_id = m.id AND p.grid_id IS DISTINCT FROM m.grid_id
    RETURNING 1)"""
# the extent's buildings with their grid after the statement: as placed in it, or as they are
_BUILDINGS_PLACED = "buildings AS (SELECT id, grid_id FROM placed_{i})"
_BUILDINGS_AS_THEY_ARE = f"buildings AS (SELECT b.id, b.grid_id FROM places_building b WHERE ST_Intersects(b.location, {_EXTENT}))"


def _local_regrid_sql(located: list[str]) -> str:
    """The statement that re-places `located` tables (and the cascade) in an extent."""
    parts = [_LOCAL_PLACE_SQL.format(i=i, table=table) for i, table in enumerate(located)]
    parts.append(_BUILDINGS_PLACED.format(i=located.index("places_building")) if "places_building" in located
                 else _BUILDINGS_AS_THEY_ARE)
    parts.append(_LOCAL_CASCADE_SQL)
    counts = [f"(SELECT count(*) FROM written_{i})" for i in range(len(located))]
    counts += ["(SELECT count(*) FROM dwellings)", "(SELECT count(*) FROM households)", "(SELECT count(*) FROM people)"]
    # named first, for whoever reads the activity view (it shows the start of a statement)
    return (f"/* regrid of an extent: {', '.join(located)} and what stands on the buildings */\n"
            "SELECT set_config('gridmap.outer_bulk', coalesce(current_setting('gridmap.bulk', true), ''), true), "
            "set_config('gridmap.bulk', 'on', true);\n"
            f"WITH {','.join(parts)}\nSELECT {', '.join(counts)}, "
            "set_config('gridmap.bulk', current_setting('gridmap.outer_bulk'), true)")


def place_table(cur, table: str) -> int:
    """Place every located row of `table` in one pass; returns how many rows changed grid.
    Call it inside `bulk_placement()`."""
    cur.execute(ASSIGN_SQL.format(target="_placed", table=table, where="t.location IS NOT NULL"))
    cur.execute("ANALYZE _placed")
    # one pass writes both the new grids and the unassigned (no row in _placed → NULL)
    cur.execute(
        f"""UPDATE {table} t SET grid_id = s.grid_id
            FROM (SELECT t.id, p.grid_id FROM {table} t LEFT JOIN _placed p ON p.id = t.id WHERE t.location IS NOT NULL) s
            WHERE s.id = t.id AND t.grid_id IS DISTINCT FROM s.grid_id"""
    )
    changed = cur.rowcount
    cur.execute("DROP TABLE _placed")
    return changed


def cluster_by_location(tables: list[str] | None = None) -> None:
    """Rewrite located tables in the order of their location index (CLUSTER), so the points of
    one grid sit on neighbouring pages: placement then reads pages in runs instead of at random
    (about 2× faster at city scale). Takes an exclusive lock per table: a maintenance step."""
    with connection.cursor() as cur:
        for table in tables or POINT_PLACED:
            cur.execute(
                """SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                   JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
                   WHERE t.relname = %s AND am.amname = 'gist' AND a.attname = 'location'""",
                [table],
            )
            (index,) = cur.fetchone()
            cur.execute(f'CLUSTER {table} USING "{index}"')
            cur.execute(f"ANALYZE {table}")


@transaction.atomic(savepoint=False)  # nothing to roll back to: a failure fails the caller's transaction
def regrid(extent: GEOSGeometry | None = None, tables: list[str] | None = None, on_step=None) -> RegridResult:
    """Re-place located records in the primary layer, set-based; then cascade building →
    dwelling → household/person, and place visits by their GPS point. `extent` limits the work
    to what a boundary change touched: the rows located in it and what stands on its buildings.
    `on_step(table, rows)` is called after each table (progress bars)."""
    changed = {}
    on_step = on_step or (lambda table, rows: None)
    located = [*(tables or POINT_PLACED), "people_visit"]
    if extent is not None:
        with connection.cursor() as cur:
            cur.execute(_local_regrid_sql(located), {"extent": bytes(extent.ewkb)})
            rows = cur.fetchone()
        changed = dict(zip(located + [table for table, _sql in _CASCADE_SQL], rows))
        for table, n in changed.items():
            on_step(table, n)
        return RegridResult(changed)
    with bulk_placement(), connection.cursor() as cur:
        for table in located:
            changed[table] = place_table(cur, table)
            on_step(table, changed[table])
        for table, sql in _CASCADE_SQL:
            cur.execute(sql)
            changed[table] = cur.rowcount
            on_step(table, changed[table])
    return RegridResult(changed)


# What a boundary change moves, by the preview's kinds (selectors.impact, followers).
MOVED_KINDS = {"buildings": _lazy("buildings"), "dwellings": _lazy("dwellings"), "households": _lazy("households"),
               "people": _lazy("people"), "organisations": _lazy("organisations"), "facilities": _lazy("facilities"),
               "events": _lazy("open events")}
# The kinds of the tables a boundary change re-places (visits are not counted).
KIND_OF_TABLE = {"places_building": "buildings", "places_organisation": "organisations", "places_facility": "facilities",
                 "places_dwelling": "dwellings", "people_household": "households", "people_person": "people"}


class BoundaryConflict(Exception):
    """Someone else committed a change to these grids since the editor loaded them."""

    def __init__(self, changes: list[dict]):
        self.changes = changes
        super().__init__("; ".join(f"{c['code']}: {c['what']}" for c in changes))


@transaction.atomic
def commit_redraw(proposal, *, author, reason: str, effective_from=None, policy: str = "default") -> Redraw:
    """Commit an editor's proposal (grids.proposals) in one transaction: the same topology checks
    as while drawing, on the grids read under lock; a new boundary version for every changed grid
    (codes and identities kept where a grid survives; a merged or deleted one retires), the
    records in the changed ground re-placed, open records of other apps kept with or moved from
    their handler by `policy` (followers.POLICIES), and a Redraw that says who, when, why and what
    moved. A conflict (someone committed to one of these grids since the proposal was made)
    raises BoundaryConflict; any failure leaves every record where it was."""
    if not reason or not reason.strip():
        raise ValidationError(_("a boundary change needs a reason"))
    if policy not in POLICIES:
        raise ValidationError(_("unknown policy for open events: %(p)s") % {"p": policy})
    # one boundary writer per layer at a time; the grids' rows are locked for the version check,
    # and read with their current versions in the same round trip
    with connection.cursor() as cur:
        cur.execute("""SELECT 1 FROM grids_gridlayer WHERE id = %(layer)s FOR UPDATE;
                       SELECT a.id, v.version, v.valid_from FROM grids_area a
                       LEFT JOIN grids_areaboundary v ON v.area_id = a.id AND v.valid_to IS NULL
                       WHERE a.id = ANY(%(grids)s) ORDER BY a.code FOR UPDATE OF a""",
                    {"layer": proposal.layer.pk, "grids": [g.pk for g in proposal.grids]})
        current = {pk: (version, since) for pk, version, since in cur.fetchall()}
    locked = set(current)
    if any(current.get(pk, (None,))[0] != version for pk, version in proposal.base_versions.items()):
        stale = selectors.changed_since(proposal.base_versions)  # who changed what, for the second editor
        if stale:
            raise BoundaryConflict(stale)
    # the drawing's checks again, on the grids as they are now (read under the lock): only what
    # refuses a commit, so the sheets need no buildings
    groups = proposal.groups()
    sheets = selectors.grid_sheets([parent for parent, _shapes in groups], proposal.layer)
    topology.refuse_on_errors([f for parent, shapes in groups for f in sheets[parent.pk].check(shapes, errors_only=True)])
    now = clock.now()
    effective = effective_from or now
    if effective > now:
        raise ValidationError(_("a boundary change cannot take effect in the future"))
    started = [since for _version, since in current.values() if since is not None and since > effective]
    if started:
        raise ValidationError(_("the change cannot take effect before the current boundaries did (%(when)s)") % {
            "when": timezone.localtime(max(started)).strftime("%Y-%m-%d %H:%M")})
    leaving = [c.code for c in proposal.changes if c.shape is None]
    if leaving:  # what a retiring grid holds must go somewhere: asked before anything is written
        preview = selectors.impact(proposal)
        stranded = {kind for kind, moves in preview.moves.items() for f, t, n in moves if f in leaving and t is None and n}
        if stranded:
            raise ValidationError(_("%(grids)s still holds %(kinds)s: delete it with a target grid for its contents") % {
                "grids": ", ".join(leaving), "kinds": "、".join(str(MOVED_KINDS.get(k, k)) for k in sorted(stranded))})
    redraw = Redraw.objects.create(operation=proposal.operation, author=author, committed_at=now,
                                   effective_from=effective, reason=reason.strip())
    redrawn = []
    for change in proposal.changes:
        geom = None if change.shape is None else as_multipolygon(geo.to_geos(change.shape))
        if change.grid is not None and change.grid.pk in locked:
            redrawn.append((change.grid.pk, geom))
            continue
        area = Area(code=change.code, name=change.name, level=Level.GRID, parent=change.parent or proposal.parent,
                    layer=proposal.layer)
        area.full_clean(exclude=["path", "boundary"])
        area.save()
        redrawn.append((area.pk, geom))
    _new_versions(redrawn, effective, author=author, reason=reason.strip(), redraw=redraw)
    redraw.moved = {}
    if proposal.layer.is_primary:
        # placed once, in the changed ground only; what moved is counted from the rows written
        result = regrid(extent=geo.to_geos(proposal.extent()))
        redraw.moved = {kind: result.changed[table] for table, kind in KIND_OF_TABLE.items()}
    changed_ids = list(locked)
    for follower in FOLLOWERS.values():
        redraw.moved[follower.name] = follower.follow(redraw, changed_ids, policy)
    redraw.save(update_fields=["moved"])
    transaction.on_commit(selectors.forget_sheets)
    return redraw
