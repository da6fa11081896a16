"""Writes the demo district (演示数据) in one transaction: areas through the grids services (so
each boundary gets its first version) and their staff, the primary grids and a second layer's
(城管网格) alike; then, street by street, the registers
with bulk inserts while the row triggers stand aside (`bulk_placement`); one set-based regrid
places everything, as an import would; visits last, placed by their row trigger."""
import datetime as dt
import os
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from gridmap.core import clock
from gridmap.core.models import User
from gridmap.grids import services as grids
from gridmap.grids.models import Area, AreaBoundary, GridLayer, Level
from gridmap.grids.selectors import primary_layer
from gridmap.people.models import (
    EmploymentRecord, Household, HouseholdMember, Person, SpecialGroupRecord, Visit, WelfareRecord,
)
from gridmap.places.models import Building, Dwelling, Facility, Inspection, Organisation, RentedDwelling

from .events import EVENTS_PER_STREET, load_demo_events
from .plan import OTHER_LAYER, DemoPlan, Registers, make_plan, size_for

DEMO_PASSWORD = os.environ.get("GRIDMAP_DEMO_PASSWORD", "gridmap-demo")
BATCH = 2000
LIVE_DAYS = 730  # the demo district's boundaries are in force from two years ago


def stages(scale: float = 1, areas_only: bool = False) -> list[str]:
    """The steps `load_demo_district` reports through `on_stage`, in order (progress bars)."""
    if areas_only:
        return ["plan", "areas", "staff"]
    streets = size_for(scale).streets
    return ["plan", "areas", "staff"] + [f"street {n}/{streets}" for n in range(1, streets + 1)] + ["outside", "regrid", "visits", "events"]


def _bulk(model, rows) -> None:
    model.objects.bulk_create(rows, batch_size=BATCH)


@transaction.atomic
def load_demo_district(*, seed: int = 1, scale: float = 1, today: dt.date | None = None, county: str = "440305",
                       areas_only: bool = False, on_stage: Callable[[str], None] = lambda stage: None) -> DemoPlan:
    """Generate the demo district from `seed` at `scale` (plan.size_for) and write it. With
    `areas_only`, only the area tree with its boundary versions and staff. Refuses a database
    that already has areas: the demo never mixes with real data."""
    if Area.objects.exists():
        raise ValidationError("the area tree is not empty; the demo district loads only into an empty database "
                              "(start from a fresh one, or `manage.py flush`)")
    if not (len(county) == 6 and county.isdigit()):
        raise ValidationError(f"county code must be 6 digits (GB/T 2260), got {county!r}")
    try:
        size_for(scale)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    steps = iter(stages(scale, areas_only))
    on_stage(next(steps))
    plan = make_plan(seed, scale, today, county, areas_only=areas_only)

    on_stage(next(steps))
    layers = {
        "": primary_layer() or GridLayer.objects.create(code="social", name="综治网格 Social-management grids", is_primary=True),
        OTHER_LAYER[0]: GridLayer.objects.get_or_create(code=OTHER_LAYER[0], defaults={"name": OTHER_LAYER[1]})[0],
    }
    areas: dict[str, Area] = {}
    parents = {child.code: node.code for node in plan.root.walk() for child in node.children}
    reason = "演示数据 demo district"
    for node in plan.root.walk():
        areas[node.code] = grids.create_area(
            code=node.code, name=node.name, level=node.level, parent=areas.get(parents.get(node.code)),
            layer=layers[""] if node.level == Level.GRID else None, boundary=node.geom, reason=reason,
        )
    # the other layer's grids in one set-based write: as many again as the primary grids at ×100
    overlay = [(node, grid) for node in plan.root.walk() for grid in node.overlay]
    made = grids.create_grids(layers[OTHER_LAYER[0]], [(g.code, g.name, areas[node.code], g.geom) for node, g in overlay],
                              reason=reason)
    areas.update((area.code, area) for area in made)
    # the district went live LIVE_DAYS ago with these boundaries: the map as of a past date and the
    # statistics of past periods find them in force, as they would on a real system
    AreaBoundary.objects.filter(area__in=list(areas.values())).update(
        valid_from=clock.start_of_day((today or clock.today()) - dt.timedelta(days=LIVE_DAYS)))
    for node in plan.root.walk_layers():
        areas[node.code].phone = node.phone

    on_stage(next(steps))
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing per user would take minutes
    for user, node in plan.users:
        user.password = password
        user.area = areas[node.code] if node else None
    _bulk(User, [u for u, _ in plan.users])
    workers = []
    for node in plan.root.walk_layers():
        area = areas[node.code]
        area.leader = node.staff[0] if node.staff else None
        workers += [Area.workers.through(area_id=area.pk, user_id=u.pk) for u in node.staff[1:]]
    Area.objects.bulk_update(areas.values(), ["leader", "phone"], batch_size=BATCH)
    Area.workers.through.objects.bulk_create(workers, batch_size=BATCH)
    if areas_only:
        return plan

    visits: list[Visit] = []
    with grids.bulk_placement():  # the regrid below places every row at once
        for part in plan.streets:  # drawn one street at a time, written, let go
            on_stage(next(steps))
            _write(part)
            visits += part.visits
        on_stage(next(steps))
        grids.regrid()
    # placement is back on: visits take their grid from their point or their subject, which
    # the row trigger does best
    on_stage(next(steps))
    _bulk(Visit, visits)
    on_stage(next(steps))
    load_demo_events(seed=seed, today=today or clock.today(), count=max(10, round(EVENTS_PER_STREET * scale)))
    return plan


def load_demo_areas(*, scale: float = 1, seed: int = 1, county: str = "440305") -> DemoPlan:
    """Only the area tree, its boundary versions and staff (the geocoding benchmark)."""
    return load_demo_district(seed=seed, scale=scale, county=county, areas_only=True)


def _write(part: Registers) -> None:
    r = part.residents
    _bulk(Building, part.buildings)
    _bulk(Dwelling, part.dwellings)
    _bulk(Person, r.persons)
    _bulk(Household, r.households)
    _bulk(HouseholdMember, r.members)
    for household, head in r.heads:
        household.head = head
    Household.objects.bulk_update(r.households, ["head"], batch_size=BATCH)
    for dwelling, owner in r.owners:
        dwelling.owner = owner
    Dwelling.objects.bulk_update([d for d, _ in r.owners], ["owner"], batch_size=BATCH)
    for building, head in part.building_heads:
        building.building_head = head
    Building.objects.bulk_update([b for b, _ in part.building_heads], ["building_head"], batch_size=BATCH)
    _bulk(RentedDwelling, r.rentals)
    RentedDwelling.tenants.through.objects.bulk_create(
        [RentedDwelling.tenants.through(renteddwelling_id=rd.pk, person_id=p.pk) for rd, p in r.tenants], batch_size=BATCH)
    _bulk(EmploymentRecord, r.employment)
    _bulk(WelfareRecord, r.welfare)
    _bulk(SpecialGroupRecord, r.special)
    _bulk(Organisation, part.organisations)
    _bulk(Inspection, part.inspections)
    _bulk(Facility, part.facilities)
