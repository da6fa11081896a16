"""Writes to the area tree: creating areas, redrawing boundaries (versioned), bulk regrid."""
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from .models import Area, AreaBoundary, GridLayer, Level

# Tables whose rows are placed by their own point, and those placed through another row.
POINT_PLACED = ["places_building", "places_organisation", "places_facility"]


def as_multipolygon(geom: GEOSGeometry) -> MultiPolygon:
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=geom.srid)
    if geom.geom_type != "MultiPolygon":
        raise ValidationError(f"a boundary must be a polygon, got {geom.geom_type}")
    if geom.srid != 4326:
        geom = geom.transform(4326, clone=True)
    if not geom.valid:
        raise ValidationError(f"invalid boundary: {geom.valid_reason}")
    return geom


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
def set_boundary(area: Area, geom: GEOSGeometry, *, author=None, reason: str, regrid_now: bool = True) -> AreaBoundary:
    """Write a new boundary version: the old one is closed and kept; what moved is re-placed."""
    if not reason:
        raise ValidationError("a boundary change needs a reason")
    geom = as_multipolygon(geom)
    now = timezone.now()
    current = area.boundary_versions.select_for_update().filter(valid_to__isnull=True).first()
    old = area.boundary
    if current:
        current.valid_to = now
        current.save(update_fields=["valid_to"])
    version = AreaBoundary.objects.create(
        area=area, version=(current.version + 1) if current else 1, geom=geom,
        valid_from=now, author=author, reason=reason,
    )
    area.boundary = geom
    area.save(update_fields=["boundary"])
    if regrid_now and area.level == Level.GRID:
        extent = geom if old is None else geom.union(old)
        regrid(extent=extent)
    return version


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
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('gridmap.bulk', %s, true)", [previous])


# Set-based placement into a temp table `target` (id, grid_id). Interior hits are unique and
# found fast with ST_ContainsProperly: the grid polygon is the outer, repeated argument, so
# PostGIS prepares it once and probes the points' index. Only the few rows left over (on an
# edge, or outside every grid) take the lowest-code rule one by one.
ASSIGN_SQL = """
CREATE TEMP TABLE {target} ON COMMIT DROP AS
SELECT t.id, g.id AS grid_id
FROM grids_area g
JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
JOIN {table} t ON ST_ContainsProperly(g.boundary, t.location)
WHERE g.level = 'grid' AND {where};
ANALYZE {target};
INSERT INTO {target}
SELECT t.id, gridmap_grid_at(t.location) FROM {table} t
WHERE {where} AND NOT EXISTS (SELECT 1 FROM {target} p WHERE p.id = t.id);
"""

_CASCADE_SQL = [
    ("places_dwelling", """UPDATE places_dwelling d SET grid_id = b.grid_id FROM places_building b
        WHERE b.id = d.building_id AND d.grid_id IS DISTINCT FROM b.grid_id"""),
    ("people_household", """UPDATE people_household h SET grid_id = d.grid_id FROM places_dwelling d
        WHERE d.id = h.dwelling_id AND h.grid_id IS DISTINCT FROM d.grid_id"""),
    ("people_person", """UPDATE people_person p SET grid_id = d.grid_id FROM places_dwelling d
        WHERE d.id = p.dwelling_id AND p.grid_id IS DISTINCT FROM d.grid_id"""),
    ("people_visit", """UPDATE people_visit v SET grid_id = gridmap_grid_at(v.location)
        WHERE v.location IS NOT NULL AND v.grid_id IS DISTINCT FROM gridmap_grid_at(v.location)"""),
]
CASCADE_TABLES = [table for table, _sql in _CASCADE_SQL]


def place_table(cur, table: str, extent: GEOSGeometry | None = None) -> int:
    """Place every located row of `table` (optionally only those within `extent`) in one pass;
    returns how many rows changed grid. Call it inside `bulk_placement()`."""
    where = "t.location IS NOT NULL"
    params = {}
    if extent is not None:
        where += " AND ST_Intersects(t.location, ST_GeomFromEWKB(%(extent)s))"
        params = {"extent": bytes(extent.ewkb)}
    cur.execute(ASSIGN_SQL.format(target="_placed", table=table, where=where), params or None)
    cur.execute(
        f"""UPDATE {table} t SET grid_id = p.grid_id FROM _placed p
            WHERE p.id = t.id AND t.grid_id IS DISTINCT FROM p.grid_id"""
    )
    changed = cur.rowcount
    cur.execute("DROP TABLE _placed")
    return changed


@transaction.atomic
def regrid(extent: GEOSGeometry | None = None, tables: list[str] | None = None, on_step=None) -> RegridResult:
    """Re-place located records in the primary layer, set-based; then cascade building →
    dwelling → household/person. `extent` limits the work to what a boundary change touched.
    `on_step(table, rows)` is called after each table (progress bars)."""
    changed = {}
    on_step = on_step or (lambda table, rows: None)
    with bulk_placement(), connection.cursor() as cur:
        for table in tables or POINT_PLACED:
            changed[table] = place_table(cur, table, extent)
            on_step(table, changed[table])
        for table, sql in _CASCADE_SQL:
            cur.execute(sql)
            changed[table] = cur.rowcount
            on_step(table, changed[table])
    return RegridResult(changed)
