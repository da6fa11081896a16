"""The map as of a date (issue 12, deliverable 5): /api/map/areas/?as_of=YYYY-MM-DD draws each area
by the boundary version in force at the end of that day, scoped like the live layer."""
import datetime as dt
import json

import shapely
from django.urls import reverse

from gridmap.core import clock
from gridmap.core.models import Role
from gridmap.grids import proposals, services

AREAS = reverse("map:areas")
A_CODE, B_CODE, NEW_CODE = "440305005001001", "440305005001002", "440305005001003"


def grids(client, **params):
    r = client.get(AREAS, {"level": "grid", **params})
    assert r.status_code == 200, r.content
    return {f["properties"]["code"]: f for f in json.loads(r.content)["features"]}


def test_the_grids_as_of_a_day_before_and_after_a_split(client, tree, staff, make_user, time_machine):
    created, first_day = clock.now(), clock.today()
    time_machine.move_to(created + dt.timedelta(days=10), tick=False)
    line = shapely.LineString([(113.89, 22.55), (113.96, 22.55)])
    services.commit_redraw(proposals.split(tree["a"], line), author=staff["centre"], reason="新楼盘",
                           effective_from=created + dt.timedelta(days=5))

    client.force_login(staff["centre"])
    before = grids(client, as_of=(first_day + dt.timedelta(days=1)).isoformat())
    assert {c: f["properties"]["version"] for c, f in before.items()} == {A_CODE: 1, B_CODE: 1}
    assert shapely.geometry.shape(before[A_CODE]["geometry"]).bounds == (113.90, 22.50, 113.95, 22.60)
    assert before[A_CODE]["properties"]["name"] == "网格A" and before[A_CODE]["id"] == tree["a"].pk
    after = grids(client, as_of=clock.today().isoformat())
    assert {c: f["properties"]["version"] for c, f in after.items()} == {A_CODE: 2, B_CODE: 1, NEW_CODE: 1}
    assert shapely.geometry.shape(after[A_CODE]["geometry"]).area == shapely.geometry.shape(before[A_CODE]["geometry"]).area / 2
    assert set(after) == set(grids(client))  # today's as-of map is the live one
    assert grids(client, as_of=(first_day - dt.timedelta(days=1)).isoformat()) == {}  # before the grids were drawn
    assert grids(client, level="community", as_of=first_day.isoformat()).keys() == {"440305005001"}

    # scoped as the live layer: grid B's leader sees only B, on any date; a stranger nothing
    client.force_login(staff["leader_b"])
    assert set(grids(client, as_of=(first_day + dt.timedelta(days=1)).isoformat())) == {B_CODE}
    client.force_login(make_user("nobody", Role.GRID_WORKER))
    assert grids(client, as_of=clock.today().isoformat()) == {}
    assert grids(client, as_of=clock.today().isoformat(), layer="no-such-layer") == {}
    assert client.get(AREAS, {"level": "grid", "as_of": "2024-02-30"}).status_code == 400
    client.logout()
    assert client.get(AREAS, {"level": "grid", "as_of": clock.today().isoformat()}).status_code in (401, 403)
