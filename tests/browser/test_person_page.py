"""The person page and the assign picker in a real browser: a grid leader goes building →
household, opens a linked event from the household in the event panel, then follows a member's
"full record" link to the person's page; and assigns an event to a worker picked from the grid's
staff, after which the event shows the worker and the "my patch" card reloads. Screenshots go to
tests/artifacts/."""
import pytest

from gridmap.core.models import User
from gridmap.events import services as event_services
from gridmap.events.models import Category
from gridmap.events.workflow import State
from gridmap.grids.models import Area

from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")

AT_BUILDING = {"lon": 113.9247, "lat": 22.5496}  # inside 幸福楼1栋, grid A


def report(users, **kw):
    return event_services.report_event(reporter=users["leader_a"], category=Category.objects.get(code="0101"),
                                       channel="patrol", **AT_BUILDING, **kw).event


def test_from_the_household_to_the_event_and_the_full_record(live_server, page, artifacts, tree, estate, users):
    corr = estate["people"]["corr"]
    event = report(users, description="楼道噪音纠纷")
    event.involved_persons.add(corr)
    login(page, live_server, "leader_a")
    panel = page.locator("#gm-panel")

    # building → household 1-201: each member links to their record page; the household's event is a link
    page.evaluate(f"gridmap.panel.openBuilding({estate['building'].pk})")
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    panel.locator('button.gm-dw[data-room="1-201"]').click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=dwelling]")
    links = panel.locator("tr.gm-member a.gm-full-record")
    assert links.all_inner_texts() == ["完整档案", "完整档案"]
    assert links.first.get_attribute("href") == f"/people/{corr.pk}/"
    page.screenshot(path=str(artifacts / "person_household_links.png"))

    # the linked event opens in the event panel, in place
    panel.locator(f'a.gm-event-link[data-id="{event.pk}"]').click()
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{event.pk}"]')
    assert event.number in page.inner_text("#gm-panel-title")
    assert page.url == f"{live_server.url}/"  # no reload: the panel opened on the map

    # back to the household, and on to the member's full record
    page.evaluate(f"gridmap.panel.open('dwelling', {estate['dwellings']['1-201'].pk})")
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=dwelling]")
    panel.locator(f'tr.gm-member a.gm-full-record[data-id="{corr.pk}"]').click()
    page.wait_for_url(f"{live_server.url}/people/{corr.pk}/")
    assert page.inner_text('[data-testid="person-name"]') == "张矫正"
    household = page.locator('[data-testid="household"]')
    assert household.locator('[data-field="number"]').inner_text() == "H3"
    assert "张小" in household.inner_text() and "户主" in household.inner_text()
    assert page.inner_text('[data-testid="id-number"]') == corr.id_number  # a grid leader sees it in full
    assert "幸福楼1栋" in page.inner_text('[data-testid="dwelling"]')
    assert page.locator(f'[data-testid="events"] a[data-event="{event.pk}"]').get_attribute("href") == f"/?event={event.pk}"
    page.screenshot(path=str(artifacts / "person_page.png"), full_page=True)

    # and back to the map: the building's floor table with this household open over it
    page.locator('[data-testid="on-map"]').click()
    page.wait_for_url(f"{live_server.url}/?building={estate['building'].pk}&dwelling={estate['dwellings']['1-201'].pk}")
    page.wait_for_selector(f"#gm-panel[data-state=ready][data-view=dwelling][data-id='{estate['dwellings']['1-201'].pk}']")
    assert panel.locator(f'tr.gm-member a.gm-full-record[data-id="{corr.pk}"]').count() == 1
    assert page.evaluate("gridmap.map.getZoom()") >= 17
    page.wait_for_selector(f'path.gm-building[data-id="{estate["building"].pk}"]')
    panel.locator(".gm-panel-back").click()
    page.wait_for_selector(f"#gm-panel[data-state=ready][data-view=building][data-id='{estate['building'].pk}']")
    assert page.errors == []


def test_assign_picks_from_the_grids_staff(live_server, page, artifacts, tree, estate, users):
    User.objects.filter(username="worker_a").update(last_name="王", first_name="小二")
    Area.objects.filter(pk=tree["a"].pk).update(leader=None)  # reported while grid A had no leader: waits for assignment
    event = report(users, description="垃圾桶破损")
    Area.objects.filter(pk=tree["a"].pk).update(leader=users["leader_a"])
    assert event.status == State.ACCEPTED and event.assignee is None

    login(page, live_server, "leader_a", )
    page.wait_for_selector(".gm-patch[data-state=ready]")
    page.evaluate(f"gridmap.openEvent({event.pk})")
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{event.pk}"]')
    panel = page.locator("#gm-panel")
    panel.locator('.gm-event-action[data-action="assign"]').click()
    select = panel.locator('form.gm-action-form[data-action="assign"] select[name=assignee]')
    select.wait_for()
    assert select.locator("option").evaluate_all("os => os.map(o => o.value)") == ["", "leader_a", "worker_a"]  # not leader_b
    assert "王小二" in select.locator('option[value="worker_a"]').inner_text()
    assert panel.locator("input[name=assignee]").count() == 0  # no typed username when there is a list
    select.select_option("worker_a")
    page.screenshot(path=str(artifacts / "event_assign_picker.png"))
    # the action changes the event; the "my patch" card fetches its counts again
    with page.expect_request(lambda r: r.url.endswith("/api/patch/")):
        panel.locator('form.gm-action-form[data-action="assign"] button[type=submit]').click()
        page.wait_for_selector("#gm-panel[data-state=ready][data-status=assigned] .gm-event-message[data-kind=ok]")
    page.wait_for_selector(".gm-patch[data-state=ready]")
    event.refresh_from_db()
    assert event.status == State.ASSIGNED and event.assignee.username == "worker_a"
    assert "王小二" in panel.locator("table.gm-kv").inner_text()  # the panel's assignee row
    assert panel.locator("li.gm-step").last.get_attribute("data-action") == "assign"
    page.screenshot(path=str(artifacts / "event_assigned.png"))
    assert page.errors == []
