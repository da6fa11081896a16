"""The building → floor → dwelling → person drill-down (楼盘表) through the selectors and the API:
the table's shape, its tags and totals, scoping (404 for another grid), masking and logging."""
import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridmap.core.models import AccessLog
from gridmap.people.models import Household, SpecialGroupRecord, Visit
from gridmap.people import selectors



def cells(table):
    return {d["room"]: d for f in table["floors"] for c in f["cells"] for d in c["dwellings"]}


def test_the_table_has_the_floors_units_and_rooms(estate, users):
    table = selectors.floor_table(users["leader_a"], estate["building"].pk)
    card = table["building"]
    assert card["code"] == "A-1" and card["floors_above"] == 3 and card["floors_below"] == 1 and card["units"] == 2
    assert card["grid"]["code"] == "440305005001001" and card["grid"]["leader"] == "leader_a"
    assert card["property_manager"] == "幸福物业" and card["year_built"] == 2005
    assert [f["label"] for f in table["floors"]] == ["3F", "2F", "1F", "B1"]  # top first
    assert table["units"] == [1, 2]
    top = table["floors"][0]
    assert [[d["room"] for d in c["dwellings"]] for c in top["cells"]] == [["1-301", "1-302"], ["2-301", "2-302"]]
    assert [[d["room"] for d in c["dwellings"]] for c in table["floors"][-1]["cells"]] == [["1-B101", "1-B102"], ["2-B101", "2-B102"]]
    assert table["totals"]["dwellings"] == 16
    assert {k: table["totals"][k] for k in ("self", "rented", "vacant", "commercial")} == {"self": 6, "rented": 1, "vacant": 5, "commercial": 4}


def test_tags_and_totals_for_a_grid_leader(estate, users):
    table = selectors.floor_table(users["leader_a"], estate["building"].pk)
    c = cells(table)
    assert c["1-301"]["tags"] == ["floating"] and c["1-301"]["floating"] == 2 and c["1-301"]["residents"] == 2
    assert c["1-301"]["use"] == "rented" and c["1-301"]["households"] == 1
    assert c["1-302"]["tags"] == ["welfare"]
    assert c["1-201"]["tags"] == ["special"]  # the sealed record on the son does not count for a grid leader
    assert c["2-301"]["tags"] == ["elderly_alone"] and c["2-301"]["elderly_alone"] == "alone60"
    assert c["2-302"]["tags"] == ["welfare", "elderly_alone"] and c["2-302"]["elderly_alone"] == "record"
    assert c["2-201"]["tags"] == ["welfare"]  # disability, seen by a sensitive role
    assert c["2-202"]["tags"] == [] and c["1-101"]["tags"] == [] and c["1-101"]["residents"] == 0
    t = table["totals"]
    assert (t["households"], t["residents"], t["floating_residents"]) == (7, 10, 2)
    assert (t["floating"], t["special"], t["welfare"], t["elderly_alone"]) == (1, 1, 3, 2)
    assert table["sensitive"] is True


def test_sealed_records_tag_only_for_the_sealing_role(estate, users):
    SpecialGroupRecord.objects.filter(person=estate["people"]["corr"]).update(end="2025-06-30")  # ended
    assert "special" not in cells(selectors.floor_table(users["leader_a"], estate["building"].pk))["1-201"]["tags"]
    assert "special" in cells(selectors.floor_table(users["centre"], estate["building"].pk))["1-201"]["tags"]


def test_a_worker_gets_no_special_group_tags_and_no_health_welfare(estate, users):
    table = selectors.floor_table(users["worker_a"], estate["building"].pk)
    c = cells(table)
    assert "special" not in table["totals"] and all("special" not in d for d in c.values())
    assert c["1-201"]["tags"] == []
    assert c["2-201"]["tags"] == []  # disability is health data
    assert table["totals"]["welfare"] == 2 and table["sensitive"] is False


def test_the_table_costs_three_queries(estate, users):
    """The caller's subtree ids (scoping, once a request), the building, its dwellings with their tags."""
    with CaptureQueriesContext(connection) as ctx:
        selectors.floor_table(users["leader_a"], estate["building"].pk)
    assert len(ctx.captured_queries) == 3


@pytest.mark.parametrize("kind", ["building", "dwelling", "person"])
def test_another_grids_leader_gets_404(client, estate, users, kind):
    url = {
        "building": f"/api/buildings/{estate['building'].pk}/floors/",
        "dwelling": f"/api/dwellings/{estate['dwellings']['1-301'].pk}/",
        "person": f"/api/persons/{estate['people']['head'].pk}/",
    }[kind]
    client.force_login(users["leader_b"])
    assert client.get(url).status_code == 404
    client.force_login(users["leader_a"])
    assert client.get(url).status_code == 200
    assert not AccessLog.objects.filter(user=users["leader_b"]).exists()


def test_login_required(client, estate):
    assert client.get(f"/api/buildings/{estate['building'].pk}/floors/").status_code in (401, 403)
    assert client.get(f"/api/dwellings/{estate['dwellings']['1-301'].pk}/").status_code in (401, 403)


def test_own_grid_leader_sees_other_grid_not_even_through_ids(client, estate, users):
    client.force_login(users["leader_a"])
    assert client.get(f"/api/buildings/{estate['other'].pk}/floors/").status_code == 404
    assert client.get(f"/api/dwellings/{estate['other_dwelling'].pk}/").status_code == 404
    assert client.get(f"/api/persons/{estate['people']['other'].pk}/").status_code == 404


def test_a_worker_sees_the_household_masked_and_nothing_is_logged(client, estate, users):
    client.force_login(users["worker_a"])
    body = client.get(f"/api/dwellings/{estate['dwellings']['1-201'].pk}/").json()
    members = body["households"][0]["members"]
    assert [m["name"] for m in members] == ["张矫正", "张小"] and [m["relation"] for m in members] == ["head", "child"]
    corr = members[0]
    assert corr["id_number"] == estate["people"]["corr"].id_number[:6] + "********" + estate["people"]["corr"].id_number[-4:]
    assert corr["phone"] == "138****5678" and corr["masked"] is True
    assert all(m["special_groups"] == [] for m in members)
    assert body["sensitive"] is False
    person = client.get(f"/api/persons/{estate['people']['corr'].pk}/").json()
    assert person["special_groups"] == [] and "*" in person["id_number"]
    dis = client.get(f"/api/dwellings/{estate['dwellings']['2-201'].pk}/").json()
    assert dis["households"][0]["members"][0]["welfare"] == []  # disability hidden from a worker
    assert not AccessLog.objects.exists()


def test_a_grid_leader_sees_them_and_each_view_is_logged_once(client, estate, users):
    leader = users["leader_a"]
    client.force_login(leader)
    body = client.get(f"/api/dwellings/{estate['dwellings']['1-201'].pk}/").json()
    corr, son = body["households"][0]["members"]
    assert corr["id_number"] == estate["people"]["corr"].id_number and corr["phone"] == "13812345678"
    assert [(r["group"], r["risk_level"]) for r in corr["special_groups"]] == [("correction", "medium")]
    assert son["special_groups"] == []  # sealed: only the sealing role sees it
    logs = AccessLog.objects.filter(user=leader, model="people.person")
    assert sorted(logs.values_list("object_id", flat=True)) == sorted([corr["id"], son["id"]])
    client.get(f"/api/persons/{corr['id']}/")
    assert logs.filter(object_id=corr["id"]).count() == 2  # one row per view
    assert logs.count() == 3
    # the centre (sealing role) sees the sealed record
    client.force_login(users["centre"])
    son_full = client.get(f"/api/dwellings/{estate['dwellings']['1-201'].pk}/").json()["households"][0]["members"][1]
    assert [r["group"] for r in son_full["special_groups"]] == ["youth"] and son_full["special_groups"][0]["sealed"]


def test_the_dwelling_has_its_rental_members_employment_visits_and_events(client, estate, users):
    from gridmap.events import services as event_services
    from gridmap.events.models import Category

    people = estate["people"]
    h1 = Household.objects.get(number="H1")
    Visit.objects.create(worker=users["leader_a"], visited_at=timezone.now(), household=h1,
                         location=Point(113.9247, 22.5496, srid=4326), findings="出租屋登记核查")
    event = event_services.report_event(reporter=users["leader_a"], category=Category.objects.get(code="0101"),
                                        lon=113.9247, lat=22.5496, description="楼上漏水纠纷", channel="patrol").event
    event.involved_persons.add(people["head"])
    client.force_login(users["worker_a"])
    body = client.get(f"/api/dwellings/{estate['dwellings']['1-301'].pk}/").json()
    assert body["dwelling"]["room"] == "1-301" and body["dwelling"]["use"] == "rented"
    rental = body["rental"]
    assert (rental["landlord"], rental["agent"], rental["status"]) == ("赵房东", "链家", "registered")
    assert rental["landlord_phone"] == "139****1111"  # masked for a worker
    head, wife = body["households"][0]["members"]
    assert head["employment_now"]["employer"] == "顺丰速运" and head["residence_type"] == "floating"
    assert head["age"] == 38  # the fixture makes him 38 today (tests/estate.py born)
    assert wife["relation"] == "spouse"
    assert [v["findings"] for v in body["visits"]] == ["出租屋登记核查"]
    assert [e["number"] for e in body["events"]] == [event.number]
    # the person's record keeps the history: the ended employment too
    record = client.get(f"/api/persons/{people['head'].pk}/").json()
    assert [e["status"] for e in record["employment"]] == ["employed", "unemployed"]
    assert record["household"]["number"] == "H1" and [m["name"] for m in record["household"]["members"]] == ["王流动", "刘流动"]
    assert record["dwelling"]["room"] == "1-301" and record["dwelling"]["building"]["code"] == "A-1"
    assert [v["findings"] for v in record["visits"]] == ["出租屋登记核查"]
    assert [e["number"] for e in record["events"]] == [event.number]


def test_another_grids_leader_does_not_see_the_event_through_a_person(client, estate, users):
    """Events are listed only as visible_events allows. A grid-A dispute involves a grid-A
    resident and grid B's resident: grid B's leader opens neither the grid-A person nor the
    event, and sees their own resident's record without the grid-A event in it."""
    from gridmap.events import services as event_services
    from gridmap.events.models import Category

    people = estate["people"]
    event = event_services.report_event(reporter=users["leader_a"], category=Category.objects.get(code="0101"),
                                        lon=113.9247, lat=22.5496, description="楼上漏水纠纷", channel="patrol").event
    event.involved_persons.add(people["head"], people["other"])
    client.force_login(users["centre"])  # the link is there for a user who may see both
    assert [e["number"] for e in client.get(f"/api/persons/{people['other'].pk}/").json()["events"]] == [event.number]
    client.force_login(users["leader_b"])
    assert client.get(f"/api/persons/{people['head'].pk}/").status_code == 404
    assert client.get(f"/api/events/{event.pk}/").status_code == 404
    own = client.get(f"/api/persons/{people['other'].pk}/")
    assert own.status_code == 200 and own.json()["name"] == "钱外格"
    assert own.json()["events"] == []
    assert client.get(f"/api/dwellings/{estate['other_dwelling'].pk}/").json()["events"] == []
