"""Shared fixtures: a small area tree on real PostGIS, built through the services; the staff and
events of that tree (staff, dispute, report); a building with residents (estate) and the users
who look at it (users)."""
import importlib
import os
import threading
import time

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridmap.core.models import Role, User
from gridmap.events.models import Category
from gridmap.grids import services as grid_services
from gridmap.grids.models import GridLayer, Level
from gridmap.people.models import EmploymentRecord, SpecialGroupRecord, WelfareRecord
from gridmap.places.models import Building, Dwelling, RentedDwelling

from .estate import household, person

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    # CI's second run moves the clock with libfaketime (FAKETIME_DONT_FAKE_MONOTONIC=1, else
    # thread waits hang). libfaketime 0.9.10 then breaks clock_nanosleep on the monotonic clock,
    # which CPython's time.sleep uses: every sleep, and subprocess waits with a timeout, raise
    # EINVAL. Timed waits on a lock still work, so sleep on one in that run only.
    def _sleep(seconds: float) -> None:
        threading.Event().wait(seconds)

    time.sleep = _sleep


def rect(x0, y0, x1, y1) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


@pytest.fixture
def primary_layer(db):
    return GridLayer.objects.create(code="social", name="综治网格", is_primary=True)


@pytest.fixture
def tree(primary_layer):
    """A district with one street, one community and two side-by-side grids sharing the edge
    x = 113.95: grid A (code ...001) to the west, grid B (...002) to the east."""
    district = grid_services.create_area(code="440305", name="南山区", level=Level.DISTRICT, boundary=rect(113.90, 22.50, 114.00, 22.60))
    street = grid_services.create_area(code="440305005", name="粤海街道", level=Level.STREET, parent=district, boundary=rect(113.90, 22.50, 114.00, 22.60))
    community = grid_services.create_area(code="440305005001", name="科技园社区", level=Level.COMMUNITY, parent=street, boundary=rect(113.90, 22.50, 114.00, 22.60))
    grid_a = grid_services.create_area(code="440305005001001", name="网格A", level=Level.GRID, parent=community, layer=primary_layer, boundary=rect(113.90, 22.50, 113.95, 22.60))
    grid_b = grid_services.create_area(code="440305005001002", name="网格B", level=Level.GRID, parent=community, layer=primary_layer, boundary=rect(113.95, 22.50, 114.00, 22.60))
    return {"district": district, "street": street, "community": community, "a": grid_a, "b": grid_b}


@pytest.fixture
def urban_layer(tree, make_user):
    """A second grid layer (城管网格) over the same community: U1 the northern half and U2 the
    southern half, each across both grid A and grid B, each with its own leader."""
    layer = GridLayer.objects.create(code="urban", name="城管网格")
    grids = {}
    for key, code, name, box, (last, first) in [("u1", "440305005001901", "城管北网格", (113.90, 22.55, 114.00, 22.60), ("张", "城北")),
                                                 ("u2", "440305005001902", "城管南网格", (113.90, 22.50, 114.00, 22.55), ("李", "城南"))]:
        grid = grid_services.create_area(code=code, name=name, level=Level.GRID, parent=tree["community"], layer=layer, boundary=rect(*box))
        grid.leader = make_user(f"urban_{key}", Role.GRID_LEADER, grid, last_name=last, first_name=first)
        grid.save()
        grids[key] = grid
    return {"layer": layer, **grids}


@pytest.fixture
def make_user(db):
    def make(username, role, area=None, **kw):
        user = User.objects.create_user(username=username, password="pw", role=role, area=area, is_staff=True, **kw)
        return user
    return make


@pytest.fixture
def leader_a(tree, make_user):
    return make_user("leader_a", Role.GRID_LEADER, tree["a"])


# --- the staff and events of the tree (the events tests and the browser's event map) ----------

@pytest.fixture
def staff(tree, make_user):
    """The people of the test tree: a leader and worker per grid, community staff, the centre."""
    users = {
        "leader_a": make_user("leader_a", Role.GRID_LEADER, tree["a"]),
        "worker_a": make_user("worker_a", Role.GRID_WORKER, tree["a"]),
        "leader_b": make_user("leader_b", Role.GRID_LEADER, tree["b"]),
        "community": make_user("community", Role.AREA_STAFF, tree["community"]),
        "street": make_user("street", Role.AREA_STAFF, tree["street"]),
        "centre": make_user("centre", Role.CENTRE_ADMIN),
        "patroller": make_user("patroller", Role.GRID_WORKER, tree["street"]),
    }
    for key, area in [("leader_a", "a"), ("leader_b", "b"), ("community", "community"), ("street", "street")]:
        tree[area].leader = users[key]
        tree[area].save()
    return users


@pytest.fixture
def dispute(db):
    return Category.objects.get(code="0101")  # neighbour dispute: grid level, 5 working days


@pytest.fixture
def report(staff, dispute):
    """report(**kw) → a new event, by default a neighbour dispute in grid A reported by the patroller."""
    from gridmap.events import services

    def make(lon=113.92, lat=22.55, category=None, reporter=None, description="楼道堆放杂物", **kw):
        return services.report_event(reporter=reporter or staff["patroller"], category=category or dispute,
                                     lon=lon, lat=lat, description=description, channel="patrol", **kw).event
    return make


# --- a building with residents (the floor table, search, the person page) -------------------

@pytest.fixture
def estate(tree, make_user, leader_a):
    """Building A-1 in grid A: 3 floors above, 1 below, 2 units × 2 rooms (16 dwellings), with
    residents tagged one way each; building B-1 in grid B with one resident."""
    b = Building.objects.create(code="A-1", name="幸福楼1栋", address="科技园路1号", floors_above=3, floors_below=1,
                                units=2, rooms_per_floor=2, year_built=2005, property_manager="幸福物业",
                                footprint=rect(113.9245, 22.5495, 113.9249, 22.5498))
    tree["a"].leader = leader_a
    tree["a"].save()
    d = {}
    for unit in (1, 2):
        for floor in (3, 2, 1, -1):
            for k in (1, 2):
                room = f"{unit}-{'B' if floor < 0 else ''}{abs(floor)}0{k}"
                d[room] = Dwelling.objects.create(building=b, unit=unit, floor=floor, room=room, area_m2=80 + k,
                                                  use="commercial" if floor < 0 else "vacant")
    for room in ("1-301", "1-302", "1-201", "2-301", "2-302", "2-201", "2-202"):
        d[room].use = "self"
        d[room].save()
    Dwelling.objects.filter(pk=d["1-301"].pk).update(use="rented")
    b.building_head = None
    people = {}
    # 1-301: rented, a floating family of two
    people["head"] = person(d["1-301"], "王流动", 38, residence_type="floating")
    people["wife"] = person(d["1-301"], "刘流动", 36, sex="F", residence_type="floating")
    household("H1", d["1-301"], (people["head"], "head"), (people["wife"], "spouse"))
    RentedDwelling.objects.create(dwelling=d["1-301"], landlord_name="赵房东", landlord_phone="13900001111",
                                  agent="链家", status="registered", lease_start="2025-01-01", lease_end="2026-12-31")
    EmploymentRecord.objects.create(person=people["head"], status="employed", employer="顺丰速运", start="2020-01-01")
    EmploymentRecord.objects.create(person=people["head"], status="unemployed", start="2018-01-01", end="2019-12-31")
    # 1-302: 低保 (current), and an ended temporary relief that must not tag
    people["poor"] = person(d["1-302"], "李低保", 56)
    household("H2", d["1-302"], (people["poor"], "head"))
    WelfareRecord.objects.create(person=people["poor"], kind="dibao", start="2024-01-01")
    # 1-201: a community-correction member, and a sealed record on the minor son
    people["corr"] = person(d["1-201"], "张矫正", 46)
    people["son"] = person(d["1-201"], "张小", 16)
    household("H3", d["1-201"], (people["corr"], "head"), (people["son"], "child"))
    SpecialGroupRecord.objects.create(person=people["corr"], group="correction", risk_level="medium", start="2025-01-01")
    SpecialGroupRecord.objects.create(person=people["son"], group="youth", start="2025-01-01", sealed=True)
    # 2-301: one resident aged 70 → elderly living alone (alone60); ages count from today
    people["old"] = person(d["2-301"], "陈独居", 70)
    household("H4", d["2-301"], (people["old"], "head"))
    # 2-302: an empty-nest record (a couple, so only the record says so)
    people["nest1"] = person(d["2-302"], "周空巢", 76)
    people["nest2"] = person(d["2-302"], "吴空巢", 74, sex="F")
    household("H5", d["2-302"], (people["nest1"], "head"), (people["nest2"], "spouse"))
    WelfareRecord.objects.create(person=people["nest1"], kind="empty_nest", start="2023-01-01")
    # 2-201: disability only (health data: a welfare tag for the leader, none for a worker)
    people["dis"] = person(d["2-201"], "孙残疾", 51)
    household("H6", d["2-201"], (people["dis"], "head"))
    WelfareRecord.objects.create(person=people["dis"], kind="disability", category="肢体", grade=2, start="2020-01-01")
    # 2-202: a young single person: no tag
    people["young"] = person(d["2-202"], "郑青年", 31)
    household("H7", d["2-202"], (people["young"], "head"))
    # grid B
    other = Building.objects.create(code="B-1", name="B楼", footprint=rect(113.97, 22.55, 113.9705, 22.5503))
    d_other = Dwelling.objects.create(building=other, unit=1, floor=1, room="101")
    people["other"] = person(d_other, "钱外格", 46)
    household("HB", d_other, (people["other"], "head"))
    return {"building": b, "dwellings": d, "people": people, "other": other, "other_dwelling": d_other}


@pytest.fixture
def users(tree, make_user, leader_a):
    return {
        "leader_a": leader_a,
        "worker_a": make_user("worker_a", Role.GRID_WORKER, tree["a"]),
        "leader_b": make_user("leader_b", Role.GRID_LEADER, tree["b"]),
        "centre": make_user("centre", Role.CENTRE_ADMIN),
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.5 s per test user on this machine; the tests do not test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the analytics answers are cached by what they
    count, and another test's data under the same selection would answer for this one's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _seed_data(request):
    """A transactional test (real commits: threads racing, a live server) ends with a flush
    that also removes what the data migrations seeded (event categories, the holiday
    calendar); put it back for every test that uses the database."""
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not (uses_db or request.node.get_closest_marker("django_db")):
        return
    request.getfixturevalue("_django_db_helper")
    from gridmap.events.models import Category

    if not Category.objects.exists():
        for migration, step in [("0002_seed_categories_and_calendar", "seed"), ("0004_private_categories_off_open311", "hide"),
                                ("0007_open311_public_only", "flag_people")]:
            getattr(importlib.import_module(f"gridmap.events.migrations.{migration}"), step)(django_apps, None)


@pytest.fixture
def leader_named(tree, users):
    """Grid A's leader, with a name (the map writes family name first)."""
    leader = users["leader_a"]
    leader.last_name, leader.first_name = "张", "网格"
    leader.save()
    tree["a"].leader = leader
    tree["a"].save()
    return leader


def pytest_collection_modifyitems(config, items):
    """The browser tests last: their session's Playwright keeps an event loop running on the main
    thread, where async_to_sync (tests/core/test_users.py) then refuses to start."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("browser/"))
