"""Buildings as real registers give them: no name (shown by address, else code), floors unknown
or fractional. The floor table, its API, the map layers (GeoJSON and vector tiles) and the
search box must take them without a crash and say what they do not know."""
import json

import mapbox_vector_tile
import pytest

from gridmap.people.selectors import floor_table
from gridmap.places import selectors
from gridmap.places.models import Building, Dwelling

from ..conftest import rect
from ..geo_helpers import tile_of


@pytest.fixture
def plain(tree):
    """Three footprints in grid A as a survey gives them: no name, floors unknown / 3.5 / 2."""
    made = {}
    for i, (code, address, floors) in enumerate([("osm-w1", "", None), ("osm-w2", "科技园路2号", 3.5), ("osm-w3", "", 2)]):
        x = 113.92 + i * 0.001
        made[code] = Building.objects.create(code=code, address=address, floors_above=floors, footprint=rect(x, 22.55, x + 0.0003, 22.5502))
    return made


def test_labels_fall_back_to_address_then_code(plain):
    assert str(plain["osm-w1"]) == "osm-w1" and plain["osm-w1"].label == "osm-w1"
    assert str(plain["osm-w2"]) == "科技园路2号 (osm-w2)"
    named = Building(code="A-9", name="幸福楼9栋")
    assert str(named) == "幸福楼9栋 (A-9)"
    d = Dwelling.objects.create(building=plain["osm-w1"], unit=1, floor=2, room="201")
    assert str(d) == "osm-w1 1单元 201"


def test_unknown_floors_list_only_the_floors_dwellings_are_on(plain, users, client):
    b = plain["osm-w1"]
    empty = floor_table(users["leader_a"], b.pk)
    assert empty["floors"] == [] and empty["floors_note"]
    assert empty["building"]["floors_above"] is None and empty["building"]["label"] == "osm-w1"
    Dwelling.objects.create(building=b, unit=1, floor=5, room="501")
    Dwelling.objects.create(building=b, unit=1, floor=-1, room="B101")
    client.force_login(users["leader_a"])
    res = client.get(f"/api/buildings/{b.pk}/floors/")
    assert res.status_code == 200
    table = res.json()
    assert [f["label"] for f in table["floors"]] == ["5F", "B1"]
    assert table["floors_note"] and table["building"]["floors_above"] is None
    assert table["building"]["floors_above_label"]  # "floors unknown" in the active language


def test_a_half_storey_is_a_floor_of_the_table(plain, users):
    table = floor_table(users["leader_a"], plain["osm-w2"].pk)
    assert [f["label"] for f in table["floors"]] == ["4F", "3F", "2F", "1F"]
    assert table["building"]["floors_above"] == 3.5 and table["building"]["floors_above_label"] == "3.5"
    assert table["floors_note"] is None
    whole = floor_table(users["leader_a"], plain["osm-w3"].pk)["building"]
    assert whole["floors_above"] == 2 and isinstance(whole["floors_above"], int)


def test_map_layers_name_unnamed_buildings_and_omit_unknown_floors(plain, users, client):
    client.force_login(users["leader_a"])
    layer = json.loads(selectors.building_layer(users["leader_a"], (113.91, 22.54, 113.93, 22.56)))
    props = {f["properties"]["code"]: f["properties"] for f in layer["features"]}
    assert {c: (p["name"], p["floors_above"]) for c, p in props.items()} == {
        "osm-w1": ("osm-w1", None), "osm-w2": ("科技园路2号", 3.5), "osm-w3": ("osm-w3", 2)}
    z = 16
    x, y = tile_of(113.9201, 22.5501, z)
    res = client.get(f"/api/map/buildings/{z}/{x}/{y}.mvt")
    assert res.status_code == 200
    features = mapbox_vector_tile.decode(res.content)["buildings"]["features"]
    got = {f["properties"]["code"]: f["properties"] for f in features}
    assert got["osm-w1"]["name"] == "osm-w1" and "floors_above" not in got["osm-w1"]
    assert got["osm-w2"]["name"] == "科技园路2号" and got["osm-w2"]["floors_above"] == 3.5


def test_search_names_an_unnamed_building_by_its_address_or_code(plain, users, client):
    client.force_login(users["leader_a"])
    results = client.get("/api/search/", {"q": "osm-w"}).json()
    labels = {r["label"] for r in results["results"] if r["kind"] == "building"}
    assert {"osm-w1", "科技园路2号", "osm-w3"} <= labels


def test_the_admin_lists_and_opens_them(plain, users, client):
    client.force_login(users["centre"])
    listing = client.get("/admin/places/building/")
    assert listing.status_code == 200 and "科技园路2号" in listing.content.decode()
    assert client.get(f"/admin/places/building/{plain['osm-w1'].pk}/change/").status_code == 200
