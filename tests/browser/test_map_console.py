"""The map page loads clean: from the first request (/, the redirect to the login page, the
sign-in) to the settled map, no response is 4xx or 5xx, no request fails and the console holds no
error, for the centre (two districts far apart: the overview and picker load too) and for a grid
leader. The browser's own /favicon.ico probe counts: it used to 404 on the admin's login page."""
import pytest

from ..map.far_districts import far_districts  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("transactional_db")


def watched(browser, **context):
    ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", **context})
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: page.problems.append(f"failed {r.url}: {r.failure}"))
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    return page


def sign_in_and_settle(page, live_server, username):
    page.goto(live_server.url + "/")
    page.wait_for_url("**/admin/login/**")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the favicon probe follows the load
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
    page.wait_for_function("document.getElementById('map').dataset.eventsState === 'ready'")
    page.wait_for_selector(".gm-patch[data-state=ready]")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("username, phone", [("centre", False), ("leader_a", False), ("centre", True)])
def test_map_page_loads_without_errors(live_server, browser, far_districts, username, phone):
    page = watched(browser, **({"viewport": {"width": 390, "height": 800}, "is_mobile": True, "has_touch": True} if phone else {}))
    try:
        sign_in_and_settle(page, live_server, username)
        if username == "centre":
            page.wait_for_selector("#map[data-overview=district]")
        assert page.problems == []
    finally:
        page.context.close()


def test_favicon_is_served(client):
    res = client.get("/favicon.ico")
    assert res.status_code == 200 and res["Content-Type"] == "image/svg+xml"
    assert res.content.startswith(b"<svg") and b"</svg>" in res.content
