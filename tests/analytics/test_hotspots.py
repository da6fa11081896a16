"""Hotspots (issue 13, deliverable 2) on real PostGIS: Gi* z-scores equal a hand computation of
Getis & Ord's formula and esda's on a lattice of grids with known counts; queen contiguity from
the boundaries; FDR classes by hand; bins and the other weights; the emerging rule; recurring
buildings and households; area scoping (404) and 400s naming the field."""
import datetime as dt
import itertools

import numpy as np
import pytest
from drf_spectacular.generators import SchemaGenerator
from esda.getisord import G_Local
from libpysal.weights import W
from rest_framework.test import APIClient

from gridmap.analytics import hotspots
from gridmap.core import clock
from gridmap.core.models import Role
from gridmap.events.calendar import TZ

from .hotspot_lattice import (  # noqa: F401
    COUNTS,
    LATTICE_SIDE,
    centre,
    counted,
    fresh_cache,
    lattice,
    put_events,
)

MOMENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
pytestmark = [pytest.mark.time_machine(MOMENT), pytest.mark.usefixtures("fresh_cache")]
CELLS = list(itertools.product(range(LATTICE_SIDE), repeat=2))


def client(user=None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_login(user)
    return c


def hand_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Getis & Ord (1995) Gi*, binary weights with w_ii = 1:
    z_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n Σ_j w_ij² − W_i²) / (n − 1))),  S² = Σ x² / n − x̄²."""
    n = len(x)
    mean, s = x.mean(), np.sqrt((x ** 2).mean() - x.mean() ** 2)
    wi, wi2 = w.sum(axis=1), (w ** 2).sum(axis=1)
    return (w @ x - mean * wi) / (s * np.sqrt((n * wi2 - wi ** 2) / (n - 1)))


def lattice_queen() -> np.ndarray:
    """The 5 × 5 lattice's queen matrix, each cell its own neighbour, in CELLS order."""
    return np.array([[float(abs(a[0] - b[0]) <= 1 and abs(a[1] - b[1]) <= 1) for b in CELLS] for a in CELLS])


def test_gi_star_matches_the_formula_by_hand_and_esda():
    x = np.array([COUNTS.get(c, 0) for c in CELLS], dtype=float)
    w = lattice_queen()
    nbrs = {i: [j for j in range(len(CELLS)) if w[i, j] and j != i] for i in range(len(CELLS))}
    ours = np.array(hotspots.gi_star(x, nbrs)["z"])
    expected = hand_gi_star(x, w)
    assert np.allclose(ours, expected, atol=1e-4)
    esda = G_Local(x, W({i: [i, *nbrs[i]] for i in nbrs}, silence_warnings=True), transform="B", star=True, permutations=0)
    assert np.allclose(ours, esda.Zs, atol=1e-4)
    # the corner cluster is hot, the empty far side is not
    assert ours[CELLS.index((0, 0))] > 2.5 and ours[CELLS.index((4, 2))] < 0


def test_permutation_p_values_keep_the_z_scores():
    x = np.array([COUNTS.get(c, 0) for c in CELLS], dtype=float)
    w = lattice_queen()
    nbrs = {i: [j for j in range(len(CELLS)) if w[i, j] and j != i] for i in range(len(CELLS))}
    analytical, drawn = hotspots.gi_star(x, nbrs), hotspots.gi_star(x, nbrs, permutations=199, seed=1)
    assert drawn["z"] == analytical["z"]
    corner = CELLS.index((0, 0))
    assert 2 / 200 <= drawn["p"][corner] <= 0.05  # (more extreme draws + 1) / 200, two-sided
    assert all(2 / 200 <= p <= 1 for p in drawn["p"])


def test_fdr_classes_are_benjamini_hochberg_by_hand():
    """Ten units; q_(k) = min over j ≥ k of p_(j) · n / j; the class is the highest confidence
    whose 1 − level q reaches, hot for z > 0 and cold for z < 0."""
    z = np.array([3.4, -3.0, 2.3, 2.0, -1.8, 1.0, 0.5, 0.0, -0.3, 0.2])
    from scipy.stats import norm

    p = 2 * norm.sf(np.abs(z))
    order = np.argsort(p)
    n = len(p)
    q_sorted = np.minimum.accumulate((p[order] * n / np.arange(1, n + 1))[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(q_sorted, 1)
    expected = [next((c for c in (99, 95, 90) if qi <= 1 - c / 100), 0) for qi in q]
    got = hotspots.classify(z, p)
    assert got["confidence"] == expected
    assert np.allclose(got["q"], q, rtol=1e-3)
    assert got["class"][0] == "hot" and got["class"][1] == "cold"
    assert got["class"][7] == "none"
    # the multiple-testing correction matters here: unit 3 (p ≈ 0.046) is not significant at 95 %
    assert p[3] < 0.05 and got["confidence"][3] < 95


@pytest.mark.django_db
def test_queen_pairs_are_the_lattice_neighbours_with_corners(lattice):
    ids = {lattice["grids"][c].pk: c for c in CELLS}
    pairs = {frozenset((ids[a], ids[b])) for a, b in hotspots.queen_pairs() if a in ids and b in ids}
    expected = {frozenset((a, b)) for a, b in itertools.combinations(CELLS, 2) if max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1}
    assert pairs == expected
    assert len(expected) == 72  # 40 edges + 32 corners


@pytest.mark.django_db
def test_api_gi_star_over_grids_equals_the_hand_computation(counted, make_user):
    leader = make_user("boss", Role.LEADER)
    r = client(leader).get("/api/analytics/hotspots/", {"area": counted["community"].code})
    assert r.status_code == 200, r.content
    answer = r.json()
    by_code = {f["properties"]["code"]: f["properties"] for f in answer["features"]}
    x = np.array([COUNTS.get(c, 0) for c in CELLS], dtype=float)
    expected = hand_gi_star(x, lattice_queen())
    for k, c in enumerate(CELLS):
        props = by_code[counted["grids"][c].code]
        assert props["count"] == COUNTS.get(c, 0)
        assert props["z"] == pytest.approx(expected[k], abs=1e-3)
    assert by_code[counted["grids"][0, 0].code]["class"] == "hot"
    assert by_code[counted["grids"][0, 0].code]["confidence"] >= 95
    assert answer["total"] == sum(COUNTS.values())
    assert answer["method"]["params"]["weights"] == "queen" and answer["method"]["fdr"] == "benjamini-hochberg"
    assert any("Gi*" in line["value"] for line in answer["method"]["lines"])
    assert answer["boundaries"]["rule"]
    assert answer["summary"]["hot"][str(by_code[counted["grids"][0, 0].code]["confidence"])] >= 1


@pytest.mark.django_db
def test_other_weights_and_bins(counted, make_user):
    leader = make_user("boss", Role.LEADER)
    area = counted["community"].code
    knn = client(leader).get("/api/analytics/hotspots/", {"area": area, "weights": "knn", "k": 4}).json()
    assert knn["method"]["params"]["k"] == 4
    assert {f["properties"]["count"] for f in knn["features"]} >= {9, 8, 7}
    band = client(leader).get("/api/analytics/hotspots/", {"area": area, "weights": "distance"}).json()
    # the least band giving each unit a neighbour: the lattice step, about 1.03 km east–west at 22.5°N
    assert 900 < band["method"]["params"]["distance"] < 1200
    hot = {f["properties"]["code"] for f in band["features"] if f["properties"]["class"] == "hot"}
    assert counted["grids"][0, 0].code in hot
    bins = client(leader).get("/api/analytics/hotspots/", {"area": area, "unit": "bin", "size": 500}).json()
    assert sum(f["properties"]["count"] for f in bins["features"]) == sum(COUNTS.values())
    # 5 km × 5.5 km of 500 m bins: about a hundred, the empty ones too
    assert 80 <= len(bins["features"]) <= 150
    assert all(f["geometry"]["type"] == "Polygon" for f in bins["features"])
    # the hot bins are those around the south-west cluster (events 1 km apart: the bins between them
    # gather the most), none elsewhere
    hot_bins = [f["geometry"]["coordinates"][0][0] for f in bins["features"] if f["properties"]["class"] == "hot"]
    cx, cy = centre(1, 1)
    assert hot_bins and all(abs(x - cx) < 0.015 and abs(y - cy) < 0.015 for x, y in hot_bins)


@pytest.mark.django_db
def test_hexagons_take_each_event_to_the_nearest_centre(lattice, make_user):
    """Random points: each counted in the hexagon whose centre is nearest (the hexagons' centres
    from the answer's own outlines), every hexagon has six neighbours' worth of shape, none lost."""
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.uniform(114.10, 114.15, 300), rng.uniform(22.50, 22.55, 300)])
    at = clock.now() - dt.timedelta(days=2)
    for lon, lat in points:
        put_events(lattice["grids"][int((lon - 114.10) / 0.01), int((lat - 22.50) / 0.01)], (lon, lat), 1, at)
    answer = client(make_user("boss", Role.LEADER)).get(  # the method's English
        "/api/analytics/hotspots/", {"area": lattice["community"].code, "unit": "hex", "size": 700},
        HTTP_ACCEPT_LANGUAGE="en").json()
    features = answer["features"]
    assert all(len(f["geometry"]["coordinates"][0]) == 7 for f in features)
    centres = np.array([np.mean(f["geometry"]["coordinates"][0][:6], axis=0) for f in features])
    kx = np.cos(np.radians(22.55))  # compare distances in a metric-proportional plane
    d = ((points[:, None, 0] - centres[None, :, 0]) * kx) ** 2 + (points[:, None, 1] - centres[None, :, 1]) ** 2
    expected = np.bincount(d.argmin(axis=1), minlength=len(features))
    assert [f["properties"]["count"] for f in features] == expected.tolist()
    assert answer["total"] == 300 and "hexagons 700 m across" in str(answer["method"]["lines"])


def test_emerging_rule():
    assert hotspots.trend(True, False, 3.0, 0.5) == "new"
    assert hotspots.trend(True, True, 3.5, 2.5) == "intensifying"
    assert hotspots.trend(True, True, 2.5, 3.5) == "persistent"
    assert hotspots.trend(False, True, 0.1, 3.0) == "cooling"
    assert hotspots.trend(False, False, -2.0, 0.0) == "none"


@pytest.mark.django_db
def test_emerging_compares_the_last_weeks_with_the_weeks_before(lattice, make_user):
    now = clock.now()
    grids = lattice["grids"]
    # last 4 weeks: the south-west corner; the 4 weeks before: the north-east corner
    for c in ((0, 0), (0, 1), (1, 0), (1, 1)):
        put_events(grids[c], centre(*c), 8, now - dt.timedelta(days=5))
    for c in ((4, 4), (3, 4), (4, 3), (3, 3)):
        put_events(grids[c], centre(*c), 8, now - dt.timedelta(days=40))
    put_events(grids[2, 2], centre(2, 2), 1, now - dt.timedelta(days=5))
    put_events(grids[2, 2], centre(2, 2), 1, now - dt.timedelta(days=40))
    put_events(grids[0, 0], centre(0, 0), 5, now - dt.timedelta(days=70))  # older than both windows
    r = client(make_user("boss", Role.LEADER)).get("/api/analytics/hotspots/emerging/", {"area": lattice["community"].code, "weeks": 4})
    assert r.status_code == 200, r.content
    by = {f["properties"]["code"]: f["properties"] for f in r.json()["features"]}
    sw, ne = by[grids[0, 0].code], by[grids[4, 4].code]
    assert (sw["count"], sw["count_before"], sw["change"]) == (8, 0, 8)
    assert sw["trend"] == "new" and ne["trend"] == "cooling"
    assert by[grids[2, 2].code]["trend"] == "none"
    answer = r.json()
    assert answer["trends"]["new"] >= 1 and answer["trends"]["cooling"] >= 1
    assert answer["weeks"] == 4 and answer["now"]["to"].startswith("2026-11-20")
    assert answer["before"]["to"] == answer["now"]["from"]


@pytest.mark.django_db
def test_recurring_buildings_and_households_with_their_events(tree, estate, make_user):
    building, people = estate["building"], estate["people"]
    at = clock.now() - dt.timedelta(days=40)
    first, second = put_events(tree["a"], (113.9247, 22.5496), 2, at, building=building)
    put_events(tree["b"], (113.9702, 22.5501), 1, at, building=estate["other"])  # grid B: once only
    put_events(tree["a"], (113.9247, 22.5496), 1, at - dt.timedelta(days=200), building=building)  # before the 6 months
    # household H3 (张矫正 and his son): three events involve its members, one of them both
    loose = put_events(tree["a"], (113.93, 22.55), 2, at)
    for event in (first, loose[0]):
        event.involved_persons.add(people["corr"])
    loose[1].involved_persons.add(people["son"], people["corr"])
    community = make_user("community", Role.AREA_STAFF, tree["community"])
    r = client(community).get("/api/analytics/recurring/", {"months": 6, "min_events": 2})
    assert r.status_code == 200, r.content
    answer = r.json()
    assert [(b["code"], b["count"]) for b in answer["buildings"]] == [("A-1", 2)]
    assert {e["number"] for e in answer["buildings"][0]["events"]} == {first.number, second.number}
    assert answer["buildings"][0]["events"][0]["category"] == "0101"
    assert [(h["number"], h["count"]) for h in answer["households"]] == [("H3", 3)]
    assert {e["number"] for e in answer["households"][0]["events"]} == {first.number, loose[0].number, loose[1].number}
    three = client(community).get("/api/analytics/recurring/", {"min_events": 3}).json()
    assert three["buildings"] == [] and [h["number"] for h in three["households"]] == ["H3"]
    # twelve months reach the old event too
    year = client(community).get("/api/analytics/recurring/", {"months": 12, "min_events": 3}).json()
    assert [(b["code"], b["count"]) for b in year["buildings"]] == [("A-1", 3)]


@pytest.mark.django_db
def test_scoped_to_the_callers_area(tree, staff, report):
    report()
    report(lon=113.97, lat=22.55)
    leader_a = staff["leader_a"]
    for url in ("/api/analytics/hotspots/", "/api/analytics/hotspots/emerging/", "/api/analytics/recurring/"):
        assert client(leader_a).get(url, {"area": tree["b"].code}).status_code == 404, url
        assert client(leader_a).get(url, {"area": tree["community"].pk}).status_code == 404, url
        assert client(leader_a).get(url, {"area": "4403\x00"}).status_code == 404, url  # PostgreSQL refuses NUL
        assert client().get(url).status_code == 403, url
        assert client(staff["worker_a"]).get(url).status_code == 403, url  # workers work events, not statistics
    own = client(leader_a).get("/api/analytics/hotspots/").json()
    assert [f["properties"]["code"] for f in own["features"]] == [tree["a"].code]
    assert own["total"] == 1
    whole = client(staff["community"]).get("/api/analytics/hotspots/").json()
    assert whole["total"] == 2 and len(whole["features"]) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("query, field", [
    ({"unit": "hexagon"}, "unit"), ({"weights": "rook"}, "weights"), ({"k": "0"}, "k"), ({"k": "x"}, "k"),
    ({"size": "5"}, "size"), ({"permutations": "5000"}, "permutations"), ({"distance": "nan"}, "distance"),
    ({"period": "soon"}, "period"), ({"category": "99"}, "category"), ({"category": "01\x00"}, "category"),
])
def test_bad_parameters_are_400_naming_the_field(staff, query, field):
    r = client(staff["centre"]).get("/api/analytics/hotspots/", query)
    assert r.status_code == 400 and field in r.json(), r.content


@pytest.mark.django_db
def test_bad_window_parameters_are_400(staff):
    c = client(staff["centre"])
    assert "weeks" in c.get("/api/analytics/hotspots/emerging/", {"weeks": 99}).json()
    assert "months" in c.get("/api/analytics/recurring/", {"months": 0}).json()
    assert "min_events" in c.get("/api/analytics/recurring/", {"min_events": 1}).json()


def test_endpoints_are_in_the_openapi_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for p in ("/api/analytics/hotspots/", "/api/analytics/hotspots/emerging/", "/api/analytics/recurring/"):
        assert p in paths
    names = {p["name"] for p in paths["/api/analytics/hotspots/"]["get"]["parameters"]}
    assert {"unit", "weights", "k", "distance", "size", "permutations", "area", "period", "category", "status"} <= names
