"""The events layer and the event panel in a real browser: a grid leader sees their grid's events
as markers coloured by clock, filters them by status, opens one (timeline with photos, exactly
the buttons the API allows), takes "start" (签收处置) and sees it move to handling; /?event=<id>
opens the map at the event with its panel. Screenshots go to tests/artifacts/."""
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from gridmap.events import selectors, services
from gridmap.events.calendar import TZ
from gridmap.events.models import Event
from gridmap.events.photos import read_photo
from gridmap.events.workflow import State

# Markers are coloured by their clock: the server's and the page's clocks start at the same moment.
pytestmark = [pytest.mark.usefixtures("transactional_db"),
              pytest.mark.time_machine(dt.datetime(2026, 11, 23, 9, 30, tzinfo=TZ))]

# three events close together in grid A (west of x = 113.95), one in grid B
SPOTS = {"green": (113.9200, 22.5500), "yellow": (113.9206, 22.5503), "red": (113.9194, 22.5497)}


def login(page, live_server, username, path="/"):
    page.goto(f"{live_server.url}/admin/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")


def jpeg_upload() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "JPEG")
    return SimpleUploadedFile("scene.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def events(staff, report, settings, tmp_path):
    """Green, yellow and red events in grid A (the clock moved in the database), one of them with
    a photo and already being handled; and one in grid B that leader A must not see."""
    settings.MEDIA_ROOT = tmp_path
    made = {clock: report(lon=lon, lat=lat, address=f"科技园 {clock}", reporter_phone="13800138000")
            for clock, (lon, lat) in SPOTS.items()}
    now = timezone.now()
    for clock, (due, warn) in {"yellow": (now + dt.timedelta(hours=5), now - dt.timedelta(hours=1)),
                               "red": (now - dt.timedelta(hours=2), now - dt.timedelta(hours=10))}.items():
        Event.objects.filter(pk=made[clock].pk).update(due_at=due, warn_at=warn)
    made["red"] = services.act(made["red"].pk, "start", staff["leader_a"], note="到场查看",
                               photos=[read_photo(jpeg_upload(), 1)])
    made["b"] = report(lon=113.97, lat=22.55)
    for e in made.values():
        e.refresh_from_db()
    assert made["green"].status == made["yellow"].status == State.ASSIGNED and made["red"].status == State.HANDLING
    assert {c: selectors.clock_status(made[c]) for c in SPOTS} == {c: c for c in SPOTS}
    return made


def markers(page):
    return page.evaluate("gridmap.events.markers().map(m => [m.id, m.status, m.clock]).sort((a, b) => a[0] - b[0])")


def settle(page):
    """Wait until no zoom or cluster animation moves the markers (a click must hit a still one)."""
    page.wait_for_function("!document.querySelector('.leaflet-cluster-anim, .leaflet-zoom-anim')")
    page.wait_for_timeout(300)  # markercluster's own transition (0.3 s)


def wait_events(page):
    page.wait_for_selector("#map[data-events-state=ready]")


def aggregates(page):
    return page.evaluate("gridmap.events.aggregates()")


def zoom_to(page, lat, lon, zoom):
    """Set the view and wait for the events layer to have loaded for that zoom."""
    page.evaluate(f"gridmap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    # loaded: cells asked at this very zoom, or points at building zoom (they hold while zooming in)
    page.wait_for_function(f"""(() => {{ const d = document.getElementById('map').dataset;
        return d.eventsState === 'ready' && (d.eventsAggregated === 'true' ? Number(d.eventsZoom) === {zoom} : {zoom} >= 16); }})()""")


def test_grid_leader_sees_filters_and_works_events(live_server, page, artifacts, staff, events):
    login(page, live_server, "leader_a")
    wait_events(page)
    ours = {c: events[c] for c in SPOTS}
    # the whole grid is below the building zoom: counts per cell, not markers. The default filter
    # shows the events not yet closed: all three of grid A (one cell, red: its worst clock), none of B
    assert page.evaluate("gridmap.map.getZoom()") < 16
    assert page.get_attribute("#map", "data-events-aggregated") == "true"
    assert page.get_attribute("#map", "data-events") == "3"
    assert page.get_attribute("#map", "data-events-aggregates") == "1"
    assert aggregates(page) == [{"count": 3, "green": 1, "yellow": 1, "red": 1, "clock": "red"}]
    agg = page.locator(".gm-event-agg")
    assert agg.count() == 1 and agg.get_attribute("data-count") == "3" and agg.inner_text() == "3"
    assert agg.evaluate("e => e.classList.contains('gm-event-red')")
    assert markers(page) == [] and page.locator(".gm-event, .gm-event-cluster").count() == 0
    legend = page.locator(".gm-events-control")
    assert [legend.locator(f'[data-clock-count="{c}"]').inner_text() for c in SPOTS] == ["1", "1", "1"]
    page.screenshot(path=str(artifacts / "event_map_aggregated.png"))
    # a click on the circle zooms in; at zoom 16 (building zoom) the markers come
    zoom = page.evaluate("gridmap.map.getZoom()")
    agg.click()
    page.wait_for_function(f"gridmap.map.getZoom() > {zoom}")
    zoom_to(page, 22.5500, 113.9200, 16)
    assert page.get_attribute("#map", "data-events-aggregated") == "false"
    assert page.locator(".gm-event-agg").count() == 0 and aggregates(page) == []
    assert page.get_attribute("#map", "data-events") == "3"
    assert markers(page) == sorted([e.pk, e.status, c] for c, e in ours.items())
    # the layer is in the switcher; at zoom 16 the three markers (60 m apart) form one cluster, red (its worst clock)
    assert page.locator(".leaflet-control-layers-overlays label", has_text="事件").count() == 1
    settle(page)  # the zoom-in's cluster animation may still be fading the previous icons out
    assert page.locator(".gm-event-cluster").count() == 1
    assert page.locator(".gm-event-cluster").evaluate("e => e.classList.contains('gm-event-red')")
    page.screenshot(path=str(artifacts / "event_map_clustered.png"))

    # the status filter: handling → the red one only; assigned → the other two; all → three again
    legend.locator("select[name=status]").select_option("handling")
    page.wait_for_function("document.getElementById('map').dataset.events === '1'")
    wait_events(page)
    assert markers(page) == [[events["red"].pk, "handling", "red"]]
    legend.locator("select[name=status]").select_option("assigned")
    page.wait_for_function("document.getElementById('map').dataset.events === '2'")
    assert [m[0] for m in markers(page)] == sorted([events["green"].pk, events["yellow"].pk])
    legend.locator("select[name=status]").select_option("")
    page.wait_for_function("document.getElementById('map').dataset.events === '3'")
    legend.locator("select[name=since]").select_option("today")
    wait_events(page)
    page.wait_for_function("document.getElementById('map').dataset.events === '3'")

    # zoomed in, the markers stand alone, one colour each
    page.evaluate("gridmap.map.setView([22.5500, 113.9200], 18, {animate: false})")
    page.wait_for_selector(f'.gm-event[data-id="{events["yellow"].pk}"]')
    settle(page)
    for clock in SPOTS:
        node = page.locator(f'.gm-event[data-id="{events[clock].pk}"]')
        assert node.get_attribute("data-clock") == clock
        assert node.evaluate(f"e => e.classList.contains('gm-event-{clock}')")
        # the title names the event: number · category (its name comes with the page, not each point)
        event = events[clock]
        assert node.get_attribute("title").startswith(f"{event.number} · {event.category.name} · ")
    page.screenshot(path=str(artifacts / "event_map_markers.png"))

    # the red one: its panel, with the timeline and its photo, and exactly the allowed buttons
    page.locator(f'.gm-event[data-id="{events["red"].pk}"]').click()
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{events["red"].pk}"]')
    panel = page.locator("#gm-panel")
    assert panel.get_attribute("data-clock") == "red" and panel.get_attribute("data-status") == "handling"
    detail = page.request.get(f"{live_server.url}/api/events/{events['red'].pk}/").json()
    assert panel.locator("li.gm-step").count() == len(detail["timeline"]) == 4
    assert [s.get_attribute("data-action") for s in panel.locator("li.gm-step").all()] == ["report", "accept", "assign", "start"]
    assert "到场查看" in panel.locator('li.gm-step[data-action="start"]').inner_text()
    assert panel.locator('li.gm-step[data-action="start"] .gm-thumbs img').count() == 1
    assert panel.locator('li.gm-step[data-action="start"] .gm-thumbs img').evaluate("i => i.complete && i.naturalWidth") == 64
    assert [b.get_attribute("data-action") for b in panel.locator(".gm-event-action").all()] == detail["allowed_actions"]
    text = panel.inner_text()
    assert events["red"].number in text and "科技园 red" in text and "13800138000" in text  # a grid leader sees the phone
    page.screenshot(path=str(artifacts / "event_panel_handling.png"))

    # a note-requiring action asks for the note first; cancelling sends nothing
    panel.locator('.gm-event-action[data-action="pause"]').click()
    form = panel.locator('form.gm-action-form[data-action="pause"]')
    assert form.locator("textarea[name=note][required]").count() == 1
    form.locator(".gm-action-cancel").click()
    assert panel.locator("form.gm-action-form").count() == 0

    # the yellow one (assigned): "start" (签收处置) is a button; pressing it moves the event to handling
    page.locator(f'.gm-event[data-id="{events["yellow"].pk}"]').click()
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{events["yellow"].pk}"]')
    allowed = page.request.get(f"{live_server.url}/api/events/{events['yellow'].pk}/").json()["allowed_actions"]
    assert "start" in allowed
    assert [b.get_attribute("data-action") for b in panel.locator(".gm-event-action").all()] == allowed
    assert "签收" in panel.locator('.gm-event-action[data-action="start"]').inner_text()
    panel.locator('.gm-event-action[data-action="start"]').click()
    page.wait_for_selector('#gm-panel[data-state=ready][data-status=handling] .gm-event-message[data-kind=ok]')
    events["yellow"].refresh_from_db()
    assert events["yellow"].status == State.HANDLING
    assert panel.locator("li.gm-step").last.get_attribute("data-action") == "start"
    assert panel.locator('.gm-event-action[data-action="start"]').count() == 0
    page.wait_for_selector(f'.gm-event[data-id="{events["yellow"].pk}"][data-status=handling]')  # the layer reloaded
    page.screenshot(path=str(artifacts / "event_panel_started.png"))

    # a stale version answers 409: the panel says so and shows the event afresh
    page.evaluate("gridmap.eventPanel.event.version = 0")
    panel.locator('.gm-event-action[data-action="pause"]').click()
    panel.locator('form.gm-action-form[data-action="pause"] textarea').fill("等待物业回复")
    panel.locator('form.gm-action-form[data-action="pause"] button[type=submit]').click()
    page.wait_for_selector('#gm-panel[data-state=ready] .gm-event-message[data-kind=conflict]')
    events["yellow"].refresh_from_db()
    assert events["yellow"].status == State.HANDLING
    page.screenshot(path=str(artifacts / "event_panel_conflict.png"))
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert [e for e in page.errors if "409 (Conflict)" not in e] == []  # the browser logs the 409 it was meant to get


def test_event_link_opens_the_map_at_the_event(live_server, page, artifacts, staff, events):
    green = events["green"]
    login(page, live_server, "leader_a", path=f"/?event={green.pk}")
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{green.pk}"]')
    assert green.number in page.inner_text("#gm-panel-title")
    assert page.evaluate("gridmap.map.getZoom()") >= 18
    centre = page.evaluate("(() => { const c = gridmap.map.getCenter(); return [c.lng, c.lat]; })()")
    assert centre == pytest.approx([113.92, 22.55], abs=1e-4)
    page.wait_for_selector(f'.gm-event[data-id="{green.pk}"]')
    page.screenshot(path=str(artifacts / "event_link.png"))
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: the panel is a bottom sheet
    page.wait_for_timeout(200)
    page.screenshot(path=str(artifacts / "event_panel_phone.png"))
    assert page.errors == []


def test_another_grids_event_is_not_found(live_server, page, staff, events):
    login(page, live_server, "leader_b", path=f"/?event={events['green'].pk}")
    page.wait_for_selector("#gm-panel[data-view=event][data-state=error]")
    assert events["green"].number not in page.inner_text("#gm-panel")
    wait_events(page)
    if page.get_attribute("#map", "data-events-aggregated") == "true":  # grid B's zoom: counts, only its own event
        assert aggregates(page) == [{"count": 1, "green": 1, "yellow": 0, "red": 0, "clock": "green"}]
        zoom_to(page, 22.55, 113.97, 17)
    assert [m[0] for m in markers(page)] == [events["b"].pk]
    assert [e for e in page.errors if "404" not in e] == []


def test_district_zoom_shows_cells_and_building_zoom_markers(live_server, page, artifacts, staff, events):
    """The centre sees the whole district as counts per cell (the circles add up to every open event),
    and at zoom 16 and closer the single markers instead."""
    login(page, live_server, "centre")
    wait_events(page)
    zoom_to(page, 22.55, 113.95, 12)  # the district
    assert page.get_attribute("#map", "data-events-aggregated") == "true"
    cells = aggregates(page)
    assert sum(c["count"] for c in cells) == 4 and page.get_attribute("#map", "data-events") == "4"
    assert {c["clock"] for c in cells} <= {"green", "yellow", "red"} and max(c["red"] for c in cells) == 1
    circles = page.locator(".gm-event-agg")
    assert circles.count() == len(cells) == int(page.get_attribute("#map", "data-events-aggregates"))
    assert sum(int(n) for n in circles.evaluate_all("els => els.map(e => e.dataset.count)")) == 4
    assert page.locator(".gm-event, .gm-event-cluster").count() == 0
    page.screenshot(path=str(artifacts / "event_map_district_cells.png"))
    zoom_to(page, 22.5500, 113.9200, 16.5)
    assert page.get_attribute("#map", "data-events-aggregated") == "false"
    assert page.locator(".gm-event-agg").count() == 0
    assert sorted(m[0] for m in markers(page)) == sorted(events[c].pk for c in SPOTS)  # grid B's is outside the view box
    zoom_to(page, 22.5500, 113.9200, 18)
    page.wait_for_selector(f'.gm-event[data-id="{events["green"].pk}"]')
    assert page.errors == []


def open_assign(page, live_server, username, event):
    login(page, live_server, username, path=f"/?event={event.pk}")
    page.wait_for_selector(f'#gm-panel[data-view=event][data-state=ready][data-id="{event.pk}"]')
    page.locator('.gm-event-action[data-action="assign"]').click()
    return page.wait_for_selector('form.gm-action-form[data-action="assign"]')


def options(page):
    return page.eval_on_selector_all("select[name=assignee] option", "os => os.map(o => o.value).filter(Boolean)")


def test_assign_lists_two_levels_and_searches_the_rest(live_server, page, artifacts, staff, report):
    """The centre's queue: the list holds the district's and the streets' staff; it says more may
    be named, and a name typed in the box above it asks the server and refills it."""
    from gridmap.core.models import User

    User.objects.filter(pk=staff["worker_a"].pk).update(last_name="王", first_name="小二")
    triage = services.act(report(lon=114.05).pk, "accept", staff["centre"])
    open_assign(page, live_server, "centre", triage)
    assert sorted(options(page)) == ["patroller", "street"]
    assert page.get_attribute("select[name=assignee]", "data-truncated") == "true"
    assert page.locator(".gm-assignee-note").is_visible()
    assert "输入姓名" in page.inner_text(".gm-assignee-note")  # the page's language
    page.fill("input.gm-assignee-filter", "王小")
    page.wait_for_function("document.querySelector('select[name=assignee]').dataset.truncated === 'false'")
    assert options(page) == ["worker_a"]
    assert page.locator(".gm-assignee-note").is_hidden()
    page.fill("input.gm-assignee-filter", "nobody")
    page.wait_for_function("document.querySelectorAll('select[name=assignee] option').length === 1")
    assert page.inner_text(".gm-assignee-note") == "没有匹配的人员。"
    page.fill("input.gm-assignee-filter", "")  # back to the list
    page.wait_for_function("document.querySelectorAll('select[name=assignee] option').length === 3")
    page.fill("input.gm-assignee-filter", "worker")
    page.wait_for_function("document.querySelectorAll('select[name=assignee] option').length === 2")
    page.select_option("select[name=assignee]", "worker_a")
    page.screenshot(path=str(artifacts / "event_assign_search.png"))
    page.locator('form.gm-action-form[data-action="assign"] button[type=submit]').click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-status=assigned] .gm-event-message[data-kind=ok]")
    triage.refresh_from_db()
    assert triage.assignee == staff["worker_a"]
    assert page.errors == []


def test_assign_says_nobody_when_nobody_can_be_named_and_types_only_when_the_list_failed(live_server, page, tree, staff, report):
    """An empty list says nobody can be assigned (nothing to send); a typed username is offered
    only when the list could not be had."""
    from gridmap.core.models import User
    from gridmap.grids.models import Area

    Area.objects.filter(pk=tree["a"].pk).update(leader=None)
    event = report()  # grid A with no leader: accepted, waiting to be assigned
    assert (event.status, event.assignee) == (State.ACCEPTED, None)
    User.objects.filter(username__in=["leader_a", "worker_a"]).update(is_active=False)  # grid A has nobody
    form = open_assign(page, live_server, "community", event)
    assert page.locator(".gm-assign-nobody").inner_text() == "没有可分派此事件的人员。"
    assert form.query_selector("input[name=assignee], select[name=assignee], button[type=submit]") is None
    page.locator(".gm-action-cancel").click()
    # the list cannot be had: a typed username, then
    page.route("**/assignees/**", lambda route: route.abort())
    page.locator('.gm-event-action[data-action="assign"]').click()
    page.wait_for_selector('form.gm-action-form[data-action="assign"] input[name=assignee][required]')
    assert page.locator(".gm-assign-nobody").count() == 0
    assert [e for e in page.errors if "net::ERR_FAILED" not in e] == []
