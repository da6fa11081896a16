"""The map's low-zoom overview, GET /api/map/areas/?level=…&overview=1: each visible district or
street as a simplified outline with its counts, label point and bbox, scoped to the caller."""
import json

import pytest
from django.urls import reverse

from gridmap.grids.models import Area

from .far_districts import BEIJING, far_districts  # noqa: F401 (fixture)

AREAS = reverse("map:areas")
NANSHAN = {"grids": 2, "households": 1, "people": 2, "events": 1, "overdue": 0}
DONGCHENG = {"grids": 2, "households": 2, "people": 4, "events": 2, "overdue": 0}


def overview(client, user, level):
    client.force_login(user)
    res = client.get(AREAS, {"level": level, "overview": "1"})
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/geo+json"
    return json.loads(res.content)


def by_code(fc):
    assert fc["type"] == "FeatureCollection"
    return {f["properties"]["code"]: f for f in fc["features"]}


def test_centre_gets_every_district_with_its_counts(client, far_districts):
    districts = by_code(overview(client, far_districts["users"]["centre"], "district"))
    assert sorted(districts) == ["110101", "440305"]
    assert districts["440305"]["properties"]["counts"] == NANSHAN
    assert districts["110101"]["properties"]["counts"] == DONGCHENG
    beijing = districts["110101"]
    assert beijing["id"] == far_districts["dongcheng"].pk
    assert set(beijing["properties"]) == {"id", "code", "name", "level", "label", "bbox", "counts"}
    assert beijing["properties"]["name"] == "东城区" and beijing["properties"]["level"] == "district"
    assert beijing["properties"]["bbox"] == pytest.approx(list(BEIJING))
    lon, lat = beijing["properties"]["label"]
    assert BEIJING[0] < lon < BEIJING[2] and BEIJING[1] < lat < BEIJING[3]
    assert beijing["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_streets_are_counted_too(client, far_districts):
    streets = by_code(overview(client, far_districts["users"]["centre"], "street"))
    assert sorted(streets) == ["110101001", "440305005"]
    assert streets["110101001"]["properties"]["counts"] == DONGCHENG
    assert streets["440305005"]["properties"]["counts"] == NANSHAN


def test_area_staff_gets_only_their_district(client, far_districts):
    """Scoping: 东城区's staff get neither 南山区's outline nor its counts, at any level."""
    users = far_districts["users"]
    for level in ("district", "street", "community"):
        assert list(by_code(overview(client, users["dongcheng"], level))) == [
            a.code for a in Area.objects.filter(level=level, path__startswith=far_districts["dongcheng"].path)]
    assert by_code(overview(client, users["dongcheng"], "district"))["110101"]["properties"]["counts"] == DONGCHENG
    nanshan = overview(client, users["nanshan"], "district")
    assert list(by_code(nanshan)) == ["440305"]
    assert by_code(nanshan)["440305"]["properties"]["counts"] == NANSHAN
    assert "110101" not in json.dumps(nanshan, ensure_ascii=False) and "东城" not in json.dumps(nanshan, ensure_ascii=False)


def test_grid_leader_and_no_area_get_no_districts(client, far_districts, staff, make_user):
    from gridmap.core.models import Role

    assert overview(client, staff["leader_a"], "district")["features"] == []
    assert overview(client, make_user("nobody", Role.AREA_STAFF), "street")["features"] == []


def test_counts_follow_the_scope_of_the_records(client, far_districts):
    """A street's staff count only their subtree: the grid's records, not the district's."""
    from gridmap.core.models import Role

    user = far_districts["users"]["dongcheng"]
    user.role, user.area = Role.AREA_STAFF, far_districts["c"].parent
    user.save()
    fc = overview(client, user, "community")
    assert by_code(fc)["110101001001"]["properties"]["counts"] == DONGCHENG


def test_outline_is_simplified_and_small(client, far_districts):
    """A wiggly 2,000-vertex boundary comes back as a few dozen vertices at 4 decimals."""
    import math

    from django.contrib.gis.geos import MultiPolygon, Polygon

    w, s, e, n = BEIJING
    ring = [(w + (e - w) * i / 2000, s + 0.00001 * math.sin(i)) for i in range(2001)] + [(e, n), (w, n), (w, s)]
    Area.objects.filter(pk=far_districts["dongcheng"].pk).update(boundary=MultiPolygon(Polygon(ring), srid=4326))
    client.force_login(far_districts["users"]["centre"])
    res = client.get(AREAS, {"level": "district", "overview": "1"})
    feature = by_code(json.loads(res.content))["110101"]
    coords = json.dumps(feature["geometry"]["coordinates"])
    assert coords.count("[") - coords.count("[[") < 50
    assert all(len(c.split(".")[1]) <= 4 for c in coords.replace("[", "").replace("]", "").split(",") if "." in c)
    assert len(res.content) < 2000


def test_overview_is_for_areas_above_the_grid(client, far_districts):
    client.force_login(far_districts["users"]["centre"])
    res = client.get(AREAS, {"level": "grid", "overview": "1"})
    assert res.status_code == 400 and "overview" in res.json()
    assert client.get(AREAS, {"level": "district"}).json()["features"][0]["properties"].keys() == {"id", "code", "name", "level", "leader"}


def test_login_required(client, far_districts):
    assert client.get(AREAS, {"level": "district", "overview": "1"}).status_code in (401, 403)
