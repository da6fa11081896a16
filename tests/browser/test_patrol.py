"""The patrol report on a phone-sized browser, as a new user would try it (issue 3, acceptance 1):
GPS point, category, real JPEG, send → number, grid, assignee, due time; the grid leader sees it
at once in the inbox with the unread count in the header. Offline: the report waits in the
browser and is sent exactly once when the network is back. Screenshots go to tests/artifacts/."""

import datetime as dt

import pytest
from PIL import Image

from gridmap.core.models import Role
from gridmap.events.calendar import TZ
from gridmap.events.models import Category, Event, EventPhoto, Notification

from .helpers import new_context, open_page

# The page shows a due time: the server's clock and the phones' start at the same Monday morning.
pytestmark = [pytest.mark.usefixtures("transactional_db"),
              pytest.mark.time_machine(dt.datetime(2026, 11, 23, 9, 30, tzinfo=TZ))]

LON, LAT = 113.9230, 22.5480  # inside grid A of the test tree (113.90–113.95)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def categories(transactional_db):
    return Category.objects.get(code="0101")


@pytest.fixture
def people(tree, make_user):
    leader = make_user("leader_a", Role.GRID_LEADER, tree["a"], first_name="王网格")
    tree["a"].leader = leader
    tree["a"].save()
    patroller = make_user("patroller", Role.GRID_WORKER, tree["street"], first_name="李巡查")
    return {"leader": leader, "patroller": patroller}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def phone(browser, request):
    """A phone-sized context whose GPS says: inside grid A."""
    context = new_context(
        browser, request, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        geolocation={"longitude": LON, "latitude": LAT, "accuracy": 8}, permissions=["geolocation"],
    )
    yield context
    context.close()


def log_in(page, base, username, next_url):
    page.goto(f"{base}{next_url}")
    assert "/admin/login/" in page.url  # login required
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}{next_url}")


def wait_for_fix(page):
    page.wait_for_selector("[data-testid=gps][data-state=fix]")
    gps = page.locator("[data-testid=gps]")
    assert "±8" in gps.inner_text()
    assert abs(float(gps.get_attribute("data-lon")) - LON) < 1e-6 and abs(float(gps.get_attribute("data-lat")) - LAT) < 1e-6
    assert page.locator(".gm-pin").count() == 1  # the draggable marker is on the map


def jpeg(path):
    Image.new("RGB", (320, 240), (200, 120, 40)).save(path, "JPEG", quality=85)
    return path


def fill_report(page, description, photo=None):
    page.select_option("[data-testid=category]", "0101")
    page.click("label.gm-chip:has(input[value=urgent])")  # tap the chips as a user would
    page.click("label.gm-chip:has(input[value=normal])")
    assert page.locator("input[name=urgency]:checked").get_attribute("value") == "normal"
    page.fill("[data-testid=description]", description)
    if photo:
        page.set_input_files("[data-testid=photos]", str(photo))
        page.wait_for_selector("[data-testid=thumbs] img")


def test_patroller_reports_with_photo_and_leader_sees_it_at_once(live_server, browser, request, phone, artifacts, tree, people, categories, media, tmp_path):
    base = live_server.url
    page = open_page(phone)
    log_in(page, base, "patroller", "/patrol/")
    wait_for_fix(page)
    # Phone-sized: nothing wider than the screen; the send button is a big touch target.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("[data-testid=send]").bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300
    # Categories come as a tree: groups with their children.
    assert page.locator("[data-testid=category] optgroup").count() == Category.objects.filter(parent=None, active=True).count()
    assert page.locator("[data-testid=category] optgroup", has=page.locator("option[value='0101']")).get_attribute("label").startswith("矛盾纠纷")
    page.screenshot(path=str(artifacts / "patrol_1_gps.png"), full_page=True)

    fill_report(page, "楼下邻居噪音纠纷，双方争吵", jpeg(tmp_path / "scene.jpg"))
    assert page.locator("[data-testid=thumbs] img").count() == 1
    page.screenshot(path=str(artifacts / "patrol_2_filled.png"), full_page=True)
    page.click("[data-testid=send]")
    page.wait_for_selector("[data-testid=result]:not([hidden])")

    event = Event.objects.select_related("grid", "assignee").get()
    assert event.grid == tree["a"] and event.assignee == people["leader"] and event.reporter == people["patroller"]
    assert event.channel == "patrol" and event.accuracy_m == 8
    assert abs(event.point.x - LON) < 1e-6 and abs(event.point.y - LAT) < 1e-6
    assert EventPhoto.objects.filter(event=event).count() == 1
    due = event.due_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    result = page.locator("[data-testid=result]")
    assert result.locator("[data-field=number]").inner_text() == event.number
    assert "网格A" in result.locator("[data-field=grid]").inner_text()
    assert result.locator("[data-field=assignee]").inner_text() == "王网格"
    assert result.locator("[data-field=due]").inner_text() == due
    assert page.locator("[data-testid=outbox]").is_hidden()
    page.screenshot(path=str(artifacts / "patrol_3_sent.png"), full_page=True)
    assert page.errors == []

    # The grid leader, on another phone, finds it in the inbox straight away.
    leader_ctx = new_context(browser, request, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        lp = open_page(leader_ctx)
        log_in(lp, base, "leader_a", "/inbox/")
        message = lp.locator("[data-testid=message]")
        assert message.count() == 1 and message.get_attribute("data-unread") == "1"
        assert event.number in message.inner_text()
        assert message.locator("[data-field=due]").inner_text().endswith(due)
        assert message.locator("a").get_attribute("href") == f"/?event={event.pk}"
        assert lp.locator("[data-testid=unread-count]").inner_text() == "1"
        lp.screenshot(path=str(artifacts / "patrol_4_leader_inbox.png"), full_page=True)

        # The map page's header shows the same count and links to the report form and the inbox.
        lp.goto(f"{base}/")
        lp.wait_for_selector("#map[data-state=ready]")
        assert lp.locator("[data-testid=unread-count]").inner_text() == "1"
        assert lp.locator("[data-testid=nav-report]").inner_text().strip() == "上报"
        lp.screenshot(path=str(artifacts / "patrol_5_leader_map_header.png"))

        lp.goto(f"{base}/inbox/")
        lp.click("[data-testid=mark-all-read]")
        lp.wait_for_url(f"{base}/inbox/")
        assert lp.locator("[data-testid=message]").get_attribute("data-unread") == "0"
        assert lp.locator("[data-testid=unread-count]").inner_text() == "0"
        assert not Notification.objects.filter(user=people["leader"], read_at__isnull=True).exists()
        assert lp.errors == []
    finally:
        leader_ctx.close()


def test_offline_report_waits_and_is_sent_exactly_once(live_server, phone, artifacts, tree, people, categories, media, tmp_path):
    base = live_server.url
    page = open_page(phone)
    log_in(page, base, "patroller", "/patrol/")
    wait_for_fix(page)

    phone.set_offline(True)
    page.wait_for_function("navigator.onLine === false")
    fill_report(page, "路灯损坏（离线上报）", jpeg(tmp_path / "lamp.jpg"))
    page.click("[data-testid=send]")
    page.wait_for_selector("[data-testid=outbox][data-count='1']")
    assert "(1)" in page.locator("[data-testid=outbox] h2").inner_text()
    assert "路灯损坏" in page.locator(".gm-outbox-list li").inner_text()
    assert "网络恢复后自动发送" in page.locator("[data-testid=outbox-note]").inner_text()  # kept on this phone
    assert not Event.objects.exists()
    # Keep a copy of the queued record (photo Blob included) to replay later: a resend whose
    # first answer was lost must not make a second event.
    page.evaluate("(async () => { window.__kept = await gridmapPatrol.outbox.all(); })()")
    assert page.evaluate("window.__kept[0].photos[0].blob instanceof Blob")
    page.screenshot(path=str(artifacts / "patrol_6_offline_waiting.png"), full_page=True)

    phone.set_offline(False)  # the `online` event sends it
    page.wait_for_selector("[data-testid=result]:not([hidden])")
    page.wait_for_selector("[data-testid=outbox]", state="hidden")
    event = Event.objects.get()
    assert event.description == "路灯损坏（离线上报）" and event.grid == tree["a"]
    assert str(event.client_id) == page.evaluate("window.__kept[0].client_id")
    assert EventPhoto.objects.filter(event=event).count() == 1
    assert page.locator("[data-testid=result] [data-field=number]").inner_text() == event.number
    page.screenshot(path=str(artifacts / "patrol_7_back_online_sent.png"), full_page=True)

    # Put the sent record back (as if the answer had been lost) and reload: the flush on load
    # resends it, the server answers 200 with the same event, and the queue empties.
    page.evaluate("gridmapPatrol.outbox.put(window.__kept[0])")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("[data-testid=outbox]", state="hidden")
    assert page.locator("[data-testid=result] [data-field=number]").inner_text() == event.number
    assert page.evaluate("gridmapPatrol.outbox.all().then(r => r.length)") == 0
    assert Event.objects.count() == 1 and EventPhoto.objects.count() == 1
    page.screenshot(path=str(artifacts / "patrol_8_after_reload.png"), full_page=True)
    assert page.errors == []


def test_marker_drag_english_and_rejected_report(live_server, phone, artifacts, tree, people, categories, media):
    base = live_server.url
    page = open_page(phone)
    log_in(page, base, "patroller", "/patrol/")
    wait_for_fix(page)
    # Drag the marker 80 px east: the point follows, and GPS no longer overrides it.
    pin = page.locator(".gm-pin").bounding_box()
    x, y = pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y, steps=5)
    page.mouse.move(x + 80, y, steps=5)
    page.mouse.up()
    gps = page.locator("[data-testid=gps]")
    page.wait_for_selector("[data-testid=gps][data-state=adjusted]")
    assert float(gps.get_attribute("data-lon")) > LON + 1e-4
    assert abs(float(gps.get_attribute("data-lat")) - LAT) < 1e-4

    # English on request.
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("[data-testid=send]").inner_text().strip() == "Send"
    assert page.locator("[data-testid=nav-report]").inner_text().strip() == "Report"
    wait_for_fix(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    lang = page.locator("select[name=language]").bounding_box()
    assert lang["x"] + lang["width"] <= PHONE["width"]  # the whole header fits the phone
    page.screenshot(path=str(artifacts / "patrol_9_english.png"))

    # A report queued with a category the server no longer takes: 400 → dropped, error shown.
    page.evaluate("""gridmapPatrol.outbox.put({client_id: crypto.randomUUID(), created: Date.now(), label: "x",
        fields: {category: "9999", urgency: "normal", description: "bad", lon: "113.923", lat: "22.548", channel: "patrol"},
        photos: []}).then(() => gridmapPatrol.flush())""")
    page.wait_for_selector("[data-testid=errors]:not([hidden])")
    assert "category" in page.locator("[data-testid=errors]").inner_text()
    assert page.evaluate("gridmapPatrol.outbox.all().then(r => r.length)") == 0
    assert not Event.objects.exists()
    page.errors = [e for e in page.errors if "status of 400" not in e]  # the browser logs the refused request
    assert page.errors == []
