"""GET /api/events/map/: the events layer of the map page. GeoJSON by PostGIS with only what a
marker draws, scoped like every events read, filtered by status / category / clock / time,
limited per request (and saying so), and a bounding box that is checked."""
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridmap.events import map_layer
from gridmap.events.models import Category, Event
from gridmap.events.workflow import State

URL = "/api/events/map/"
BOX = "113.90,22.50,114.00,22.60"  # grids A and B


def layer(client, **params):
    res = client.get(URL, {"bbox": BOX, **params}, HTTP_ACCEPT="application/geo+json")
    assert res.status_code == 200, res.content
    assert res["Content-Type"].startswith("application/geo+json")
    return json.loads(res.content)


def ids(body):
    return sorted(f["id"] for f in body["features"])


def set_clock(event, clock):
    """Move the event's deadline so its clock shows `clock`."""
    now = timezone.now()
    due, warn = {"green": (now + dt.timedelta(days=3), now + dt.timedelta(days=2)),
                 "yellow": (now + dt.timedelta(hours=5), now - dt.timedelta(hours=1)),
                 "red": (now - dt.timedelta(hours=2), now - dt.timedelta(hours=10))}[clock]
    Event.objects.filter(pk=event.pk).update(due_at=due, warn_at=warn)


def test_features_carry_only_what_a_marker_draws(api, staff, report):
    e = report(address="科技园1栋", reporter_phone="13800138000")
    body = layer(api(staff["leader_a"]))
    assert body["type"] == "FeatureCollection" and body["limit"] == map_layer.MAP_LIMIT and body["truncated"] is False
    (f,) = body["features"]
    assert f["id"] == e.pk and f["geometry"] == {"type": "Point", "coordinates": [113.92, 22.55]}
    assert f["properties"] == {"id": e.pk, "number": e.number, "category": "0101",
                               "status": e.status, "clock": "green"}


def test_scoped_to_the_callers_area(api, staff, report):
    a = report()  # grid A
    b = report(lon=113.97)  # grid B
    assert ids(layer(api(staff["leader_a"]))) == [a.pk]
    assert ids(layer(api(staff["leader_b"]))) == [b.pk]
    assert ids(layer(api(staff["community"]))) == sorted([a.pk, b.pk])
    assert ids(layer(api(staff["centre"]))) == sorted([a.pk, b.pk])
    # reported by them: the patroller of the street sees both, and a grid worker of A only A's
    assert ids(layer(api(staff["worker_a"]))) == [a.pk]
    assert api().get(URL, {"bbox": BOX}).status_code in (401, 403)


def test_only_the_box(api, staff, report):
    west = report(lon=113.91)
    report(lon=113.94)
    assert ids(layer(api(staff["centre"]), bbox="113.905,22.54,113.915,22.56")) == [west.pk]


@pytest.mark.parametrize("bbox, why", [
    (None, "required"), ("", "required"), ("1,2,3", "four numbers"), ("a,b,c,d", "four numbers"),
    ("113.9,22.5,nan,22.6", "finite"), ("113.9,22.5,181,22.6", "out of range"),
    ("114,22.5,113.9,22.6", "west must be less"), ("113.9,22.6,114,22.5", "west must be less"),
    ("110,20,113,23", "too large"),
])
def test_bbox_is_checked(api, staff, bbox, why):
    params = {} if bbox is None else {"bbox": bbox}
    res = api(staff["centre"]).get(URL, params)
    assert res.status_code == 400
    assert why in res.json()["bbox"]


def test_a_district_sized_box_is_allowed(api, staff, report):
    report()
    assert len(layer(api(staff["centre"]), bbox="113.5,22.2,114.5,23.0")["features"]) == 1


def test_status_filter(api, staff, report):
    handling = report()
    assigned = report(lon=113.91)
    closed = report(lon=113.93)
    Event.objects.filter(pk=handling.pk).update(status=State.HANDLING)
    Event.objects.filter(pk=closed.pk).update(status=State.CLOSED)
    client = api(staff["leader_a"])
    assert ids(layer(client, status="handling")) == [handling.pk]
    assert ids(layer(client, status="handling,assigned")) == sorted([handling.pk, assigned.pk])
    assert ids(layer(client, status=["handling", "closed"])) == sorted([handling.pk, closed.pk])
    assert ids(layer(client, status="open")) == sorted([handling.pk, assigned.pk])
    assert ids(layer(client, status="closed")) == [closed.pk]
    assert ids(layer(client)) == sorted([handling.pk, assigned.pk, closed.pk])
    res = client.get(URL, {"bbox": BOX, "status": "handling,lost"})
    assert res.status_code == 400 and "lost" in res.json()["status"]


def test_category_filter_takes_the_subtree(api, staff, report):
    dispute = report()  # 0101 under 01
    other_code = Category.objects.filter(parent__isnull=False, active=True).exclude(code__startswith="01").order_by("code").first()
    other = report(category=other_code, lon=113.91)
    client = api(staff["centre"])
    assert ids(layer(client, category="01")) == [dispute.pk]
    assert ids(layer(client, category="0101")) == [dispute.pk]
    assert ids(layer(client, category=other_code.parent.code)) == [other.pk]
    res = client.get(URL, {"bbox": BOX, "category": "nope"})
    assert res.status_code == 400 and "category" in res.json()


def test_clock_colours_and_filter(api, staff, report):
    green, yellow, red = report(), report(lon=113.91), report(lon=113.93)
    set_clock(green, "green")
    set_clock(yellow, "yellow")
    set_clock(red, "red")
    client = api(staff["leader_a"])
    clocks = {f["id"]: f["properties"]["clock"] for f in layer(client)["features"]}
    assert clocks == {green.pk: "green", yellow.pk: "yellow", red.pk: "red"}
    assert ids(layer(client, clock="red")) == [red.pk]
    assert ids(layer(client, clock="yellow,red")) == sorted([yellow.pk, red.pk])
    assert client.get(URL, {"bbox": BOX, "clock": "blue"}).status_code == 400


def test_time_filter(api, staff, report):
    now = timezone.now()
    fresh = report()
    week = report(lon=113.91)
    old = report(lon=113.93)
    Event.objects.filter(pk=week.pk).update(reported_at=now - dt.timedelta(days=3))
    Event.objects.filter(pk=old.pk).update(reported_at=now - dt.timedelta(days=40))
    client = api(staff["leader_a"])
    assert ids(layer(client, since="7d")) == sorted([fresh.pk, week.pk])
    assert ids(layer(client, since="30d")) == sorted([fresh.pk, week.pk])
    assert ids(layer(client, since="100d")) == sorted([fresh.pk, week.pk, old.pk])
    assert fresh.pk in ids(layer(client, since="today")) and week.pk not in ids(layer(client, since="today"))
    day = (now - dt.timedelta(days=5)).date().isoformat()
    assert ids(layer(client, since=day)) == sorted([fresh.pk, week.pk])
    assert ids(layer(client, since=(now - dt.timedelta(days=50)).isoformat())) == sorted([fresh.pk, week.pk, old.pk])
    res = client.get(URL, {"bbox": BOX, "since": "last week"})
    assert res.status_code == 400 and "since" in res.json()


def test_limit_and_truncated(staff, report):
    events = [report(lon=113.91 + i * 0.001) for i in range(3)]
    newest_first = sorted(events, key=lambda e: (e.reported_at, e.pk), reverse=True)
    body = json.loads(map_layer.map_layer(staff["leader_a"], (113.9, 22.5, 114.0, 22.6), limit=2))
    assert body["limit"] == 2 and body["truncated"] is True
    assert [f["id"] for f in body["features"]] == [e.pk for e in newest_first[:2]]
    body = json.loads(map_layer.map_layer(staff["leader_a"], (113.9, 22.5, 114.0, 22.6), limit=3))
    assert body["truncated"] is False and len(body["features"]) == 3


def counted(client, **params) -> tuple[int, dict]:
    """(statements, answer) of one layer request."""
    with CaptureQueriesContext(connection) as ctx:
        body = layer(client, **params)
    return len(ctx.captured_queries), body


def test_query_count_is_constant(api, staff, report):
    """The same statements for 2 events and for 12: none per event."""
    for i in range(2):
        report(lon=113.91 + i * 0.001)
    client = api(staff["leader_a"])
    client.get(URL, {"bbox": BOX})  # warm the session and user
    few, body = counted(client, status="open", category="01", since="30d")
    assert len(body["features"]) == 2
    for i in range(10):
        report(lon=113.92 + i * 0.001)
    many, body = counted(client, status="open", category="01", since="30d")
    assert len(body["features"]) == 12
    # session, user with its area, its departments (visible_events), the category and its subtree
    # (a query a level), the layer, "truncated"
    assert few == many <= 9


# --- city scale: aggregates below the building zoom or above the point limit ------------------

def total(body):
    return sum(f["properties"]["count"] for f in body["features"])


def test_below_the_threshold_the_answer_is_cells_that_add_up(api, staff, report):
    # four pairs, the two of a pair 50 m apart, the pairs 2 km apart (grids A and B)
    made = [report(lon=113.91 + k * 0.02 + j * 0.0005, lat=22.52 + k * 0.02) for k in range(4) for j in range(2)]
    set_clock(made[0], "red")
    set_clock(made[1], "yellow")
    set_clock(made[2], "yellow")
    body = layer(api(staff["community"]), zoom=12)
    assert body["aggregated"] is True and body["type"] == "FeatureCollection" and body["zoom"] == 12
    assert total(body) == body["total"] == len(made)
    assert 4 <= len(body["features"]) < len(made)  # a pair shares a cell at zoom 12 (a cell ≈ 2.3 km)
    sums = {c: sum(f["properties"][c] for f in body["features"]) for c in ("green", "yellow", "red")}
    assert sums == {"green": 5, "yellow": 2, "red": 1}
    for f in body["features"]:
        p = f["properties"]
        assert f["geometry"]["type"] == "Point" and p["count"] == p["green"] + p["yellow"] + p["red"] >= 1
        assert p["clock"] == ("red" if p["red"] else "yellow" if p["yellow"] else "green")
        assert set(p) == {"count", "green", "yellow", "red", "clock"}  # counts only: no id, number or phone
    # a closer zoom: smaller cells, the same total
    closer = layer(api(staff["community"]), zoom=15)
    assert closer["aggregated"] is True and total(closer) == len(made) and len(closer["features"]) >= len(body["features"])
    assert closer["cell_m"] < body["cell_m"]


def test_aggregates_are_scoped(api, staff, report):
    a = [report(lon=113.92 + i * 0.001) for i in range(3)]
    b = [report(lon=113.97 + i * 0.001) for i in range(2)]
    assert total(layer(api(staff["leader_a"]), zoom=12)) == len(a)  # grid B's events are never counted
    assert total(layer(api(staff["leader_b"]), zoom=12)) == len(b)
    assert total(layer(api(staff["centre"]), zoom=12)) == len(a) + len(b)
    assert api().get(URL, {"bbox": BOX, "zoom": 12}).status_code in (401, 403)


def test_aggregates_are_filtered_like_the_points(api, staff, report):
    now = timezone.now()
    handling, assigned, closed, old = (report(lon=113.91 + i * 0.005) for i in range(4))
    Event.objects.filter(pk=handling.pk).update(status=State.HANDLING)
    Event.objects.filter(pk=closed.pk).update(status=State.CLOSED)
    Event.objects.filter(pk=old.pk).update(reported_at=now - dt.timedelta(days=40))
    set_clock(assigned, "red")
    other_code = Category.objects.filter(parent__isnull=False, active=True).exclude(code__startswith="01").order_by("code").first()
    report(category=other_code, lon=113.94)
    client = api(staff["leader_a"])
    for params in [{}, {"status": "open"}, {"status": "closed"}, {"status": "handling,assigned"}, {"clock": "red"},
                   {"clock": "green"}, {"since": "30d"}, {"category": "01"}, {"category": other_code.parent.code},
                   {"status": "open", "since": "7d", "category": "01"}]:
        points, cells = layer(client, **params), layer(client, zoom=11, **params)
        assert points["aggregated"] is False and cells["aggregated"] is True
        assert total(cells) == len(points["features"]), params
    assert total(layer(client, zoom=11, status="open", clock="red")) == 1


def test_the_switch_at_the_zoom_threshold(api, staff, report):
    e = report()
    client = api(staff["leader_a"])
    below = layer(client, zoom=map_layer.AGGREGATE_BELOW_ZOOM - 0.5)
    assert below["aggregated"] is True and total(below) == 1
    at = layer(client, zoom=map_layer.AGGREGATE_BELOW_ZOOM)
    assert at["aggregated"] is False and ids(at) == [e.pk] and at["truncated"] is False
    assert layer(client, zoom=18)["aggregated"] is False
    assert layer(client)["aggregated"] is False  # no zoom: points, as before


def test_more_than_the_limit_is_aggregated_at_any_zoom(staff, report):
    [report(lon=113.91 + i * 0.001) for i in range(3)]
    bbox = (113.9, 22.5, 114.0, 22.6)
    body = json.loads(map_layer.map_layer(staff["leader_a"], bbox, zoom=18, limit=2))
    assert body["aggregated"] is True and total(body) == 3
    body = json.loads(map_layer.map_layer(staff["leader_a"], bbox, zoom=18, limit=3))
    assert body["aggregated"] is False and len(body["features"]) == 3


def test_cells_stay_few_whatever_the_zoom(staff):
    # a 2° box asked at zoom 18 would be thousands of 60 px cells across: capped
    size = map_layer.cell_size_m(18, (113.0, 22.0, 115.0, 24.0))
    assert 2 * 111_320 / size <= map_layer.MAX_CELLS_ACROSS + 1
    assert map_layer.cell_size_m(12, (113.9, 22.5, 113.95, 22.55)) == pytest.approx(60 * 40075016.68 / (256 * 2 ** 12))


@pytest.mark.parametrize("zoom", ["x", "-1", "25", "nan", "inf"])
def test_bad_zoom_is_400(api, staff, zoom):
    res = api(staff["centre"]).get(URL, {"bbox": BOX, "zoom": zoom})
    assert res.status_code == 400 and "zoom" in res.json()


def test_aggregate_query_count(api, staff, report):
    """The same statements for 2 events and for 12 in cells: one aggregate statement whatever the count."""
    for i in range(2):
        report(lon=113.91 + i * 0.001)
    client = api(staff["leader_a"])
    client.get(URL, {"bbox": BOX, "zoom": 12})
    few, body = counted(client, zoom=12, status="open", category="01", since="30d")
    assert body["aggregated"] and total(body) == 2
    for i in range(10):
        report(lon=113.92 + i * 0.001)
    many, body = counted(client, zoom=12, status="open", category="01", since="30d")
    assert body["aggregated"] and total(body) == 12
    # session, user with its area, its departments, the category and its subtree, the one aggregate statement
    assert few == many <= 8
