"""The hotspot and map report tests' lattice: 5 × 5 square grids with known counts (imported by them)."""
import datetime as dt
import itertools

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache

from gridmap.events.models import Category, Event
from gridmap.grids import services as grid_services
from gridmap.grids.models import Level

from ..conftest import rect

LATTICE_WEST, LATTICE_SOUTH, LATTICE_STEP, LATTICE_SIDE = 114.10, 22.50, 0.01, 5
_numbers = itertools.count()


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def put_events(grid, lonlat, n, at, code="0101", **kw):
    """`n` events in `grid` at one point, bulk-inserted (no workflow: where, when, what and the
    grid at report time are what the statistics count)."""
    category = Category.objects.get(code=code)
    return Event.objects.bulk_create([
        Event(number=f"H{next(_numbers):08d}", category=category, point=Point(*lonlat, srid=4326), description="测试",
              channel="patrol", reported_at=at, grid=grid, **kw) for _i in range(n)])


@pytest.fixture
def lattice(primary_layer):
    """A district of one street and one community cut into 5 × 5 square grids of 0.01°; grid
    (i, j) is the i-th from the west and j-th from the south, code 440399001001 + 3 digits."""
    box = rect(LATTICE_WEST, LATTICE_SOUTH, LATTICE_WEST + LATTICE_SIDE * LATTICE_STEP, LATTICE_SOUTH + LATTICE_SIDE * LATTICE_STEP)
    district = grid_services.create_area(code="440399", name="格子区", level=Level.DISTRICT, boundary=box)
    street = grid_services.create_area(code="440399001", name="格子街道", level=Level.STREET, parent=district, boundary=box)
    community = grid_services.create_area(code="440399001001", name="格子社区", level=Level.COMMUNITY, parent=street, boundary=box)
    grids = {}
    for i, j in itertools.product(range(LATTICE_SIDE), repeat=2):
        x, y = LATTICE_WEST + i * LATTICE_STEP, LATTICE_SOUTH + j * LATTICE_STEP
        grids[i, j] = grid_services.create_area(
            code=f"440399001001{i * LATTICE_SIDE + j + 1:03d}", name=f"格{i}-{j}", level=Level.GRID, parent=community,
            layer=primary_layer, boundary=rect(x, y, x + LATTICE_STEP, y + LATTICE_STEP))
    return {"district": district, "street": street, "community": community, "grids": grids}


def centre(i, j):
    return (LATTICE_WEST + (i + 0.5) * LATTICE_STEP, LATTICE_SOUTH + (j + 0.5) * LATTICE_STEP)


# events per grid (i, j): a cluster in the south-west corner, a few elsewhere
COUNTS = {(0, 0): 9, (0, 1): 8, (1, 0): 7, (1, 1): 9, (2, 2): 1, (3, 4): 2, (4, 4): 1, (4, 0): 1, (2, 0): 2}


@pytest.fixture
def counted(lattice):
    """The lattice with COUNTS events per grid, reported 3 days before now (time-machine)."""
    from gridmap.core import clock

    at = clock.now() - dt.timedelta(days=3)
    for (i, j), n in COUNTS.items():
        put_events(lattice["grids"][i, j], centre(i, j), n, at)
    return lattice
