"""A user sees only their area: through every selector and every admin page."""
import pytest
from django.urls import reverse

from gridmap.core.models import AccessLog, Role
from gridmap.people import selectors
from gridmap.people.models import Household, Person, SpecialGroupRecord, WelfareRecord
from gridmap.places.models import Building, Dwelling, Organisation

from ..conftest import rect


def resident(code, x0, id_number, name):
    building = Building.objects.create(code=code, name=code, footprint=rect(x0, 22.55, x0 + 0.0005, 22.5503))
    dwelling = Dwelling.objects.create(building=building, unit=1, floor=2, room="201")
    household = Household.objects.create(number=f"H{code}", dwelling=dwelling)
    person = Person.objects.create(id_number=id_number, name=name, sex="M", birth_date="1949-12-31", dwelling=dwelling, phone="13812345678")
    SpecialGroupRecord.objects.create(person=person, group="correction", start="2024-01-01")
    WelfareRecord.objects.create(person=person, kind="disability", category="肢体", grade=2, start="2024-01-01")
    WelfareRecord.objects.create(person=person, kind="dibao", start="2024-01-01")
    return building, dwelling, household, person


@pytest.fixture
def people(tree):
    return {
        "a": resident("BA", 113.92, "110105194912310037", "张三"),
        "b": resident("BB", 113.97, "110105194912310053", "李四"),
    }


def test_grid_leader_reads_only_their_grid_through_selectors(people, leader_a):
    pa, pb = people["a"][3], people["b"][3]
    assert list(selectors.persons(leader_a)) == [pa]
    assert list(selectors.households(leader_a)) == [people["a"][2]]
    assert {r.person_id for r in selectors.special_group_records(leader_a)} == {pa.pk}
    assert {r.person_id for r in selectors.welfare_records(leader_a)} == {pa.pk}
    with pytest.raises(Person.DoesNotExist):
        selectors.person_card(leader_a, pb.pk)


def test_community_staff_see_all_their_grids(people, tree, make_user):
    staff = make_user("staff", Role.AREA_STAFF, tree["community"])
    assert set(selectors.persons(staff)) == {people["a"][3], people["b"][3]}


def test_unassigned_people_are_seen_by_the_area_that_covers_them(tree, make_user, leader_a):
    # a building just outside both grids but inside the district boundary
    tree["a"].boundary = rect(113.90, 22.50, 113.93, 22.60)  # shrink without versioning, for the test
    tree["a"].save()
    building = Building.objects.create(code="gap", name="gap", footprint=rect(113.94, 22.55, 113.9405, 22.5503))
    Building.objects.filter(pk=building.pk).update(footprint=building.footprint)  # re-place after the shrink
    dwelling = Dwelling.objects.create(building=building, unit=1, floor=1, room="101")
    person = Person.objects.create(id_number="110105194912310010", name="王五", sex="M", birth_date="1949-12-31", dwelling=dwelling)
    assert Person.objects.get(pk=person.pk).grid_id is None
    district_staff = make_user("district", Role.AREA_STAFF, tree["district"])
    assert person in selectors.persons(district_staff)
    assert person not in selectors.persons(leader_a)


def test_masked_for_workers_and_logged_for_leaders(people, tree, make_user, leader_a):
    worker = make_user("worker_a", Role.GRID_WORKER, tree["a"])
    pa = people["a"][3]
    card = selectors.person_card(worker, pa.pk)
    assert card["id_number"] == "110105********0037"
    assert card["phone"] == "138****5678"
    assert card["special_groups"] == []
    assert [w["kind"] for w in card["welfare"]] == ["dibao"]  # disability is health data
    assert not AccessLog.objects.exists()
    full = selectors.person_card(leader_a, pa.pk)
    assert full["id_number"] == "110105194912310037"
    assert len(full["special_groups"]) == 1
    assert AccessLog.objects.filter(user=leader_a, model="people.person", object_id=pa.pk).count() == 1


ADMIN_PAGES = [
    ("people", "person", 3), ("people", "household", 2), ("places", "dwelling", 1), ("places", "building", 0),
]


@pytest.mark.parametrize("app, model, index", ADMIN_PAGES)
def test_admin_hides_other_grids(client, people, leader_a, app, model, index):
    client.force_login(leader_a)
    own, other = people["a"][index], people["b"][index]
    listing = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert listing.status_code == 200
    shown = {obj.pk for obj in listing.context["cl"].result_list}
    assert shown == {own.pk}
    assert client.get(reverse(f"admin:{app}_{model}_change", args=[own.pk])).status_code == 200
    page = client.get(reverse(f"admin:{app}_{model}_change", args=[other.pk]), follow=True)
    assert page.redirect_chain[-1][0] == reverse("admin:index")  # "does not exist", like a wrong id


def test_admin_masks_sensitive_fields_for_workers(client, people, tree, make_user):
    worker = make_user("worker_a", Role.GRID_WORKER, tree["a"])
    client.force_login(worker)
    html = client.get(reverse("admin:people_person_changelist")).content.decode()
    assert "110105********0037" in html and "110105194912310037" not in html
    html = client.get(reverse("admin:people_person_change", args=[people["a"][3].pk])).content.decode()
    assert "110105194912310037" not in html and "13812345678" not in html
    assert "社区矫正" not in html  # special-group records are not shown to workers


def test_admin_change_view_of_a_person_is_logged(client, people, leader_a):
    client.force_login(leader_a)
    client.get(reverse("admin:people_person_change", args=[people["a"][3].pk]))
    assert AccessLog.objects.filter(user=leader_a, object_id=people["a"][3].pk).count() == 1


def test_grid_leader_sees_only_their_organisations_in_admin(client, tree, leader_a):
    from django.contrib.gis.geos import Point
    own = Organisation.objects.create(name="甲公司", kind="enterprise", location=Point(113.92, 22.55, srid=4326))
    Organisation.objects.create(name="乙公司", kind="enterprise", location=Point(113.97, 22.55, srid=4326))
    client.force_login(leader_a)
    listing = client.get(reverse("admin:places_organisation_changelist"))
    assert [o.pk for o in listing.context["cl"].result_list] == [own.pk]


def test_sealed_records_are_seen_only_by_the_sealing_role(people, tree, make_user, leader_a):
    pa = people["a"][3]
    SpecialGroupRecord.objects.filter(person=pa).update(sealed=True)
    staff = make_user("staff", Role.AREA_STAFF, tree["community"])
    centre = make_user("centre", Role.CENTRE_ADMIN)
    assert not selectors.special_group_records(leader_a).exists()
    assert {r.person_id for r in selectors.special_group_records(staff)} == {people["b"][3].pk}
    assert {r.person_id for r in selectors.special_group_records(centre)} == {pa.pk, people["b"][3].pk}
