"""A person's record page (/people/<id>/): server-rendered from the same card as the API, scoped
(404 outside the caller's area), masked for workers, and a full view logged once."""
import pytest
from django.utils import timezone

from gridmap.core.models import AccessLog
from gridmap.events import services as event_services
from gridmap.events.models import Category
from gridmap.people.models import EmploymentRecord, Visit


def page(pk):
    return f"/people/{pk}/"


@pytest.fixture
def corr(estate, users):
    """张矫正 (head of household H3 in 1-201, community correction), with an ended job, a visit and an event."""
    person = estate["people"]["corr"]
    EmploymentRecord.objects.create(person=person, status="employed", employer="科技园保洁公司", start="2015-03-01", end="2019-06-30")
    Visit.objects.create(worker=users["leader_a"], visited_at=timezone.now(), person=person, findings="按时报到")
    event = event_services.report_event(reporter=users["leader_a"], category=Category.objects.get(code="0101"),
                                        lon=113.9247, lat=22.5496, description="邻里噪音纠纷", channel="patrol").event
    event.involved_persons.add(person)
    return {"person": person, "event": event}


def test_the_grid_leader_sees_the_full_record_and_the_view_is_logged_once(client, estate, users, corr):
    person = corr["person"]
    client.force_login(users["leader_a"])
    r = client.get(page(person.pk))
    assert r.status_code == 200 and r.templates[0].name == "person.html"
    html = r.content.decode()
    assert person.name in html and person.id_number in html and "13812345678" in html
    assert "H3" in html and "张小" in html and "户主" in html  # the household, its members and the relation
    assert "幸福楼1栋" in html and "科技园路1号" in html and "1-201" in html  # dwelling and building
    assert "科技园保洁公司" in html and "2015-03-01" in html and "2019-06-30" in html  # employment history with dates
    assert "社区矫正" in html and 'data-testid="special-groups"' in html  # special groups, for a sensitive role
    assert "按时报到" in html  # visits
    assert f'href="/?event={corr["event"].pk}"' in html and corr["event"].number in html  # events open on the map
    assert f'href="/people/{estate["people"]["son"].pk}/"' in html  # the other member's own page
    logs = AccessLog.objects.filter(user=users["leader_a"], model="people.person")
    assert list(logs.values_list("object_id", "what")) == [(person.pk, "person record")]


def test_a_worker_sees_it_masked_and_nothing_is_logged(client, estate, users, corr):
    person = corr["person"]
    client.force_login(users["worker_a"])
    r = client.get(page(person.pk))
    assert r.status_code == 200
    html = r.content.decode()
    assert person.id_number not in html and f"{person.id_number[:6]}********{person.id_number[-4:]}" in html
    assert "13812345678" not in html and "138****5678" in html
    assert "社区矫正" not in html and 'data-testid="special-groups"' not in html
    assert "H3" in html and person.name in html
    assert not AccessLog.objects.exists()


def test_the_sealed_record_only_for_the_centre(client, estate, users):
    son = estate["people"]["son"]
    client.force_login(users["leader_a"])
    assert "重点青少年" not in client.get(page(son.pk)).content.decode()
    client.force_login(users["centre"])
    html = client.get(page(son.pk)).content.decode()
    assert "重点青少年" in html and 'data-field="sealed"' in html


def test_another_grids_leader_gets_404_like_the_api(client, estate, users):
    person = estate["people"]["corr"]
    client.force_login(users["leader_b"])
    assert client.get(page(person.pk)).status_code == 404
    assert client.get(f"/api/persons/{person.pk}/").status_code == 404
    assert client.get(page(999999)).status_code == 404
    assert not AccessLog.objects.exists()


def test_login_required(client, estate):
    r = client.get(page(estate["people"]["corr"].pk))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_page_is_never_cached(client, estate, users):
    """A full record: a Back after logout on a shared workstation must not show it again."""
    client.force_login(users["leader_a"])
    res = client.get(f"/people/{estate['people']['corr'].pk}/")
    assert res.status_code == 200
    assert "no-store" in res["Cache-Control"] and "private" in res["Cache-Control"]


def test_an_unnamed_building_is_named_by_its_address(client, estate, users):
    """Footprints from OSM or a survey mostly have no name: the page says the address and the code."""
    from gridmap.places.models import Building

    Building.objects.filter(pk=estate["building"].pk).update(name="")
    client.force_login(users["leader_a"])
    link = client.get(page(estate["people"]["corr"].pk)).content.decode().split('data-testid="on-map">', 1)[1].split("</a>", 1)[0]
    assert link == "科技园路1号 (A-1)"
