"""The heatmap's reads and API (issue 13, deliverable 1) on real PostGIS: bins count exactly the
matching events, each in the bin an independent computation gives it (hypothesis); the choropleth's
rates by hand; people layers suppress small bins and grids; area scoping; 400s naming the field;
the endpoints in the OpenAPI schema."""
import collections
import datetime as dt
import math

import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from gridmap.analytics import heatmap, periods
from gridmap.analytics.selection import Selection
from gridmap.core.models import Role
from gridmap.events.calendar import TZ
from gridmap.events.models import Category, Event
from gridmap.grids import services as grid_services
from gridmap.grids.models import Level
from gridmap.people.models import SpecialGroupRecord, WelfareRecord

from ..conftest import rect

MOMENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
pytestmark = pytest.mark.time_machine(MOMENT)
TREE_BBOX = (113.90, 22.50, 114.00, 22.60)
Q3 = periods.quarter(2026, 3)  # July–September: closed at MOMENT


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def client(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_login(user)
    return c


_numbers = iter(range(10**6))


def events_at(tree, spots, code="0101", at=dt.datetime(2026, 8, 10, 9, 0, tzinfo=TZ), grid=None):
    """Events at (lon, lat) spots, bulk-inserted (no workflow: only where, when, what and the grid
    at report time count here); the grid by the tree's shared edge x = 113.95 unless given."""
    category = Category.objects.get(code=code)
    return Event.objects.bulk_create([
        Event(number=f"T{next(_numbers):08d}", category=category, point=Point(lon, lat, srid=4326), description="测试",
              channel="patrol", reported_at=at, grid=grid or (tree["a"] if lon < 113.95 else tree["b"]))
        for lon, lat in spots])


# --- bins: the counts are the raw counts ------------------------------------------------------

lon = st.floats(113.90, 114.00, allow_nan=False)
lat = st.floats(22.50, 22.60, allow_nan=False)
SPOT = st.tuples(lon, lat, st.sampled_from(["0101", "0105", "0201"]), st.sampled_from([Q3.start, Q3.end, Q3.start - dt.timedelta(seconds=1),
                                                                                        Q3.start + dt.timedelta(days=40)]))


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spots=st.lists(SPOT, max_size=60), zoom=st.integers(8, 19), on_edges=st.booleans())
def test_bins_count_exactly_the_matching_events(tree, spots, zoom, on_edges):
    """Sum of bins = events of disputes (01 and below) reported in Q3; every such event is in the
    bin floor(lon/dlon), floor(lat/dlat) computed here, and no bin holds anything else. With
    on_edges the points sit on bin edges (multiples of the bin size)."""
    grid = heatmap.bins_for(zoom, TREE_BBOX)
    if on_edges:
        spots = [(round(x / grid.dlon) * grid.dlon, round(y / grid.dlat) * grid.dlat, c, at) for x, y, c, at in spots]
        spots = [s for s in spots if TREE_BBOX[0] <= s[0] <= TREE_BBOX[2] and TREE_BBOX[1] <= s[1] <= TREE_BBOX[3]]
    made = []
    try:
        for x, y, code, at in spots:
            made += events_at(tree, [(x, y)], code=code, at=at)
        selection = Selection(area=None, period=Q3, category_codes=("01",),
                              category_ids=tuple(Category.objects.filter(code__startswith="01").values_list("pk", flat=True)))
        answer = heatmap.bins(selection, heatmap.EVENTS, TREE_BBOX, zoom)
        wanted = [(x, y) for x, y, code, at in spots if code.startswith("01") and Q3.start <= at < Q3.end]
        expected = collections.Counter((math.floor(x / grid.dlon), math.floor(y / grid.dlat)) for x, y in wanted)
        assert {(gx, gy): n for gx, gy, n in answer["bins"]} == expected
        assert answer["total"] == len(wanted) == sum(n for _gx, _gy, n in answer["bins"])
        assert answer["bin"]["dlon"] == grid.dlon and answer["bin"]["dlat"] == grid.dlat
        # the bins are squares of size_m in the local plane
        cos0 = math.cos(math.radians(heatmap.lat0()))
        assert grid.dlon * heatmap.M_PER_DEG_LON_EQUATOR * cos0 == pytest.approx(grid.size_m)
        assert grid.dlat * heatmap.M_PER_DEG_LAT == pytest.approx(grid.size_m)
    finally:
        Event.objects.filter(pk__in=[e.pk for e in made]).delete()


def test_bins_are_sized_to_the_zoom_and_nest():
    """A bin is 32 px at the zoom (≈ 32 · 156 543 · cos φ0 / 2^z m), half as wide one zoom in; a box
    too wide for that many bins gets bins doubled until at most MAX_BINS_ACROSS fit."""
    street = (113.93, 22.53, 113.95, 22.55)
    z15, z16 = heatmap.bins_for(15, street), heatmap.bins_for(16, street)
    assert z15.size_m == pytest.approx(32 * 156543.03392804097 * math.cos(math.radians(heatmap.lat0())) / 2**15)
    assert z15.size_m == pytest.approx(2 * z16.size_m)
    wide = heatmap.bins_for(18, (113.0, 22.0, 115.0, 23.0))  # 2° east-west: the longer side
    span = 2 * 111320 * math.cos(math.radians(heatmap.lat0()))
    assert span / wide.size_m <= heatmap.MAX_BINS_ACROSS < 2 * span / wide.size_m


def test_bins_of_a_viewport_count_only_its_events(tree):
    events_at(tree, [(113.91, 22.51), (113.912, 22.512), (113.99, 22.59)])
    box = (113.905, 22.505, 113.92, 22.52)
    answer = heatmap.bins(Selection(area=None, period=Q3), heatmap.EVENTS, box, 14)
    assert answer["total"] == 2


# --- the API: bins, points, months, errors ------------------------------------------------------

@pytest.fixture
def leader(make_user):
    return make_user("boss", Role.LEADER)


def test_bins_api_answers_per_month_of_the_period(tree, leader):
    """The grids answer lists the period's months; asked per month (from/to), the bins differ."""
    events_at(tree, [(113.91, 22.51)] * 2, at=dt.datetime(2026, 7, 3, 9, tzinfo=TZ))
    events_at(tree, [(113.99, 22.59)] * 3, at=dt.datetime(2026, 9, 30, 23, 30, tzinfo=TZ))
    api = client(leader)
    grids = api.get("/api/analytics/grids/", {"period": "2026-Q3", "category": "01"}).json()
    assert [m["label"] for m in grids["months"]] == ["2026-07", "2026-08", "2026-09"]
    assert grids["selection"]["period"]["closed"] is True and "rule" in grids["boundaries"]
    totals = {}
    for month in grids["months"]:
        answer = api.get("/api/analytics/bins/", {"bbox": ",".join(map(str, TREE_BBOX)), "zoom": 13, "category": "01",
                                                  "from": month["from"], "to": month["to"]}).json()
        totals[month["label"]] = (answer["total"], [b[2] for b in answer["bins"]])
    assert totals == {"2026-07": (2, [2]), "2026-08": (0, []), "2026-09": (3, [3])}
    whole = api.get("/api/analytics/bins/", {"bbox": ",".join(map(str, TREE_BBOX)), "zoom": 13.7, "period": "2026-Q3"}).json()
    assert whole["total"] == 5 and whole["zoom"] == 13


def test_points_are_capped_and_say_so(tree, leader, monkeypatch):
    events_at(tree, [(113.91 + i / 10000, 22.51) for i in range(4)])
    monkeypatch.setattr(heatmap, "POINTS_LIMIT", 3)
    answer = client(leader).get("/api/analytics/points/", {"bbox": "113.9,22.5,113.95,22.55", "period": "2026-Q3"}).json()
    assert answer["truncated"] is True and answer["limit"] == 3 and len(answer["points"]) == 3
    assert all(p[1] == pytest.approx(113.91, abs=0.001) and p[0] == pytest.approx(22.51) for p in answer["points"])
    monkeypatch.setattr(heatmap, "POINTS_LIMIT", 10)
    cache.clear()
    answer = client(leader).get("/api/analytics/points/", {"bbox": "113.9,22.5,113.95,22.55", "period": "2026-Q3"}).json()
    assert answer["truncated"] is False and len(answer["points"]) == 4


@pytest.mark.parametrize("params, field", [
    ({"zoom": 12}, "bbox"),
    ({"bbox": "113.9,22.5,114,22.6"}, "zoom"),
    ({"bbox": "113.9,22.5,114,22.6", "zoom": 30}, "zoom"),
    ({"bbox": "113.9,22.5,114,22.6", "zoom": 12, "layer": "cats"}, "layer"),
    ({"bbox": "113.9,22.5,114,22.6", "zoom": 12, "period": "someday"}, "period"),
    ({"bbox": "113.9,22.5,114,22.6", "zoom": 12, "category": "99"}, "category"),
    ({"bbox": "113.9,22.5,114,22.6", "zoom": 12, "status": "asleep"}, "status"),
    ({"bbox": "110,20,116,26", "zoom": 12}, "bbox"),
])
def test_bad_params_are_400_naming_the_field(tree, leader, params, field):
    response = client(leader).get("/api/analytics/bins/", params)
    assert response.status_code == 400 and field in response.json()


def test_anonymous_gets_nothing(tree):
    for url in ("/api/analytics/bins/?bbox=113.9,22.5,114,22.6&zoom=12", "/api/analytics/grids/", "/api/analytics/points/?bbox=113.9,22.5,113.95,22.55"):
        assert client().get(url).status_code in (401, 403)


def test_endpoints_are_in_the_openapi_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for url in ("/api/analytics/bins/", "/api/analytics/points/", "/api/analytics/grids/", "/api/analytics/grids/outlines/"):
        assert "get" in paths[url], url
    names = {p["name"] for p in paths["/api/analytics/bins/"]["get"]["parameters"]}
    assert {"bbox", "zoom", "layer", "area", "period", "from", "to", "category", "status"} <= names


# --- the choropleth: rates by hand ----------------------------------------------------------------

@pytest.fixture
def grid_c(tree, primary_layer):
    """A third grid of the community with nobody living in it."""
    return grid_services.create_area(code="440305005001003", name="网格C", level=Level.GRID, parent=tree["community"],
                                     layer=primary_layer, boundary=rect(114.00, 22.50, 114.05, 22.60))


def test_grid_rates_by_hand(tree, estate, grid_c, leader):
    """Grid A: 10 residents in 7 households, 3 events → 300 per 1,000 residents, 42.86 per 100
    households; grid B: 1 resident, 1 household, no event → 0; grid C: 2 events, nobody → no rate."""
    events_at(tree, [(113.92, 22.55)] * 3)
    events_at(tree, [(114.02, 22.55)] * 2, grid=grid_c)
    answer = client(leader).get("/api/analytics/grids/", {"period": "2026-Q3"}).json()
    rows = {r["code"][-3:]: r for r in answer["grids"]}
    assert {k: (r["count"], r["residents"], r["households"], r["per_1000_residents"], r["per_100_households"])
            for k, r in rows.items()} == {
        "001": (3, 10, 7, 300.0, 42.86),
        "002": (0, 1, 1, 0.0, 0.0),
        "003": (2, 0, 0, None, None),
    }
    csv = client(leader).get("/api/analytics/grids/", {"period": "2026-Q3", "export": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[1] == "440305005001001,网格A,3,10,7,300.0,42.86" and lines[3] == "440305005001003,网格C,2,0,0,,"


# --- people layers: small bins and grids suppressed ------------------------------------------------

def test_people_layers_suppress_small_bins_and_grids(tree, estate, settings, make_user):
    """The estate's building in grid A holds 3 persons with welfare (dibao, empty nest, disability)
    and 1 with a current, unsealed special-group record (a sealed one never counts)."""
    staff_user = client(make_user("cstaff", Role.AREA_STAFF, tree["community"]))
    params = {"bbox": ",".join(map(str, TREE_BBOX)), "zoom": 12, "period": "2026-Q3"}
    settings.GRIDMAP_MIN_PERSONS_PER_BIN = 3
    welfare = staff_user.get("/api/analytics/bins/", {**params, "layer": "welfare"}).json()
    assert [b[2] for b in welfare["bins"]] == [3] and welfare["suppressed"] == 0 and welfare["min_persons"] == 3
    special = staff_user.get("/api/analytics/bins/", {**params, "layer": "special_groups"}).json()
    assert special["bins"] == [] and special["suppressed"] == 1 and special["total"] == 0
    grids = staff_user.get("/api/analytics/grids/", {"period": "2026-Q3", "layer": "special_groups"}).json()
    row = next(r for r in grids["grids"] if r["id"] == tree["a"].pk)
    assert row["suppressed"] is True and row["count"] is None and row["per_1000_residents"] is None and grids["suppressed"] == 1
    settings.GRIDMAP_MIN_PERSONS_PER_BIN = 1
    cache.clear()
    special = staff_user.get("/api/analytics/bins/", {**params, "layer": "special_groups"}).json()
    assert [b[2] for b in special["bins"]] == [1] and special["suppressed"] == 0
    # a record that ended before the period does not count
    WelfareRecord.objects.filter(person=estate["people"]["poor"]).update(start="2020-01-01", end="2026-06-30")
    SpecialGroupRecord.objects.filter(person=estate["people"]["corr"]).update(start="2026-10-01")
    cache.clear()
    assert [b[2] for b in staff_user.get("/api/analytics/bins/", {**params, "layer": "welfare"}).json()["bins"]] == [2]
    assert staff_user.get("/api/analytics/bins/", {**params, "layer": "special_groups"}).json()["bins"] == []


def test_people_layers_refused_without_sensitive_role(tree, estate, users):
    response = client(users["worker_a"]).get("/api/analytics/bins/", {"bbox": "113.9,22.5,114,22.6", "zoom": 12, "layer": "welfare"})
    assert response.status_code == 403
    assert client(users["worker_a"]).get("/api/analytics/grids/", {"layer": "special_groups"}).status_code == 403


# --- scoping ----------------------------------------------------------------------------------------

@pytest.fixture
def other_community(tree, primary_layer):
    """A second community of the street, east of the first, with one grid."""
    community = grid_services.create_area(code="440305005002", name="高新社区", level=Level.COMMUNITY, parent=tree["street"],
                                          boundary=rect(114.00, 22.50, 114.10, 22.60))
    grid = grid_services.create_area(code="440305005002001", name="高新网格", level=Level.GRID, parent=community,
                                     layer=primary_layer, boundary=rect(114.00, 22.50, 114.10, 22.60))
    return {"community": community, "grid": grid}


def test_a_community_sees_only_its_own_numbers(tree, other_community, make_user):
    events_at(tree, [(113.92, 22.55)] * 2)
    events_at(tree, [(114.05, 22.55)] * 7, grid=other_community["grid"])
    mine = client(make_user("kjy", Role.AREA_STAFF, tree["community"]))
    wide = {"bbox": "113.9,22.5,114.1,22.6", "zoom": 12, "period": "2026-Q3"}
    assert mine.get("/api/analytics/bins/", wide).json()["total"] == 2
    for url, extra in [("/api/analytics/bins/", wide), ("/api/analytics/grids/", {}), ("/api/analytics/grids/outlines/", {}),
                       ("/api/analytics/points/", {"bbox": "114.0,22.5,114.1,22.6"})]:
        for area in (other_community["community"].pk, other_community["community"].code, other_community["grid"].pk):
            assert mine.get(url, {**extra, "area": area}).status_code == 404, (url, area)
    codes = {r["code"] for r in mine.get("/api/analytics/grids/", {"period": "2026-Q3"}).json()["grids"]}
    assert codes == {tree["a"].code, tree["b"].code}
    outlines = mine.get("/api/analytics/grids/outlines/").json()
    assert {f["properties"]["code"] for f in outlines["features"]} == codes
    # a grid leader: their grid only, even over the whole box
    leader_a = make_user("la", Role.GRID_LEADER, tree["a"])
    assert client(leader_a).get("/api/analytics/bins/", wide).json()["total"] == 2
    assert client(leader_a).get("/api/analytics/bins/", {**wide, "area": tree["b"].pk}).status_code == 404
    # the centre sees both
    assert client(make_user("boss", Role.LEADER)).get("/api/analytics/bins/", wide).json()["total"] == 9


# --- the page -------------------------------------------------------------------------------------

def test_the_page_and_its_link_on_the_map(tree, leader):
    page = client(leader).get("/analytics/")
    assert page.status_code == 200 and b'id="ah-filters"' in page.content and b"gridmap/analytics_map.js" in page.content
    assert b'href="/analytics/"' in client(leader).get("/").content
    assert client().get("/analytics/").status_code == 302  # to the login
