"""Grid layers other than the primary one on the map: the page config lists those the user has
grids of (scoped like every area read), and the areas endpoint serves each by code."""
import json

from django.urls import reverse

from gridmap.core.models import Role
from gridmap.grids.models import GridLayer, Level
from gridmap.grids.services import create_area
from gridmap.map.selectors import LAYER_COLOURS

from ..conftest import rect

AREAS = reverse("map:areas")


def config_of(client, user):
    client.force_login(user)
    res = client.get("/")
    assert res.status_code == 200
    return res.context["config"]


def test_page_lists_the_layers_whose_grids_the_user_sees(client, tree, urban_layer, make_user, leader_a):
    GridLayer.objects.create(code="market", name="市场巡查网格")  # no grids at all: listed for nobody
    urban = {"code": "urban", "name": "城管网格", "colour": LAYER_COLOURS[0], "own": False}
    assert config_of(client, make_user("centre", Role.CENTRE_ADMIN))["gridLayers"] == [urban]
    assert config_of(client, make_user("sq", Role.AREA_STAFF, tree["community"]))["gridLayers"] == [urban]
    # grid A's subtree holds none of the layer's grids (they hang from the community)
    assert config_of(client, leader_a)["gridLayers"] == []
    # the layer's own leader sees their grid in it: the map switches it on for them
    assert config_of(client, urban_layer["u1"].leader)["gridLayers"] == [{**urban, "own": True}]
    # the page says it in the user's language
    assert config_of(client, leader_a)["text"]["gridLayer"] == "网格图层"


def test_a_layer_only_outside_the_users_area_is_not_listed(client, tree, primary_layer, make_user):
    other = create_area(code="440305006", name="别的街道", level=Level.STREET, parent=tree["district"], boundary=rect(114.00, 22.50, 114.10, 22.60))
    layer = GridLayer.objects.create(code="market", name="市场巡查网格")
    create_area(code="440305006000901", name="市场网格", level=Level.GRID, parent=other, layer=layer, boundary=rect(114.00, 22.50, 114.10, 22.60))
    assert config_of(client, make_user("street_staff", Role.AREA_STAFF, tree["street"]))["gridLayers"] == []
    listed = config_of(client, make_user("centre", Role.CENTRE_ADMIN))["gridLayers"]
    assert [(x["code"], x["colour"]) for x in listed] == [("market", LAYER_COLOURS[0])]
    # a layer's colour stays when another is added (and a layer with no boundary drawn is not listed)
    newer = GridLayer.objects.create(code="aaa", name="后加的图层")
    create_area(code="440305006000801", name="无边界网格", level=Level.GRID, parent=other, layer=newer)
    assert config_of(client, make_user("centre2", Role.CENTRE_ADMIN))["gridLayers"] == listed


def test_areas_endpoint_serves_a_layer_by_code_scoped(client, tree, urban_layer, leader_a, make_user):
    client.force_login(make_user("centre", Role.CENTRE_ADMIN))
    body = json.loads(client.get(AREAS, {"level": "grid", "layer": "urban"}).content)
    assert {f["properties"]["code"]: f["properties"]["leader"] for f in body["features"]} == {
        "440305005001901": "张城北", "440305005001902": "李城南"}
    primary = json.loads(client.get(AREAS, {"level": "grid"}).content)
    assert sorted(f["properties"]["code"] for f in primary["features"]) == [tree["a"].code, tree["b"].code]
    client.force_login(leader_a)
    assert json.loads(client.get(AREAS, {"level": "grid", "layer": "urban"}).content)["features"] == []
