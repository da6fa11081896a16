"""Reads over buildings and other places, always scoped to the caller's area."""
import math

from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from gridmap.core.geojson import feature_collection
from gridmap.core.scoping import scope

from .models import Building, Dwelling, Facility, Organisation


def buildings(user) -> QuerySet[Building]:
    return scope(Building.objects.all(), user)


def buildings_in_bbox(user, bbox: tuple[float, float, float, float]) -> QuerySet[Building]:
    """Visible buildings whose footprint meets the (west, south, east, north) box (GiST-indexed)."""
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    return buildings(user).filter(footprint__intersects=box)


def label() -> Coalesce:
    """SQL for Building.label: the name, else the address, else the code (most surveyed footprints
    have no name)."""
    return Coalesce(NullIf(F("name"), Value("")), NullIf(F("address"), Value("")), F("code"), output_field=CharField())


def building_layer(user, bbox: tuple[float, float, float, float]) -> str:
    """Building footprints in a box as GeoJSON, with only the properties the map draws: name is the
    building's label (name, else address, else code); height_m, when recorded, sets the 2.5D
    height, floors × 3 m otherwise; floors_above is null when unknown and may be fractional (3.5)."""
    return feature_collection(
        buildings_in_bbox(user, bbox), "footprint",
        {"id": "id", "code": "code", "name": label(), "floors_above": "floors_above", "height_m": "height_m",
         "use": "use", "grid": "grid__code"},
    )


# Building vector tiles (Mapbox Vector Tile, written by PostGIS's ST_AsMVT).
TILE_EXTENT = 4096  # tile units across a tile: 0.15 m at zoom 16, enough to overzoom to 19
TILE_NAMES_FROM_ZOOM = 15  # z14 tiles (the map at zoom 15) carry no code or name


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The (west, south, east, north) of web-mercator tile z/x/y in WGS84 degrees: its edges are
    meridians and parallels, so this box selects exactly the footprints that meet the tile."""
    n = 2 ** z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def building_tile(user, z: int, x: int, y: int) -> bytes:
    """The visible buildings meeting tile z/x/y as one MVT layer "buildings": feature id = the
    building's id; properties floors_above (absent when unknown; 3.5 for a half storey), height_m,
    use (what the map draws) and, from tile zoom TILE_NAMES_FROM_ZOOM, code and name (the tooltip's:
    the building's label, name else address else code; at the widest zoom they would double a
    dense view's bytes). Footprints are not clipped at the tile edge, so a building that
    straddles tiles comes whole in each and the page, which draws it once by id, extrudes it
    without seams."""
    named = z >= TILE_NAMES_FROM_ZOOM
    columns = ["id", "floors_above", "height_m", "use", *(["code", "name"] if named else [])]
    qs = buildings_in_bbox(user, tile_bounds(z, x, y))
    qs = qs.values("id", "floors_above", "height_m", "use", *(["code"] if named else []), "footprint",
                   **({"label": label()} if named else {}))
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # scope() gave nothing (a user with no area): an empty tile
        return b""
    tile = f"""
        SELECT ST_AsMVT(t, 'buildings', {TILE_EXTENT}, 'geom', 'id')
        FROM (
            SELECT {", ".join("b.label AS name" if c == "name" else f"b.{c}" for c in columns)},
                   ST_AsMVTGeom(ST_Transform(b.footprint, 3857), ST_TileEnvelope(%s, %s, %s),
                                {TILE_EXTENT}, 0, false) AS geom  -- unclipped: no buffer
            FROM ({sql}) b
        ) t
        WHERE t.geom IS NOT NULL"""
    with connections[qs.db].cursor() as cur:
        cur.execute(tile, [z, x, y, *params])  # the envelope comes first in the text
        return bytes(cur.fetchone()[0] or b"")


def _box(bbox: tuple[float, float, float, float]) -> Polygon:
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    return box


def facility_layer(user, bbox: tuple[float, float, float, float]) -> str:
    """Facilities (部件) whose geometry meets the box, as GeoJSON points at their `location` (a line's
    point is derived by the database), with only what the map draws: kind colours the symbol,
    status damaged/missing is highlighted."""
    qs = scope(Facility.objects.all(), user).filter(geom__intersects=_box(bbox), location__isnull=False)
    return feature_collection(qs, "location", {"id": "id", "code": "code", "kind": "kind", "status": "status"})


def organisation_layer(user, bbox: tuple[float, float, float, float]) -> str:
    """Organisations (单位) placed in the box, as GeoJSON points: name, kind (the symbol's colour)
    and risk level (high is highlighted)."""
    qs = scope(Organisation.objects.all(), user).filter(location__intersects=_box(bbox))
    return feature_collection(qs, "location", {"id": "id", "name": "name", "kind": "kind", "risk_level": "risk_level"})


# --- dwellings and the building's card (the floor table with its residents: people.selectors) ---

def dwellings(user) -> QuerySet[Dwelling]:
    """Dwellings in the caller's area (placed through their building)."""
    return scope(Dwelling.objects.all(), user, location="building__location")


def building_card(building: Building) -> dict:
    grid = building.grid
    floors = building.floors_above
    return {
        "id": building.pk, "code": building.code, "name": building.name, "label": building.label,
        "address": building.address,
        "point": building.footprint and building.footprint.point_on_surface.coords,  # where the map flies to
        "use": building.use, "use_label": building.get_use_display(),
        # as recorded (3.5: a half storey), a whole number as such; None when unknown
        "floors_above": int(floors) if floors is not None and floors.is_integer() else floors,
        "floors_above_label": _("floors unknown") if floors is None else f"{floors:g}",
        "floors_below": building.floors_below,
        "units": building.units, "rooms_per_floor": building.rooms_per_floor,
        "height_m": building.height_m, "year_built": building.year_built,
        "property_manager": building.property_manager,
        "building_head": building.building_head.name if building.building_head else None,
        "grid": grid and {"id": grid.pk, "code": grid.code, "name": grid.name, "leader": grid.leader and grid.leader.display_name},
    }
