"""The map's GeoJSON endpoints: login required, scoped to the caller's subtree, bbox checked."""
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from gridmap.core.models import Role
from gridmap.places.models import Building

from ..conftest import rect

AREAS = reverse("map:areas")
BUILDINGS = reverse("map:buildings")
VIEW = "113.90,22.50,114.00,22.60"


@pytest.fixture
def houses(tree):
    """Two buildings in grid A, one in grid B (footprints 20 m or so across)."""
    made = {}
    for code, x in [("A-1", 113.91), ("A-2", 113.92), ("B-1", 113.97)]:
        made[code] = Building.objects.create(code=code, name=f"{code}栋", floors_above=6, footprint=rect(x, 22.55, x + 0.0002, 22.5502))
    return made


def get_json(client, url, **params):
    res = client.get(url, params)
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/geo+json"
    return json.loads(res.content)


def codes(fc):
    assert fc["type"] == "FeatureCollection"
    return sorted(f["properties"]["code"] for f in fc["features"])


def test_login_required(client, tree):
    assert client.get(AREAS, {"level": "grid"}).status_code in (401, 403)
    assert client.get(BUILDINGS, {"bbox": VIEW}).status_code in (401, 403)


def test_grid_leader_gets_only_their_subtree(client, tree, leader_a, houses):
    client.force_login(leader_a)
    grids = get_json(client, AREAS, level="grid")
    assert codes(grids) == [tree["a"].code]
    feature = grids["features"][0]
    assert feature["id"] == tree["a"].pk
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert set(feature["properties"]) == {"id", "code", "name", "level", "leader"}
    for level in ("district", "street", "community"):
        assert codes(get_json(client, AREAS, level=level)) == []
    buildings = get_json(client, BUILDINGS, bbox=VIEW)
    assert codes(buildings) == ["A-1", "A-2"]
    assert set(buildings["features"][0]["properties"]) == {"id", "code", "name", "floors_above", "height_m", "use", "grid"}
    assert buildings["features"][0]["properties"]["grid"] == tree["a"].code


def test_leader_name_and_centre_sees_everything(client, tree, make_user, houses):
    leader = make_user("wang", Role.GRID_LEADER, tree["b"], first_name="伟", last_name="王")
    tree["b"].leader = leader
    tree["b"].save()
    client.force_login(make_user("centre", Role.CENTRE_ADMIN))
    grids = get_json(client, AREAS, level="grid")
    assert codes(grids) == [tree["a"].code, tree["b"].code]
    assert {f["properties"]["code"]: f["properties"]["leader"] for f in grids["features"]} == {
        tree["a"].code: None, tree["b"].code: "王伟"}
    assert codes(get_json(client, AREAS, level="district")) == [tree["district"].code]
    assert codes(get_json(client, BUILDINGS, bbox=VIEW)) == ["A-1", "A-2", "B-1"]


def test_community_staff_sees_community_and_its_grids(client, tree, make_user):
    client.force_login(make_user("sq", Role.AREA_STAFF, tree["community"]))
    assert codes(get_json(client, AREAS, level="community")) == [tree["community"].code]
    assert codes(get_json(client, AREAS, level="grid")) == [tree["a"].code, tree["b"].code]
    assert codes(get_json(client, AREAS, level="street")) == []


def test_bbox_limits_buildings(client, leader_a, houses):
    client.force_login(leader_a)
    assert codes(get_json(client, BUILDINGS, bbox="113.905,22.54,113.915,22.56")) == ["A-1"]
    assert codes(get_json(client, BUILDINGS, bbox="113.80,22.40,113.85,22.45")) == []


@pytest.mark.parametrize("bbox, why", [
    (None, "required"),
    ("", "required"),
    ("1,2,3", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("113.9,22.5,nan,22.6", "finite"),
    ("113.9,22.5,200,22.6", "out of range"),
    ("113.95,22.5,113.90,22.6", "west must be less"),
    ("113.9,22.6,113.95,22.5", "west must be less"),
    ("113.0,22.0,114.0,23.0", "too large"),
])
def test_bad_bbox_is_refused(client, leader_a, bbox, why):
    client.force_login(leader_a)
    res = client.get(BUILDINGS, {} if bbox is None else {"bbox": bbox})
    assert res.status_code == 400
    assert why in res.json()["bbox"]


def test_bad_level_is_refused(client, leader_a):
    client.force_login(leader_a)
    res = client.get(AREAS, {"level": "planet"})
    assert res.status_code == 400 and "level" in res.json()


def test_home_requires_login_and_renders_for_leader(client, tree, leader_a):
    res = client.get("/")
    assert res.status_code == 302 and res["Location"] == "/admin/login/?next=/"
    client.force_login(leader_a)
    res = client.get("/")
    assert res.status_code == 200
    config = res.context["config"]
    assert config["levels"] == ["grid"]
    assert config["extent"] == pytest.approx((113.90, 22.50, 113.95, 22.60))
    assert config["api"] == {"areas": AREAS, "buildingTiles": "/api/map/buildings/{z}/{x}/{y}.mvt", "facilities": "/api/map/facilities/",
                             "organisations": "/api/map/organisations/", "buildingFloors": "/api/buildings/{id}/floors/",
                             "dwelling": "/api/dwellings/{id}/", "person": "/api/persons/{id}/",
                             "search": "/api/search/", "patch": "/api/patch/", "inbox": "/inbox/"}
    assert b'id="gridmap-config"' in res.content and b"gridmap/map.js" in res.content
    assert "网格地图" in res.content.decode()  # Chinese by default
    assert "Grid map" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_area_admin_uses_the_same_subtree_rule(client, tree, leader_a):
    leader_a.user_permissions.add(Permission.objects.get(codename="view_area"))
    client.force_login(leader_a)
    res = client.get(reverse("admin:grids_area_changelist"))
    assert res.status_code == 200
    assert [a.code for a in res.context["cl"].result_list] == [tree["a"].code]


def test_header_writes_names_family_name_first(client, tree, leader_a):
    leader_a.last_name, leader_a.first_name = "李", "敏秀"
    leader_a.save()
    client.force_login(leader_a)
    page = client.get("/").content.decode()
    assert "李敏秀" in page and "敏秀 李" not in page
