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
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 5")  # events join when loaded
    # grids, buildings, facilities, organisations, events for a grid leader; Chinese by default
    assert [t.strip() for t in switcher.all_inner_texts()] == ["网格", "楼栋", "部件", "单位", "事件"]
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
    # streets, communities, grids, buildings, facilities, organisations, events
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 7")
    colours = page.locator("path.gm-grid").evaluate_all("els => els.map(e => e.getAttribute('fill'))")
    assert len(set(colours)) == 2  # neighbouring grids are coloured apart
    page.screenshot(path=str(artifacts / "map_centre.png"))
    assert page.errors == []


def test_facilities_and_organisations_layers(live_server, page, artifacts, tree, make_user, houses):
    """Off by default; switched on at zoom 17 they draw grid A's symbols (B's are out of scope),
    highlighted when damaged/missing or high-risk, with a legend; below zoom 16 they draw nothing.
    The grid label names the leader."""
    from django.contrib.gis.geos import Point

    from gridmap.core.models import Role
    from gridmap.places.models import Facility, Organisation

    leader = make_user("leader_wang", Role.GRID_LEADER, tree["a"], first_name="伟", last_name="王")
    tree["a"].leader = leader
    tree["a"].save()
    Facility.objects.create(code="F-1", kind="hydrant", geom=Point(113.9248, 22.5499, srid=4326))
    Facility.objects.create(code="F-2", kind="manhole", status="missing", geom=Point(113.9252, 22.5501, srid=4326))
    Facility.objects.create(code="F-B", kind="camera", geom=Point(113.97, 22.55, srid=4326))
    Organisation.objects.create(name="科技园小学", kind="school", risk_level="high", location=Point(113.9250, 22.5502, srid=4326))

    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", "leader_wang")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
    label = page.locator(".gm-label-grid").first
    assert label.inner_text().split("\n") == [f'{tree["a"].name} ({tree["a"].code})', "王伟"]
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 5")
    page.evaluate("gridmap.map.setView([22.5500, 113.9250], 17)")
    page.wait_for_function("document.getElementById('map').dataset.buildings === '3'")
    assert page.locator("path.gm-facility, path.gm-organisation").count() == 0  # off by default
    assert page.locator(".gm-places-legend").is_hidden()

    switcher = page.locator(".leaflet-control-layers-overlays label")
    switcher.filter(has_text="部件").locator("input").check()
    switcher.filter(has_text="单位").locator("input").check()
    page.wait_for_function("document.getElementById('map').dataset.facilities === '2'"
                           " && document.getElementById('map').dataset.organisations === '1'")
    drawn = page.locator("path.gm-facility").evaluate_all("els => els.map(e => [e.dataset.code, e.dataset.alert])")
    assert sorted(drawn) == [["F-1", "false"], ["F-2", "true"]]
    assert page.locator('path.gm-organisation[data-alert="true"]').count() == 1
    legend = page.locator(".gm-places-legend")
    assert legend.is_visible() and "消防栓" in legend.inner_text() and "学校" in legend.inner_text()
    page.screenshot(path=str(artifacts / "map_places.png"))

    # a popup with the basic fields
    page.locator('path.gm-facility[data-code="F-2"]').click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "F-2" in popup.inner_text() and "丢失" in popup.inner_text()

    # below zoom 16 nothing is drawn; switched off, nothing either
    page.evaluate("gridmap.map.setZoom(15)")
    page.wait_for_function("document.getElementById('map').dataset.facilities === '0'")
    assert page.locator("path.gm-facility").count() == 0
    page.evaluate("gridmap.map.setZoom(17)")
    page.wait_for_function("document.getElementById('map').dataset.facilities === '2'")
    switcher.filter(has_text="部件").locator("input").uncheck()
    page.wait_for_function("document.getElementById('map').dataset.facilities === '0'")
    assert page.locator("path.gm-facility").count() == 0
    assert page.locator("path.gm-organisation").count() == 1
    assert page.errors == []


# A 1×1 PNG: every tile the same image, no network.
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_gcj02_tiles_are_shifted_under_wgs84_data(live_server, page, settings, leader_a):
    """GRIDMAP_TILE_CRS=gcj02: the tile container is moved by the GCJ-02 offset at the centre,
    and the tiles loaded cover the view."""
    import math

    import numpy as np

    from gridmap.core.geo import wgs84_to_gcj02

    settings.GRIDMAP_TILE_CRS = "gcj02"
    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "TILES": [("base", PIXEL, {"attribution": "test"})]}
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", "leader_a")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
    page.evaluate("gridmap.map.setView([22.55, 113.925], 17, { animate: false })")
    page.wait_for_timeout(300)
    shift = page.evaluate("""(() => { const t = Object.values(gridmap.map._layers).find((l) => l._gmShift);
      return [t._gmOffset.x, t._gmOffset.y]; })()""")
    # expected: WGS84 position minus GCJ-02 position of the centre, in Web Mercator pixels at zoom 17
    (glon, glat), = wgs84_to_gcj02(np.array([[113.925, 22.55]]))
    scale = 256 * 2 ** 17

    def px(lon, lat):
        return lon / 360 * scale, (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * scale

    (wx, wy), (gx, gy) = px(113.925, 22.55), px(glon, glat)
    assert shift == [pytest.approx(wx - gx, abs=1), pytest.approx(wy - gy, abs=1)]
    assert abs(shift[0]) > 50  # hundreds of metres: many pixels at zoom 17
    # the loaded tiles, as shifted, cover the whole map
    covered = page.evaluate("""(() => { const m = document.getElementById('map').getBoundingClientRect();
      const r = [...document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded')].map((i) => i.getBoundingClientRect());
      return r.length > 0 && Math.min(...r.map((b) => b.left)) <= m.left && Math.min(...r.map((b) => b.top)) <= m.top
        && Math.max(...r.map((b) => b.right)) >= m.right && Math.max(...r.map((b) => b.bottom)) >= m.bottom; })()""")
    assert covered
    assert page.errors == []
