"""The building → floor → dwelling → person drill-down (楼盘表) through the selectors and the API:
the table's shape, its tags and totals, scoping (404 for another grid), masking and logging."""
import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridmap.core.models import AccessLog, Role
from gridmap.core.validators import id_check_char
from gridmap.people.models import (
    EmploymentRecord, Household, HouseholdMember, Person, SpecialGroupRecord, Visit, WelfareRecord,
)
from gridmap.places import selectors
from gridmap.places.models import Building, Dwelling, RentedDwelling

from ..conftest import rect

TODAY = timezone.localdate()
_serial = iter(range(100, 999))


def citizen_id(birth: str, sex: str = "M") -> str:
    """A valid GB 11643 number for the birth date (YYYYMMDD): odd 17th digit for men."""
    n = next(_serial)
    n = n if (n % 2 == 1) == (sex == "M") else n + 1
    first17 = f"440305{birth}{n:03d}"
    return first17 + id_check_char(first17)


def person(dwelling, name, birth="19850101", sex="M", **kw):
    return Person.objects.create(id_number=citizen_id(birth, sex), name=name, sex=sex,
                                 birth_date=dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
                                 dwelling=dwelling, phone="13812345678", **kw)


def household(number, dwelling, *people_relations):
    h = Household.objects.create(number=number, dwelling=dwelling)
    for p, relation in people_relations:
        HouseholdMember.objects.create(household=h, person=p, relation=relation)
        if relation == "head":
            h.head = p
            h.save()
    return h


@pytest.fixture
def estate(tree, make_user, leader_a):
    """Building A-1 in grid A: 3 floors above, 1 below, 2 units × 2 rooms (16 dwellings), with
    residents tagged one way each; building B-1 in grid B with one resident."""
    b = Building.objects.create(code="A-1", name="幸福楼1栋", address="科技园路1号", floors_above=3, floors_below=1,
                                units=2, rooms_per_floor=2, year_built=2005, property_manager="幸福物业",
                                footprint=rect(113.9245, 22.5495, 113.9249, 22.5498))
    tree["a"].leader = leader_a
    tree["a"].save()
    d = {}
    for unit in (1, 2):
        for floor in (3, 2, 1, -1):
            for k in (1, 2):
                room = f"{unit}-{'B' if floor < 0 else ''}{abs(floor)}0{k}"
                d[room] = Dwelling.objects.create(building=b, unit=unit, floor=floor, room=room, area_m2=80 + k,
                                                  use="commercial" if floor < 0 else "vacant")
    for room in ("1-301", "1-302", "1-201", "2-301", "2-302", "2-201", "2-202"):
        d[room].use = "self"
        d[room].save()
    Dwelling.objects.filter(pk=d["1-301"].pk).update(use="rented")
    b.building_head = None
    people = {}
    # 1-301: rented, a floating family of two
    people["head"] = person(d["1-301"], "王流动", "19880305", residence_type="floating")
    people["wife"] = person(d["1-301"], "刘流动", "19900712", sex="F", residence_type="floating")
    household("H1", d["1-301"], (people["head"], "head"), (people["wife"], "spouse"))
    RentedDwelling.objects.create(dwelling=d["1-301"], landlord_name="赵房东", landlord_phone="13900001111",
                                  agent="链家", status="registered", lease_start="2025-01-01", lease_end="2026-12-31")
    EmploymentRecord.objects.create(person=people["head"], status="employed", employer="顺丰速运", start="2020-01-01")
    EmploymentRecord.objects.create(person=people["head"], status="unemployed", start="2018-01-01", end="2019-12-31")
    # 1-302: 低保 (current), and an ended temporary relief that must not tag
    people["poor"] = person(d["1-302"], "李低保", "19700101")
    household("H2", d["1-302"], (people["poor"], "head"))
    WelfareRecord.objects.create(person=people["poor"], kind="dibao", start="2024-01-01")
    # 1-201: a community-correction member, and a sealed record on the minor son
    people["corr"] = person(d["1-201"], "张矫正", "19800101")
    people["son"] = person(d["1-201"], "张小", "20100101")
    household("H3", d["1-201"], (people["corr"], "head"), (people["son"], "child"))
    SpecialGroupRecord.objects.create(person=people["corr"], group="correction", risk_level="medium", start="2025-01-01")
    SpecialGroupRecord.objects.create(person=people["son"], group="youth", start="2025-01-01", sealed=True)
    # 2-301: one resident aged 70 → elderly living alone (alone60)
    people["old"] = person(d["2-301"], "陈独居", "19550101")
    household("H4", d["2-301"], (people["old"], "head"))
    # 2-302: an empty-nest record (a couple, so only the record says so)
    people["nest1"] = person(d["2-302"], "周空巢", "19500101")
    people["nest2"] = person(d["2-302"], "吴空巢", "19520101", sex="F")
    household("H5", d["2-302"], (people["nest1"], "head"), (people["nest2"], "spouse"))
    WelfareRecord.objects.create(person=people["nest1"], kind="empty_nest", start="2023-01-01")
    # 2-201: disability only (health data: a welfare tag for the leader, none for a worker)
    people["dis"] = person(d["2-201"], "孙残疾", "19750101")
    household("H6", d["2-201"], (people["dis"], "head"))
    WelfareRecord.objects.create(person=people["dis"], kind="disability", category="肢体", grade=2, start="2020-01-01")
    # 2-202: a young single person: no tag
    people["young"] = person(d["2-202"], "郑青年", "19950101")
    household("H7", d["2-202"], (people["young"], "head"))
    # grid B
    other = Building.objects.create(code="B-1", name="B楼", footprint=rect(113.97, 22.55, 113.9705, 22.5503))
    d_other = Dwelling.objects.create(building=other, unit=1, floor=1, room="101")
    people["other"] = person(d_other, "钱外格", "19800101")
    household("HB", d_other, (people["other"], "head"))
    return {"building": b, "dwellings": d, "people": people, "other": other, "other_dwelling": d_other}


@pytest.fixture
def users(tree, make_user, leader_a):
    return {
        "leader_a": leader_a,
        "worker_a": make_user("worker_a", Role.GRID_WORKER, tree["a"]),
        "leader_b": make_user("leader_b", Role.GRID_LEADER, tree["b"]),
        "centre": make_user("centre", Role.CENTRE_ADMIN),
    }


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


def test_the_table_costs_two_queries(estate, users):
    with CaptureQueriesContext(connection) as ctx:
        selectors.floor_table(users["leader_a"], estate["building"].pk)
    assert len(ctx.captured_queries) == 2


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
    assert head["age"] == TODAY.year - 1988 - ((TODAY.month, TODAY.day) < (3, 5))
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
    """Events are listed only as visible_events allows: a leader of grid B who cannot open the
    person cannot list their events either (404 first)."""
    client.force_login(users["leader_b"])
    assert client.get(f"/api/persons/{estate['people']['head'].pk}/").status_code == 404
