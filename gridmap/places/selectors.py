"""Reads over buildings and other places, always scoped to the caller's area."""
import datetime as dt
import math

from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import gettext as _

from gridmap.core import clock
from gridmap.core.geojson import feature_collection
from gridmap.core.scoping import scope

from .models import Building, Dwelling, DwellingUse, Facility, Organisation


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


# --- the floor table (楼盘表): building → floors × units → dwellings with their tags -------------

def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


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


def _count(qs: QuerySet, fk: str = "dwelling"):
    """A correlated COUNT(*) of `qs` rows per dwelling, 0 when none."""
    counted = qs.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def tagged_dwellings(user, building: Building, today: dt.date | None = None) -> QuerySet[Dwelling]:
    """The building's dwellings, each annotated in SQL (one statement) with its tags:
    n_households, n_residents, n_floating (流动人口 living there), has_welfare (a current welfare
    record the caller may see), elderly_alone ('record': a current 空巢老人 record; 'alone60': the
    only resident is aged 60 or more) and, for roles that see sensitive data only, has_special (a current
    special-group record the caller may see, sealed ones only for the sealing role)."""
    from gridmap.people.models import Household, Person, ResidenceType, WelfareKind
    from gridmap.people.selectors import special_group_records, welfare_records

    today = today or clock.today()
    current = Q(end__isnull=True) | Q(end__gte=today)
    residents = Person.objects.filter(dwelling=OuterRef("pk"))
    welfare = welfare_records(user).filter(current, person__dwelling=OuterRef("pk"))
    qs = (
        Dwelling.objects.filter(building=building)
        .annotate(
            n_households=_count(Household.objects.all()),
            n_residents=_count(Person.objects.all()),
            n_floating=_count(Person.objects.filter(residence_type=ResidenceType.FLOATING)),
            has_welfare=Exists(welfare),
            elderly_alone=Case(
                When(Exists(welfare.filter(kind=WelfareKind.EMPTY_NEST)), then=Value("record")),
                When(Q(n_residents=1) & Exists(residents.filter(birth_date__lte=years_before(today, 60))), then=Value("alone60")),
                default=Value(None), output_field=CharField(),
            ),
        )
        .order_by("-floor", "unit", "room")
    )
    if user.sees_sensitive:
        qs = qs.annotate(has_special=Exists(special_group_records(user).filter(current, person__dwelling=OuterRef("pk"))))
    return qs


TAGS = ("floating", "special", "welfare", "elderly_alone")


def floor_table(user, pk: int, today: dt.date | None = None) -> dict:
    """A building's card and its floor table (楼盘表), top floor first; cells are floor × unit
    and hold the dwellings with their tags, plus totals for the legend. Two queries. When the
    floors above ground are unknown, only the floors dwellings are on (and those below ground) are
    listed and `floors_note` says why; else it is None. Raises Building.DoesNotExist outside the
    caller's area."""
    building = buildings(user).select_related("grid__leader", "building_head").get(pk=pk)
    rows = list(tagged_dwellings(user, building, today).values(
        "id", "unit", "floor", "room", "use", "area_m2", "n_households", "n_residents", "n_floating",
        "has_welfare", "elderly_alone", *(["has_special"] if user.sees_sensitive else []),
    ))
    labels = dict(DwellingUse.choices)
    # Declared floors (no floor 0; a half storey is a floor: 3.5 → 4; none when unknown) and units,
    # plus any a dwelling is recorded on.
    floors = set(range(1, (building.whole_floors or 0) + 1)) | set(range(-building.floors_below, 0)) | {r["floor"] for r in rows}
    units = sorted(set(range(1, building.units + 1)) | {r["unit"] for r in rows})
    cells = {(f, u): [] for f in floors for u in units}
    totals = {"dwellings": len(rows), **{use: 0 for use in DwellingUse.values},
              "households": 0, "residents": 0, "floating_residents": 0,
              **{tag: 0 for tag in TAGS if tag != "special" or user.sees_sensitive}}
    for r in rows:
        cell = {
            "id": r["id"], "room": r["room"], "use": r["use"], "use_label": labels.get(r["use"], r["use"]),
            "area_m2": r["area_m2"], "households": r["n_households"], "residents": r["n_residents"],
            "floating": r["n_floating"], "welfare": r["has_welfare"], "elderly_alone": r["elderly_alone"],
            **({"special": r["has_special"]} if user.sees_sensitive else {}),
        }
        tags = [t for t in TAGS if cell.get(t)]
        cells[(r["floor"], r["unit"])].append({**cell, "tags": tags})
        totals[r["use"]] = totals.get(r["use"], 0) + 1
        totals["households"] += r["n_households"]
        totals["residents"] += r["n_residents"]
        totals["floating_residents"] += r["n_floating"]
        for t in tags:
            totals[t] += 1
    return {
        "building": building_card(building),
        "units": units,
        "floors": [
            {"floor": f, "label": f"{f}F" if f > 0 else f"B{-f}", "cells": [{"unit": u, "dwellings": cells[(f, u)]} for u in units]}
            for f in sorted(floors, reverse=True)
        ],
        "totals": totals,
        "sensitive": user.sees_sensitive,
        "floors_note": None if building.floors_above is not None else _(
            "The number of floors is not recorded: the table shows only the floors dwellings are on."),
    }
