"""The boundary editor's API: sheet, check, preview, commit and history, scoped by area."""
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from rest_framework.test import APIClient

from gridmap.core.models import Role
from gridmap.grids.models import Area, Level
from gridmap.grids.services import create_area
from gridmap.places.models import Building

from ..conftest import rect
from .test_suggestions import houses as houses_of

A_CODE, NEW_CODE = "440305005001001", "440305005001003"
SPLIT_A = {"type": "LineString", "coordinates": [[113.89, 22.55], [113.96, 22.55]]}


def client(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def houses(tree):
    """Two buildings in grid A, one north and one south of y = 22.55."""
    for code, y in (("N1", 22.57), ("S1", 22.53)):
        Building.objects.create(code=code, footprint=rect(113.92, y, 113.9202, y + 0.0002))
    return tree


def test_centre_previews_and_commits_a_split(houses, staff):
    a = houses["a"]
    c = client(staff["centre"])
    sheet = c.get("/api/editor/sheet/", {"parent": houses["community"].pk}).json()
    assert [g["properties"]["code"] for g in sheet["grids"]] == [A_CODE, "440305005001002"]
    base = {str(g["properties"]["id"]): g["properties"]["version"] for g in sheet["grids"]}
    op = {"operation": "split", "grid": a.pk, "line": SPLIT_A, "base_versions": base}
    checked = c.post("/api/editor/check/", op, format="json").json()
    assert checked["ok"] and set(checked["shapes"]) == {A_CODE, NEW_CODE}
    preview = c.post("/api/editor/preview/", op, format="json").json()
    assert preview["impact"]["moved"]["buildings"] == 1
    (move,) = preview["impact"]["moves"]["buildings"]
    assert move["from"] == A_CODE and move["to"] == NEW_CODE
    assert preview["impact"]["listed"]["buildings"][0]["label"] in ("N1", "S1")
    done = c.post("/api/editor/commit/", {**op, "reason": "新楼盘入住"}, format="json")
    assert done.status_code == 201, done.json()
    assert done.json()["moved"]["buildings"] == 1
    moved = Building.objects.get(code=preview["impact"]["listed"]["buildings"][0]["label"])
    assert moved.grid.code == NEW_CODE
    history = c.get(f"/api/editor/history/{a.pk}/").json()
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert history["versions"][0]["reason"] == "新楼盘入住" and history["versions"][0]["operation"] == "split"
    # the same operation again on the versions it started from: a conflict naming what changed
    again = c.post("/api/editor/commit/", {**op, "reason": "again"}, format="json")
    assert again.status_code == 409
    assert again.json()["conflict"][0]["code"] == A_CODE and "新楼盘入住" in again.json()["conflict"][0]["what"]


def test_an_unrepairable_drawing_is_refused_with_its_spot(tree, staff):
    bowtie = {"type": "Polygon", "coordinates": [[[113.90, 22.50], [113.95, 22.60], [113.95, 22.50], [113.90, 22.60], [113.90, 22.50]]]}
    r = client(staff["centre"]).post("/api/editor/check/", {"operation": "reshape", "grid": tree["a"].pk, "shape": bowtie},
                                     format="json")
    assert r.status_code == 400
    assert r.json()["spot"] == [pytest.approx(113.925), pytest.approx(22.55)]


def test_who_may_redraw(tree, staff, make_user):
    other_community = create_area(code="440305005002", name="另一社区", level=Level.COMMUNITY, parent=tree["street"],
                                  boundary=rect(114.0, 22.5, 114.1, 22.6))
    outsider = make_user("outsider", Role.AREA_STAFF, other_community)
    op = {"operation": "split", "grid": tree["a"].pk, "line": SPLIT_A}
    assert client(outsider).post("/api/editor/check/", op, format="json").status_code == 404  # not among theirs
    assert client(staff["leader_a"]).post("/api/editor/check/", op, format="json").status_code == 403  # a leader sees, not redraws
    assert client(staff["community"]).post("/api/editor/check/", op, format="json").status_code == 200
    assert client(staff["street"]).get("/api/editor/sheet/", {"parent": tree["community"].pk}).status_code == 200
    assert client(outsider).get("/api/editor/sheet/", {"parent": tree["community"].pk}).status_code == 404
    assert APIClient().post("/api/editor/commit/", {**op, "reason": "x"}, format="json").status_code in (401, 403)
    assert Area.objects.filter(code=NEW_CODE).count() == 0


def test_suggestions_name_an_operation_the_editor_can_preview(tree, staff, make_user):
    # grid A: 14 buildings × 50 = 700 households, above the 500 bound; grid B: 100, below 300
    houses_of("A", [113.905 + k * 0.006 for k in range(7)], [22.53, 22.57], 50)
    houses_of("B", [113.97], [22.53, 22.57], 50)
    c = client(staff["community"])
    r = c.get("/api/editor/suggestions/", {"parent": tree["community"].pk})
    assert r.status_code == 200, r.json()
    found = {s["grid"]: s for s in r.json()["suggestions"]}
    assert found[A_CODE]["kind"] == "split" and found[A_CODE]["households_after"] == [350, 350]
    assert found["440305005001002"]["kind"] == "merge"
    preview = c.post("/api/editor/preview/", found[A_CODE]["operation"], format="json").json()
    assert preview["ok"] and preview["impact"]["moved"]["households"] == 350
    # scoped as the sheet: a community's worker sees its grids but redraws none; another community's staff sees none
    worker = make_user("community_worker", Role.GRID_WORKER, tree["community"])
    assert client(worker).get("/api/editor/suggestions/", {"parent": tree["community"].pk}).status_code == 403
    other = create_area(code="440305005002", name="另一社区", level=Level.COMMUNITY, parent=tree["street"],
                        boundary=rect(114.0, 22.5, 114.1, 22.6))
    outsider = make_user("outsider", Role.AREA_STAFF, other)
    assert client(outsider).get("/api/editor/suggestions/", {"parent": tree["community"].pk}).status_code == 404
    assert c.get("/api/editor/suggestions/", {"parent": "x"}).status_code == 400


def test_the_editor_page_offers_the_areas_the_user_may_redraw_under(client, tree, staff):
    def chooser(user):
        client.force_login(user)
        r = client.get(reverse("grids:editor"))
        return r.status_code, [a.code for a in r.context["parents"]] if r.status_code == 200 else None

    assert chooser(staff["centre"]) == (200, ["440305005", "440305005001"])
    assert chooser(staff["street"]) == (200, ["440305005", "440305005001"])
    assert chooser(staff["community"]) == (200, ["440305005001"])
    assert chooser(staff["leader_a"]) == (403, None)  # a grid leader sees grids, the centre redraws them
    assert reverse("grids:editor") not in client.get("/").content.decode()  # no editor link on the leader's map
    client.force_login(staff["community"])
    r = client.get(reverse("grids:editor"), {"parent": tree["street"].pk})
    assert r.context["parent"] == tree["community"]  # not among theirs: their own area instead
    client.force_login(staff["centre"])
    assert reverse("grids:editor") in client.get("/").content.decode()
    client.logout()
    assert client.get(reverse("grids:editor")).status_code == 302  # to the sign-in
