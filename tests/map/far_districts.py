"""Two districts thousands of km apart under one centre: the `tree` of tests/conftest.py (南山区,
Shenzhen, grids A and B) and 东城区 in Beijing with one street, one community and two grids; some
residents and open events in each, and area staff for each district. Used by the map overview's
API test (tests/map/test_map_overview.py) and browser test (tests/browser/test_district_overview.py)."""
import pytest

from gridmap.core.models import Role
from gridmap.grids import services as grid_services
from gridmap.grids.models import Level
from gridmap.places.models import Building, Dwelling

from ..conftest import rect
from ..estate import household, person

BEIJING = (116.40, 39.90, 116.44, 39.94)


def _residents(code, box, names):
    """A building in `box` (w, s, e, n: its south-west corner region) with one household of `names`."""
    x, y = box[0] + 0.005, box[1] + 0.005
    building = Building.objects.create(code=code, name=f"{code}栋", floors_above=6, footprint=rect(x, y, x + 0.0004, y + 0.0003))
    dwelling = Dwelling.objects.create(building=building, unit=1, floor=1, room="101")
    people = [person(dwelling, name, age=40 + i) for i, name in enumerate(names)]
    household(f"H-{code}", dwelling, *[(p, "head" if i == 0 else "child") for i, p in enumerate(people)])
    return building


@pytest.fixture
def far_districts(tree, primary_layer, make_user, staff, report):
    """Nanshan (the tree): 2 grids, 1 household of 2 people, 1 open event; Dongcheng (Beijing):
    2 grids, 2 households of 3 + 1 people, 2 open events. Users: `centre` (staff's), `nanshan` (area staff
    of 南山区), `dongcheng` (area staff of 东城区)."""
    w, s, e, n = BEIJING
    mid = (w + e) / 2
    district = grid_services.create_area(code="110101", name="东城区", level=Level.DISTRICT, boundary=rect(*BEIJING))
    street = grid_services.create_area(code="110101001", name="东华门街道", level=Level.STREET, parent=district, boundary=rect(*BEIJING))
    community = grid_services.create_area(code="110101001001", name="多福巷社区", level=Level.COMMUNITY, parent=street, boundary=rect(*BEIJING))
    grid_c = grid_services.create_area(code="110101001001001", name="网格C", level=Level.GRID, parent=community, layer=primary_layer, boundary=rect(w, s, mid, n))
    grid_d = grid_services.create_area(code="110101001001002", name="网格D", level=Level.GRID, parent=community, layer=primary_layer, boundary=rect(mid, s, e, n))
    _residents("SZ-1", (113.90, 22.50), ["深一", "深二"])
    _residents("BJ-1", (w, s), ["京一", "京二", "京三"])
    _residents("BJ-2", (mid, s), ["京四"])
    report(lon=113.92, lat=22.55)  # in grid A
    report(lon=w + 0.01, lat=s + 0.01)  # in grid C
    report(lon=mid + 0.01, lat=s + 0.01)  # in grid D
    return {
        "nanshan": tree["district"], "dongcheng": district, "dongcheng_street": street, "c": grid_c, "d": grid_d,
        "users": {
            "centre": staff["centre"],
            "nanshan": make_user("nanshan", Role.AREA_STAFF, tree["district"]),
            "dongcheng": make_user("dongcheng", Role.AREA_STAFF, district),
        },
    }
