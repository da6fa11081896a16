"""The map's search (/api/search/) and "my patch" summary (/api/patch/): scoping, ID numbers
masked in every result list, exact-only ID look-ups, event numbers, the 20-result cap, and the patch's
counts on a built estate (households, people by type, open events by clock, visits due, unread,
due list)."""
import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gridmap.core.models import AccessLog, Role
from gridmap.events import services as event_services
from gridmap.events.models import Category, Event, Notification
from gridmap.events.workflow import State
from gridmap.people.models import Person, SpecialGroupRecord, Visit
from gridmap.places.models import Building, Organisation

from ..conftest import rect

SEARCH = reverse("map:search")
PATCH = reverse("map:patch")


def search(client, user, q):
    client.force_login(user)
    res = client.get(SEARCH, {"q": q})
    assert res.status_code == 200, res.content
    return res.json()


def found(body, kind=None):
    return [(r["kind"], r["label"]) for r in body["results"] if kind is None or r["kind"] == kind]


def patch(client, user):
    client.force_login(user)
    res = client.get(PATCH)
    assert res.status_code == 200, res.content
    return res.json()


@pytest.fixture
def events(tree, estate, users):
    """Events reported by a patroller: three open ones in grid A (green, yellow, red on the
    clock), a closed one in grid A, and one in grid B. Reports go to the grid's leader."""
    patroller = users["worker_a"]
    tree["b"].leader = users["leader_b"]
    tree["b"].save()
    dispute = Category.objects.get(code="0101")

    def report(lon, lat, text):
        return event_services.report_event(reporter=patroller, category=dispute, lon=lon, lat=lat,
                                           description=text, channel="patrol").event

    made = {name: report(113.92 + i * 0.001, 22.55, name) for i, name in enumerate(["green", "yellow", "red", "closed"])}
    made["b"] = report(113.97, 22.55, "b")
    now = timezone.now()
    Event.objects.filter(pk=made["green"].pk).update(due_at=now + dt.timedelta(days=5), warn_at=now + dt.timedelta(days=4))
    Event.objects.filter(pk=made["yellow"].pk).update(due_at=now + dt.timedelta(hours=2), warn_at=now - dt.timedelta(hours=1))
    Event.objects.filter(pk=made["red"].pk).update(due_at=now - dt.timedelta(hours=1), warn_at=now - dt.timedelta(hours=3))
    Event.objects.filter(pk=made["closed"].pk).update(status=State.CLOSED, closed_at=now)
    for e in made.values():
        e.refresh_from_db()
    return made


# --- search -----------------------------------------------------------------------------------

def test_login_required(client, tree):
    assert client.get(SEARCH, {"q": "x"}).status_code in (401, 403)
    assert client.get(PATCH).status_code in (401, 403)


def test_empty_query_finds_nothing(client, users):
    assert search(client, users["leader_a"], "   ") == {"query": "", "results": [], "groups": []}


def test_building_by_name_code_and_address_opens_its_floor_table(client, estate, users):
    b = estate["building"]
    for q in ("幸福楼", "A-1", "科技园路1"):
        body = search(client, users["leader_a"], q)
        hit = [r for r in body["results"] if r["kind"] == "building"]
        assert [r["id"] for r in hit] == [b.pk], q
        assert hit[0]["open"] == {"building": b.pk}
        lon, lat = hit[0]["point"]
        assert 113.9245 <= lon <= 113.9249 and 22.5495 <= lat <= 22.5498
        w, s, e, n = hit[0]["bbox"]
        assert w == pytest.approx(113.9245) and n == pytest.approx(22.5498)
        assert {"kind", "id", "label", "sublabel", "point", "bbox", "open"} <= set(hit[0])


def test_another_grids_person_and_building_are_not_found(client, estate, users):
    assert found(search(client, users["leader_a"], "钱外格")) == []
    assert found(search(client, users["leader_a"], "B楼")) == []
    assert found(search(client, users["leader_b"], "钱外格")) == [("person", "钱外格")]
    assert found(search(client, users["leader_b"], "张矫正")) == []
    assert found(search(client, users["centre"], "钱外格")) == [("person", "钱外格")]
    # by full ID number, too
    other_id = estate["people"]["other"].id_number
    assert found(search(client, users["leader_a"], other_id)) == []
    assert found(search(client, users["leader_b"], other_id)) == [("person", "钱外格")]


def test_person_results_are_masked_for_every_role_and_write_no_log(client, estate, users):
    corr = estate["people"]["corr"]
    body = search(client, users["worker_a"], "张矫")
    (hit,) = [r for r in body["results"] if r["kind"] == "person"]
    assert hit["label"] == "张矫正" and hit["open"] == {"person": corr.pk, "building": estate["building"].pk}
    assert corr.id_number not in str(body)
    assert f"{corr.id_number[:6]}********{corr.id_number[-4:]}" in hit["sublabel"]
    assert "1-201" in hit["sublabel"]
    assert not AccessLog.objects.filter(user=users["worker_a"]).exists()  # a masked view is not logged

    body = search(client, users["leader_a"], "张矫")
    (hit,) = [r for r in body["results"] if r["kind"] == "person"]
    assert corr.id_number not in str(body)  # the person panel, not the result list, shows the full record
    assert not AccessLog.objects.exists()


def test_id_number_matches_only_the_whole_number(client, estate, users):
    corr = estate["people"]["corr"]
    full = corr.id_number
    for user in (users["worker_a"], users["leader_a"]):
        # the whole number: found (masked for the worker)
        body = search(client, user, full)
        assert found(body, "person") == [("person", "张矫正")]
        # any part of it: never — not a prefix, not the birth date, not the last digits, not 17 of 18
        for part in (full[:6], full[:14], full[6:14], full[-4:], full[:17], full[1:], f"{full[:17]}?"):
            assert found(search(client, user, part), "person") == [], (user.username, part)
    body = search(client, users["worker_a"], full)
    assert full not in str(body["results"])  # (the query itself is echoed back to its sender)
    # a lowercase check letter is the same number
    corr.id_number = full[:17] + "X"
    corr.save()  # (not QuerySet.update: it would leave the keyed hash of the old number)
    assert found(search(client, users["worker_a"], full[:17] + "x"), "person") == [("person", "张矫正")]


def test_event_by_number_exact_or_date_prefix_in_scope(client, events, users):
    red = events["red"]
    body = search(client, users["leader_a"], red.number.lower())
    hits = [r for r in body["results"] if r["kind"] == "event"]
    assert hits[0]["id"] == red.pk and hits[0]["label"] == red.number  # the exact one first
    assert hits[0]["open"] == {"event": red.pk, "url": f"/?event={red.pk}"}
    assert hits[0]["point"] == [pytest.approx(red.point.x), pytest.approx(red.point.y)]
    # the day's prefix finds grid A's four (not grid B's) for leader A
    prefix = red.number[:-4]
    assert {r["id"] for r in search(client, users["leader_a"], prefix)["results"] if r["kind"] == "event"} == {
        events[k].pk for k in ("green", "yellow", "red", "closed")}
    assert found(search(client, users["leader_b"], red.number), "event") == []
    assert found(search(client, users["leader_b"], events["b"].number), "event") == [("event", events["b"].number)]
    assert found(search(client, users["leader_a"], red.number[:4]), "event") == []  # too short a prefix


def test_organisation_by_name_and_credit_code(client, estate, users):
    org = Organisation.objects.create(name="幸福超市", kind="shop", credit_code="91440300MA5DABCD1X",
                                      location=Point(113.9246, 22.5496, srid=4326), building=estate["building"])
    Organisation.objects.create(name="外格超市", kind="shop", location=Point(113.97, 22.55, srid=4326))
    body = search(client, users["worker_a"], "超市")
    assert found(body) == [("organisation", "幸福超市")]
    hit = body["results"][0]
    assert hit["open"] == {"building": estate["building"].pk} and hit["point"] == [113.9246, 22.5496]
    assert found(search(client, users["worker_a"], "91440300ma5dabcd1x")) == [("organisation", "幸福超市")]
    assert found(search(client, users["worker_a"], "91440300MA5D")) == []  # a credit code only whole
    assert org.pk == hit["id"]


def test_area_by_name_or_code_fits_its_bounds(client, tree, users):
    body = search(client, users["centre"], "网格")
    assert found(body, "area") == [("area", "网格A"), ("area", "网格B")]
    hit = body["results"][0]
    assert hit["open"] == {"area": tree["a"].pk}
    assert hit["bbox"] == [pytest.approx(v) for v in (113.90, 22.50, 113.95, 22.60)]
    assert found(search(client, users["leader_a"], "网格")) == [("area", "网格A")]
    assert found(search(client, users["leader_a"], tree["b"].code)) == []
    assert found(search(client, users["centre"], tree["b"].code), "area") == [("area", "网格B")]


def test_at_most_20_results_grouped_by_kind_in_few_queries(client, tree, estate, users):
    for i in range(30):
        Building.objects.create(code=f"Z-{i:02d}", name=f"张家楼{i}", footprint=rect(113.91, 22.51 + i * 0.001, 113.9102, 22.5102 + i * 0.001))
    client.force_login(users["leader_a"])
    with CaptureQueriesContext(connection) as queries:
        body = client.get(SEARCH, {"q": "张"}).json()
    assert len(body["results"]) == 20
    kinds = [r["kind"] for r in body["results"]]
    assert kinds == sorted(kinds, key=["area", "building", "person", "organisation", "event"].index)  # grouped
    assert {g["kind"]: g["count"] for g in body["groups"]} == {"building": 18, "person": 2}  # both kinds show
    assert len(queries) <= 10, [q["sql"] for q in queries]


# --- my patch ---------------------------------------------------------------------------------

def test_patch_counts_for_the_grid_leader(client, tree, estate, users, events):
    leader = users["leader_a"]
    Person.objects.create(id_number="E12345678", id_type="passport", name="John", sex="M", birth_date=dt.date(1990, 1, 1),
                          dwelling=estate["dwellings"]["2-202"], residence_type="overseas")
    Notification.objects.filter(user=leader).update(read_at=timezone.now())
    Notification.objects.create(user=leader, kind="test", text="one")
    Notification.objects.create(user=leader, kind="test", text="two")
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(PATCH).json()
    # session, user with area; the area's subtree ids and the user's departments (scoping); the
    # extent; people, households, events, visits due, unread, due list
    assert len(queries) <= 11, "\n".join(q["sql"][:150] for q in queries)
    assert body["area"]["id"] == tree["a"].pk and body["area"]["level"] == "grid"
    assert body["area"]["bbox"] == [pytest.approx(v) for v in (113.90, 22.50, 113.95, 22.60)]
    assert body["households"] == 7
    assert body["people"] == {"total": 11, "registered": 8, "floating": 2, "overseas": 1}
    assert body["events"] == {"open": 3, "green": 1, "yellow": 1, "red": 1}
    # 张矫正's correction record (never visited) is due; 张小's is sealed (centre only)
    assert body["visits_due"] == 1 and body["visits_due_basis"] == "area"
    assert body["unread"] == 2
    assert [e["number"] for e in body["due"]] == [events[k].number for k in ("red", "yellow", "green")]
    assert [e["clock"] for e in body["due"]] == ["red", "yellow", "green"]
    assert body["due_total"] == 3 and body["due"][0]["url"] == f"/?event={events['red'].pk}"


def test_visits_due_follow_the_last_visit_and_the_interval(client, tree, estate, users):
    corr = estate["people"]["corr"]
    leader = users["leader_a"]
    visit = Visit.objects.create(worker=leader, person=corr, visited_at=timezone.now() - dt.timedelta(days=10))
    assert patch(client, leader)["visits_due"] == 0  # visited 10 days ago, every 30 days
    Visit.objects.filter(pk=visit.pk).update(visited_at=timezone.now() - dt.timedelta(days=31))
    assert patch(client, leader)["visits_due"] == 1
    SpecialGroupRecord.objects.filter(person=corr).update(visit_every_days=60)
    assert patch(client, leader)["visits_due"] == 0
    SpecialGroupRecord.objects.filter(person=corr).update(end=timezone.localdate() - dt.timedelta(days=1))
    assert patch(client, leader)["visits_due"] == 0  # an ended record asks for no visits
    # the centre also sees the sealed record on 张小 (never visited)
    assert patch(client, users["centre"])["visits_due"] == 1


def test_a_worker_counts_only_the_visits_they_are_responsible_for(client, estate, users):
    worker = users["worker_a"]
    body = patch(client, worker)
    assert body["visits_due"] == 0 and body["visits_due_basis"] == "mine"
    SpecialGroupRecord.objects.filter(person=estate["people"]["corr"]).update(responsible=worker)
    assert patch(client, worker)["visits_due"] == 1
    SpecialGroupRecord.objects.filter(person=estate["people"]["son"]).update(responsible=worker)  # sealed: still not
    assert patch(client, worker)["visits_due"] == 1
    assert patch(client, worker)["households"] == 7


def test_patch_aggregates_over_an_area_and_the_whole_district(client, tree, estate, users, events, make_user):
    community = make_user("sq", Role.AREA_STAFF, tree["community"])
    body = patch(client, community)
    assert body["area"]["id"] == tree["community"].pk and body["area"]["level"] == "community"
    assert body["households"] == 8 and body["people"]["total"] == 11
    assert body["events"]["open"] == 4
    assert body["due"] == [] and body["due_total"] == 0
    centre = patch(client, users["centre"])
    assert centre["area"]["id"] is None and centre["area"]["bbox"] is not None
    assert centre["households"] == 8 and centre["events"]["open"] == 4
    other = patch(client, users["leader_b"])
    assert other["households"] == 1 and other["people"]["total"] == 1
    assert other["events"] == {"open": 1, "green": other["events"]["green"], "yellow": other["events"]["yellow"],
                               "red": other["events"]["red"]}
    assert [e["id"] for e in other["due"]] == [events["b"].pk]
