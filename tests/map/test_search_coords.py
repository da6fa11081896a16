"""Coordinates in the map's search box (/api/search/): a lon/lat pair in either order, split by a
comma or a space, optionally "gcj:" (copied from a GCJ-02 map, converted to WGS84 by
gridmap.core.geo), gives one "point" result: the WGS84 point and the primary-layer grid there with
its leader when the caller may see it, else "outside your area". Numbers out of range are no
coordinate (and no error); name searches are unchanged. The parser is also checked with random
pairs (hypothesis)."""
import numpy as np
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridmap.core.geo import gcj02_to_wgs84, wgs84_to_gcj02
from gridmap.map import search as search_module
from gridmap.map.search import parse_coordinates

SEARCH = reverse("map:search")
HYPO = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def search(client, user, q, lang="zh-hans"):
    client.force_login(user)
    res = client.get(SEARCH, {"q": q}, HTTP_ACCEPT_LANGUAGE=lang)
    assert res.status_code == 200, res.content
    return res.json()


def points(body):
    return [r for r in body["results"] if r["kind"] == "point"]


@pytest.mark.parametrize("q", ["113.9327, 22.5227", "113.9327 22.5227", "113.9327,22.5227", "22.5227,113.9327",
                               "22.5227 113.9327", "  22.5227 ,  113.9327 ", "113.9327，22.5227"])
def test_a_pair_in_either_order_is_one_point_result_first(client, tree, users, leader_named, q):
    body = search(client, users["leader_a"], q)
    assert [r["kind"] for r in body["results"]] == ["point"]
    (hit,) = body["results"]
    assert hit["label"] == "113.932700, 22.522700"
    assert hit["point"] == [pytest.approx(113.9327, abs=1e-9), pytest.approx(22.5227, abs=1e-9)]
    assert hit["bbox"] is None
    assert body["groups"] == [{"kind": "point", "label": "坐标", "count": 1}]


def test_a_point_in_the_callers_grid_names_the_grid_and_its_leader(client, tree, users, leader_named):
    (hit,) = points(search(client, users["leader_a"], "113.9327, 22.5227"))
    assert hit["sublabel"] == f"网格A · {tree['a'].code} · 负责人 张网格"
    (hit,) = points(search(client, users["leader_a"], "113.9327, 22.5227", lang="en"))
    assert hit["sublabel"] == f"网格A · {tree['a'].code} · Leader 张网格"
    # grid A seen from the centre: named too
    (hit,) = points(search(client, users["centre"], "22.5227 113.9327"))
    assert hit["sublabel"].startswith("网格A · ")


def test_a_grid_without_leader_is_named_alone(client, tree, users):
    (hit,) = points(search(client, users["centre"], "113.97, 22.55"))
    assert hit["sublabel"] == f"网格B · {tree['b'].code}"


def test_a_point_in_another_grid_is_outside_your_area_and_names_nothing(client, tree, users, leader_named):
    tree["b"].leader = users["leader_b"]
    tree["b"].save()
    body = search(client, users["leader_a"], "113.97, 22.55")
    (hit,) = points(body)
    assert hit["sublabel"] == "不在您的辖区内"
    assert "网格B" not in str(body) and tree["b"].code not in str(body) and "leader_b" not in str(body)
    assert hit["point"] == [113.97, 22.55]  # the map still flies there
    (hit,) = points(search(client, users["leader_a"], "113.97, 22.55", lang="en"))
    assert hit["sublabel"] == "outside your area"
    # grid B's leader sees their own grid there
    (hit,) = points(search(client, users["leader_b"], "113.97, 22.55"))
    assert hit["sublabel"] == f"网格B · {tree['b'].code} · 负责人 leader_b"


def test_a_point_outside_every_grid(client, tree, users):
    (hit,) = points(search(client, users["centre"], "120.5, 30.25"))
    assert hit["sublabel"] == "不在任何网格内"
    (hit,) = points(search(client, users["leader_a"], "120.5, 30.25"))
    assert hit["sublabel"] == "不在您的辖区内"


@pytest.mark.parametrize("prefix", ["gcj:", "gcj02:", "GCJ02: ", "gcj-02：", "gcj :"])
def test_gcj_prefix_gives_the_converted_wgs84_point(client, tree, users, leader_named, prefix):
    gcj = (113.9327, 22.5227)
    want = gcj02_to_wgs84(np.array([gcj]))[0]
    body = search(client, users["leader_a"], f"{prefix}{gcj[0]}, {gcj[1]}")
    (hit,) = body["results"]
    assert hit["kind"] == "point"
    assert hit["point"] == [pytest.approx(want[0], abs=1e-7), pytest.approx(want[1], abs=1e-7)]
    assert abs(hit["point"][0] - gcj[0]) > 1e-3  # really moved (some 500 m in Shenzhen)
    back = wgs84_to_gcj02(np.array([hit["point"]]))[0]
    assert back == pytest.approx(gcj, abs=1e-6)
    assert hit["label"] == f"{want[0]:.6f}, {want[1]:.6f}"
    assert hit["sublabel"].startswith("网格A · ") and "GCJ-02" in hit["sublabel"] and "113.932700, 22.522700" in hit["sublabel"]
    # latitude first works with the prefix too
    (hit2,) = search(client, users["leader_a"], f"{prefix}{gcj[1]} {gcj[0]}")["results"]
    assert hit2["point"] == hit["point"]


@pytest.mark.parametrize("q", ["200, 91", "91, 200", "113.9, 91", "-113.9, 22.5", "2.35, 48.85", "100, 120",
                               "20 30", "gcj:200, 91", "113.9327, 22.5227, 5", "113.9327"])
def test_out_of_range_numbers_give_no_point_and_no_error(client, tree, users, q):
    body = search(client, users["centre"], q)
    assert points(body) == []


def test_a_plain_name_search_is_unchanged(client, estate, users):
    body = search(client, users["leader_a"], "幸福楼")
    assert [(r["kind"], r["id"]) for r in body["results"]] == [("building", estate["building"].pk)]
    assert body["groups"] == [{"kind": "building", "label": "楼栋", "count": 1}]
    body = search(client, users["centre"], "网格")
    assert [(r["kind"], r["label"]) for r in body["results"]] == [("area", "网格A"), ("area", "网格B")]


# --- the parser, with random pairs --------------------------------------------------------------

LON = st.floats(73, 136, allow_nan=False)
LAT = st.floats(3, 54, allow_nan=False)
SEPARATORS = st.sampled_from([",", ", ", " ", " , ", "，", "  "])
PREFIXES = st.sampled_from(["", "gcj:", "gcj02:", "GCJ: ", "gcj-02："])


@st.composite
def formatted_pairs(draw):
    """(text, lon, lat, gcj): a random in-range pair written in one of the accepted ways; lon and
    lat are the numbers as written."""
    digits = draw(st.integers(0, 8))
    lon, lat = (f"{v:.{digits}f}" for v in (draw(LON), draw(LAT)))
    first, second = (lat, lon) if draw(st.booleans()) else (lon, lat)
    prefix = draw(PREFIXES)
    return f"{prefix}{first}{draw(SEPARATORS)}{second}", float(lon), float(lat), bool(prefix)


@given(formatted_pairs())
@settings(max_examples=300)
def test_parser_reads_back_every_accepted_form(pair):
    text, lon, lat, gcj = pair
    parsed = parse_coordinates(search_module.normalise(text))
    assert parsed is not None, text
    assert parsed[0] == pytest.approx(lon, abs=1e-6) and parsed[1] == pytest.approx(lat, abs=1e-6) and parsed[2] is gcj


# in neither range, by a margin that rounding to fewer digits cannot cross
NEITHER = st.floats(-1e4, 2) | st.floats(55, 72) | st.floats(137, 1e4)


@st.composite
def out_of_range_pairs(draw):
    """Pairs that are no coordinate in China: one number fits neither range, or both are longitudes,
    or both latitudes."""
    a, b = draw(st.sampled_from([(NEITHER, st.floats(-1e4, 1e4)), (LON, LON), (LAT, LAT)]))
    x, y = draw(a), draw(b)
    if draw(st.booleans()):
        x, y = y, x
    digits = draw(st.integers(0, 8))
    return f"{draw(PREFIXES)}{x:.{digits}f}{draw(SEPARATORS)}{y:.{digits}f}"


@given(out_of_range_pairs())
@settings(max_examples=300)
def test_parser_never_reads_an_out_of_range_pair(text):
    assert parse_coordinates(search_module.normalise(text)) is None, text


@given(formatted_pairs())
@HYPO
def test_search_round_trips_random_pairs_to_the_same_point(tree, users, pair):
    text, lon, lat, gcj = pair
    body = search_module.search(users["centre"], text)
    (hit,) = body["results"]
    assert hit["kind"] == "point"
    want = gcj02_to_wgs84(np.array([[lon, lat]]))[0] if gcj else (lon, lat)
    assert hit["point"][0] == pytest.approx(want[0], abs=1e-6) and hit["point"][1] == pytest.approx(want[1], abs=1e-6)
    inside = 113.90 <= hit["point"][0] <= 114.00 and 22.50 <= hit["point"][1] <= 22.60
    assert hit["sublabel"].startswith("网格") == inside  # grid A or B, else "不在任何网格内"


@given(out_of_range_pairs())
@HYPO
def test_search_gives_no_point_for_random_out_of_range_pairs(tree, users, text):
    body = search_module.search(users["centre"], text)
    assert [r for r in body["results"] if r["kind"] == "point"] == []
