"""The facilities (部件) and organisations (单位) map layers: login, scoping, bbox, properties."""
import json

import pytest
from django.contrib.gis.geos import LineString, Point
from django.urls import reverse

from gridmap.core.models import Role
from gridmap.places.models import Facility, Organisation

FACILITIES = reverse("map:facilities")
ORGANISATIONS = reverse("map:organisations")
VIEW = "113.90,22.50,114.00,22.60"


@pytest.fixture
def places(tree):
    """In grid A: a hydrant (point), a damaged street light (line), a school; in grid B: a camera
    and a high-risk shop. Outside every grid but inside grid A's box is nothing."""
    Facility.objects.create(code="F-A1", kind="hydrant", geom=Point(113.91, 22.55, srid=4326))
    Facility.objects.create(code="F-A2", kind="street_light", status="damaged",
                            geom=LineString((113.92, 22.55), (113.921, 22.551), srid=4326))
    Facility.objects.create(code="F-B1", kind="camera", geom=Point(113.97, 22.55, srid=4326))
    Organisation.objects.create(name="科技园小学", kind="school", location=Point(113.915, 22.55, srid=4326))
    Organisation.objects.create(name="某商店", kind="shop", risk_level="high", location=Point(113.97, 22.56, srid=4326))
    Organisation.objects.create(name="无坐标单位", kind="enterprise")  # not placed: never drawn


def get_fc(client, url, **params):
    res = client.get(url, params)
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/geo+json"
    fc = json.loads(res.content)
    assert fc["type"] == "FeatureCollection"
    return fc


def names(fc, key):
    return sorted(f["properties"][key] for f in fc["features"])


def test_login_required(client, tree):
    for url in (FACILITIES, ORGANISATIONS):
        assert client.get(url, {"bbox": VIEW}).status_code in (401, 403)


def test_grid_leader_gets_only_their_grid_with_only_drawn_properties(client, leader_a, places):
    client.force_login(leader_a)
    fac = get_fc(client, FACILITIES, bbox=VIEW)
    assert names(fac, "code") == ["F-A1", "F-A2"]
    by_code = {f["properties"]["code"]: f for f in fac["features"]}
    assert set(by_code["F-A1"]["properties"]) == {"id", "code", "kind", "status"}
    assert by_code["F-A1"]["id"] == by_code["F-A1"]["properties"]["id"]
    assert by_code["F-A2"]["properties"]["status"] == "damaged"
    # a line facility is drawn as a symbol at its (database-derived) point
    assert {f["geometry"]["type"] for f in fac["features"]} == {"Point"}
    org = get_fc(client, ORGANISATIONS, bbox=VIEW)
    assert names(org, "name") == ["科技园小学"]
    assert set(org["features"][0]["properties"]) == {"id", "name", "kind", "risk_level"}
    assert org["features"][0]["geometry"]["coordinates"] == pytest.approx([113.915, 22.55])


def test_centre_sees_everything_placed(client, make_user, places):
    client.force_login(make_user("centre", Role.CENTRE_ADMIN))
    assert names(get_fc(client, FACILITIES, bbox=VIEW), "code") == ["F-A1", "F-A2", "F-B1"]
    org = get_fc(client, ORGANISATIONS, bbox=VIEW)
    assert names(org, "name") == ["某商店", "科技园小学"]
    assert {f["properties"]["name"]: f["properties"]["risk_level"] for f in org["features"]}["某商店"] == "high"


def test_bbox_limits_both_layers(client, make_user, places):
    client.force_login(make_user("centre", Role.CENTRE_ADMIN))
    west = "113.905,22.54,113.918,22.56"
    assert names(get_fc(client, FACILITIES, bbox=west), "code") == ["F-A1"]
    assert names(get_fc(client, ORGANISATIONS, bbox=west), "name") == ["科技园小学"]
    # the line crosses the box's edge: it meets the box, so it is sent
    assert names(get_fc(client, FACILITIES, bbox="113.9205,22.5505,113.93,22.56"), "code") == ["F-A2"]
    far = "113.80,22.40,113.85,22.45"
    assert get_fc(client, FACILITIES, bbox=far)["features"] == []
    assert get_fc(client, ORGANISATIONS, bbox=far)["features"] == []


@pytest.mark.parametrize("url", [FACILITIES, ORGANISATIONS])
@pytest.mark.parametrize("bbox, why", [
    (None, "required"), ("1,2,3", "four numbers"), ("113.95,22.5,113.90,22.6", "west must be less"),
    ("113.0,22.0,114.0,23.0", "too large"),
])
def test_bad_bbox_is_refused(client, leader_a, url, bbox, why):
    client.force_login(leader_a)
    res = client.get(url, {} if bbox is None else {"bbox": bbox})
    assert res.status_code == 400
    assert why in res.json()["bbox"]
