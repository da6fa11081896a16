"""The home map in a real browser: log in as grid A's leader, see grid A and not grid B,
zoom in and see the buildings. Screenshots go to tests/artifacts/."""
import pytest

from gridmap.places.models import Building

from ..conftest import rect

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def houses(tree):
    """Three buildings in grid A near (113.925, 22.55), one in grid B."""
    spots = [("A-1", 113.9245, 22.5495), ("A-2", 113.9252, 22.5495), ("A-3", 113.9245, 22.5503), ("B-1", 113.97, 22.55)]
    return {code: Building.objects.create(code=code, name=f"{code}栋", floors_above=6, use="residential",
                                          footprint=rect(x, y, x + 0.0004, y + 0.0003))
            for code, x, y in spots}


def test_grid_leader_sees_own_grid_and_its_buildings(live_server, page, artifacts, tree, leader_a, houses):
    page.goto(live_server.url + "/")
    assert "/admin/login/" in page.url  # login required
    page.fill("#id_username", "leader_a")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.wait_for_selector("#map[data-state=ready]")

    # Header: who, which role, which area.
    header = page.inner_text("[data-testid=user]")
    assert "leader_a" in header and tree["a"].code in header

    # Scoping: grid A is drawn with its label; grid B is not; no levels above the grid.
    grid_a = page.locator(f'path.gm-grid[data-code="{tree["a"].code}"]')
    assert grid_a.count() == 1
    assert page.locator(f'path[data-code="{tree["b"].code}"]').count() == 0
    assert page.locator("path.gm-grid").count() == 1
    assert page.locator("path.gm-community, path.gm-street, path.gm-district").count() == 0
    assert page.locator(".gm-label-grid").first.inner_text() == f'{tree["a"].name} ({tree["a"].code})'
    # Fitted to grid A: the whole grid is in view.
    view = page.evaluate("(() => { const b = gridmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
    assert view[0] <= 113.90 and view[1] <= 22.50 and view[2] >= 113.95 and view[3] >= 22.60
    assert page.evaluate("gridmap.map.getZoom()") < 15
    assert page.locator("path.gm-building").count() == 0  # below the buildings zoom
    page.screenshot(path=str(artifacts / "map_grid_leader.png"))

    # Zoom in on the buildings: the three of grid A come by bbox (B-1 is out of view and of scope).
    page.evaluate("gridmap.map.setView([22.5500, 113.9250], 17)")
    page.wait_for_function("document.getElementById('map').dataset.buildings === '3'")
    assert sorted(page.locator("path.gm-building").evaluate_all("els => els.map(e => e.dataset.code)")) == ["A-1", "A-2", "A-3"]
    page.screenshot(path=str(artifacts / "map_buildings.png"))

    # Clicking a building opens its floor table in the side panel (tests/browser/test_floor_table.py).
    page.locator('path.gm-building[data-code="A-1"]').click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    assert page.inner_text("#gm-panel-title") == "A-1栋"
    page.keyboard.press("Escape")

    # The layer switcher hides and shows the buildings.
    switcher = page.locator(".leaflet-control-layers-overlays label")
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 3")  # events join when loaded
    assert [t.strip() for t in switcher.all_inner_texts()] == ["网格", "楼栋", "事件"]  # grids, buildings, events for a grid leader; Chinese by default
    switcher.nth(1).locator("input").uncheck()
    assert page.locator("path.gm-building").count() == 0
    switcher.nth(1).locator("input").check()
    page.wait_for_function("document.querySelectorAll('path.gm-building').length === 3")
    assert page.errors == []


def test_centre_admin_sees_whole_district(live_server, page, artifacts, tree, make_user, houses):
    from gridmap.core.models import Role

    make_user("centre", Role.CENTRE_ADMIN)
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", "centre")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
    assert page.locator("path.gm-grid").count() == 2
    for kind in ("district", "street", "community"):
        assert page.locator(f"path.gm-{kind}").count() == 1
    # streets, communities, grids, buildings, events
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 5")
    colours = page.locator("path.gm-grid").evaluate_all("els => els.map(e => e.getAttribute('fill'))")
    assert len(set(colours)) == 2  # neighbouring grids are coloured apart
    page.screenshot(path=str(artifacts / "map_centre.png"))
    assert page.errors == []
