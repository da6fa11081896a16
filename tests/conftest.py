"""Shared fixtures: a small area tree on real PostGIS, built through the services."""
import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridmap.core.models import Role, User
from gridmap.grids import services as grid_services
from gridmap.grids.models import GridLayer, Level


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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.5 s per test user on this machine; the tests do not test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
        for migration, step in [("0002_seed_categories_and_calendar", "seed"), ("0004_private_categories_off_open311", "hide")]:
            getattr(importlib.import_module(f"gridmap.events.migrations.{migration}"), step)(django_apps, None)
