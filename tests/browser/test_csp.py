"""The map works under the content security policy (issue 11, deliverable 4): the map as a grid
leader, the patrol page, an admin area change page with its Leaflet widget, an event's read-only
map in the admin and the Swagger UI load with no CSP violation (none reported to the page's
`securitypolicyviolation` listener, none in the console) and draw what they draw."""
import pytest

from .helpers import open_page

pytestmark = pytest.mark.usefixtures("transactional_db")
EXACT_CSP = True  # the production policy as it is: no 'unsafe-eval' for Playwright (conftest.py)

# Installed before any page script runs: every violation the browser reports to the page.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800},
                                  geolocation={"longitude": 113.923, "latitude": 22.548}, permissions=["geolocation"])
    context.add_init_script(WATCH)
    yield open_page(context)
    context.close()


def sign_in(page, base, username, next_url="/"):
    page.goto(f"{base}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


def assert_clean(page):
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    assert violations == []
    assert [e for e in page.errors if "Content Security Policy" in e] == []
    assert page.errors == []


def test_map_patrol_and_admin_widget_under_the_policy(live_server, watched, tree, staff, report):
    page, base = watched, live_server.url
    event = report()

    response = page.goto(f"{base}/admin/login/")
    assert "script-src 'self' 'nonce-" not in response.headers["content-security-policy"]  # no inline script: no nonce
    sign_in(page, base, "leader_a")
    page.wait_for_selector("#map[data-state=ready]")
    page.wait_for_selector("#map[data-events-state=ready]")  # no wait_for_function: it evals
    assert page.locator("#map path.leaflet-interactive").count() > 0  # the grids are drawn
    assert_clean(page)

    page.goto(f"{base}/patrol/")
    page.wait_for_selector("[data-testid=gps][data-state=fix]")
    page.wait_for_selector("#patrol-map .leaflet-overlay-pane path")  # the grid outlines
    assert page.locator(".gm-pin").count() == 1
    assert_clean(page)

    page.context.clear_cookies()
    sign_in(page, base, "centre", f"/admin/grids/area/{tree['a'].pk}/change/")
    page.wait_for_selector(".leaflet-container path.leaflet-interactive")  # the boundary in the widget
    assert page.locator(".leaflet-draw-toolbar a").count() > 0  # the drawing tools
    assert_clean(page)

    page.goto(f"{base}/admin/events/event/{event.pk}/change/")
    page.wait_for_selector(".leaflet-container .leaflet-marker-icon")  # the event's point
    assert_clean(page)

    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock")  # the operations are listed
    assert_clean(page)
