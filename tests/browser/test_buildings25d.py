"""Buildings in 2.5D (buildings25d.js) in a real browser: from zoom 16 each footprint is drawn
extruded by its height — a tall building's roof further from its footprint than a short one's —
far buildings first; a click on an extruded roof opens the floor table; below zoom 16 the
footprints are flat again. Screenshots go to tests/artifacts/."""
import pytest

from gridmap.places.models import Building, BuildingUse
from gridmap.places.selectors import tile_bounds

from ..conftest import rect
from ..geo_helpers import tile_of

pytestmark = pytest.mark.usefixtures("transactional_db")

W, H = 0.0004, 0.0003  # about 41 m × 33 m


@pytest.fixture
def towers(tree):
    """Three buildings in grid A, west to east: a 30-floor tower (90 m from its floors), a
    3-floor block recorded as 45 m high (height_m wins), and a 2-floor house (6 m) further north."""
    spots = [("TALL", "高楼", 30, None, 113.9240, 22.5495), ("MID", "中楼", 3, 45.0, 113.9250, 22.5495),
             ("LOW", "矮楼", 2, None, 113.9260, 22.5502)]
    return {code: Building.objects.create(code=code, name=name, floors_above=floors, height_m=height, use="residential",
                                          footprint=rect(x, y, x + W, y + H))
            for code, name, floors, height, x, y in spots}


def login(page, live_server):
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", "leader_a")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")


DRAWN = "gridmap.buildings25d.drawn.map(b => ({code: b.code, floors: b.floors, height: b.height_m, dx: b.dx, dy: b.dy, x: b.x, y: b.y, fx: b.fx, fy: b.fy}))"


def page_point(page, x, y):
    """A container point of the map as a point of the page."""
    box = page.locator("#map").bounding_box()
    return box["x"] + x, box["y"] + y


def painted(page, x, y):
    """Alpha of the 2.5D canvas at a container point of the map (0: nothing drawn there)."""
    return page.evaluate("""([x, y]) => {
        const canvas = document.querySelector('canvas.gm-buildings-25d');
        const c = canvas.getBoundingClientRect(), m = document.getElementById('map').getBoundingClientRect();
        const k = canvas.width / c.width;
        return canvas.getContext('2d').getImageData(Math.round((m.left + x - c.left) * k), Math.round((m.top + y - c.top) * k), 1, 1).data[3];
    }""", [x, y])


def test_buildings_extruded_from_zoom_16_and_clickable(live_server, page, artifacts, tree, leader_a, towers):
    login(page, live_server)
    page.evaluate("gridmap.map.setView([22.5500, 113.9252], 17, {animate: false})")
    page.wait_for_selector("#map[data-buildings-mode='25d'][data-buildings25d='3']")
    drawn = {b["code"]: b for b in page.evaluate(DRAWN)}
    assert set(drawn) == {"TALL", "MID", "LOW"}

    # Heights: floors × 3 m unless height_m is recorded.
    assert (drawn["TALL"]["height"], drawn["MID"]["height"], drawn["LOW"]["height"]) == (90, 45, 6)
    # Roofs rise up the screen (y down), offset in proportion to the height.
    offset = {code: (b["dx"] ** 2 + b["dy"] ** 2) ** 0.5 for code, b in drawn.items()}
    assert all(b["dy"] < 0 for b in drawn.values())
    assert offset["TALL"] > offset["MID"] > offset["LOW"] > 0
    assert offset["TALL"] / offset["LOW"] == pytest.approx(15, rel=0.01)
    assert offset["TALL"] / offset["MID"] == pytest.approx(2, rel=0.01)
    assert offset["TALL"] > 40  # a 90 m tower at zoom 17 stands well clear of its footprint
    for b in drawn.values():  # the roof centre is the footprint centre moved by the offset
        assert (b["x"] - b["fx"], b["y"] - b["fy"]) == (pytest.approx(b["dx"]), pytest.approx(b["dy"]))

    # View-consistent order: the house further north (up the screen) is painted first.
    order = [b["code"] for b in page.evaluate(DRAWN)]
    assert order.index("LOW") < order.index("TALL") and order.index("LOW") < order.index("MID")

    # Painted: the tower's roof and the house's roof; nothing over empty ground south of them.
    tall = drawn["TALL"]
    assert painted(page, tall["x"], tall["y"]) == 255
    assert painted(page, drawn["LOW"]["x"], drawn["LOW"]["y"]) == 255
    assert painted(page, tall["fx"], tall["fy"] + 80) == 0
    # Between the roof and the footprint the walls are drawn (the tower's south face).
    assert painted(page, tall["fx"], tall["fy"] + tall["dy"] / 2) == 255
    # The flat footprints are still there below (and still tagged), covered by the extrusion.
    assert page.locator("path.gm-building").count() == 3
    page.screenshot(path=str(artifacts / "buildings_25d_zoom17.png"))

    # A click on the tower's roof — above its footprint, where no flat path is — opens its floor table.
    x, y = page_point(page, tall["x"], tall["y"])
    assert page.evaluate(f"document.elementFromPoint({x}, {y}).matches('path.gm-building')") is False
    assert page.evaluate(f"gridmap.buildings25d.pick([{tall['x']}, {tall['y']}]).code") == "TALL"
    page.mouse.move(x, y)
    assert page.evaluate("document.getElementById('map').style.cursor") == "pointer"
    page.mouse.click(x, y)
    page.wait_for_selector(f"#gm-panel[data-state=ready][data-view=building][data-id='{towers['TALL'].pk}']")
    assert page.inner_text("#gm-panel-title") == "高楼"
    assert page.locator("table.gm-floors").get_attribute("data-floors") == "30"
    page.screenshot(path=str(artifacts / "buildings_25d_click.png"))
    page.keyboard.press("Escape")

    # A click on a flat footprint's path opens the building drawn on top there: its own.
    page.locator('path.gm-building[data-code="LOW"]').click()
    page.wait_for_selector(f"#gm-panel[data-state=ready][data-view=building][data-id='{towers['LOW'].pk}']")
    assert page.inner_text("#gm-panel-title") == "矮楼"
    page.keyboard.press("Escape")

    # A click on empty ground opens nothing.
    assert page.evaluate(f"gridmap.buildings25d.pick([{tall['fx']}, {tall['fy'] + 80}])") is None

    # Below zoom 16 the footprints are flat: nothing extruded, the three paths still drawn.
    page.evaluate("gridmap.map.setView([22.5500, 113.9252], 15.5, {animate: false})")
    page.wait_for_selector("#map[data-buildings-mode='flat'][data-buildings25d='0']")
    assert page.evaluate("gridmap.buildings25d.drawn.length") == 0
    page.wait_for_function("document.querySelectorAll('path.gm-building').length === 3")
    # at zoom 15.x the (z14) tiles carry no names: the tooltip names the use and the floors
    page.locator("path.gm-building").first.hover()
    page.locator(".gm-building-tip", has_text=f"{BuildingUse.RESIDENTIAL.label} · ").last.wait_for()
    page.screenshot(path=str(artifacts / "buildings_flat_zoom15.5.png"))

    # Back at 16 they stand up again; hiding the building layer hides them too.
    page.evaluate("gridmap.map.setZoom(16, {animate: false})")
    page.wait_for_selector("#map[data-buildings-mode='25d'][data-buildings25d='3']")
    page.evaluate("gridmap.map.removeLayer(gridmap.layers.buildings)")
    assert page.locator("canvas.gm-buildings-25d").count() == 0
    assert page.evaluate("gridmap.buildings25d.drawn.length") == 0
    page.evaluate("gridmap.map.addLayer(gridmap.layers.buildings)")
    page.wait_for_selector("#map[data-buildings-mode='25d'][data-buildings25d='3']")
    assert page.errors == []


def test_buildings_come_as_tiles_and_a_building_on_a_tile_corner_is_drawn_once(live_server, page, artifacts, tree, leader_a):
    """The page takes buildings as vector tiles (.mvt), not a bbox GeoJSON; a footprint over the
    corner of four z16 tiles comes in all four and is drawn once, whole, at its height."""
    x, y = tile_of(113.92, 22.55, 16)
    west, _, _, north = tile_bounds(16, x, y)
    corner = Building.objects.create(code="CORNER", name="角楼", floors_above=10, use="residential",
                                     footprint=rect(west - 0.0002, north - 0.00015, west + 0.0002, north + 0.00015))
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/map/buildings/" in r.url else None)
    login(page, live_server)
    page.evaluate(f"gridmap.map.setView([{north}, {west}], 17, {{animate: false}})")
    page.wait_for_selector("#map[data-buildings-mode='25d'][data-buildings25d='1']")
    assert [(b["code"], b["floors"], b["height"]) for b in page.evaluate(DRAWN)] == [("CORNER", 10, 30)]
    assert page.locator("path.gm-building").count() == 1
    assert page.locator('path.gm-building[data-code="CORNER"]').get_attribute("data-id") == str(corner.pk)
    tiles = {u.rsplit("/buildings/", 1)[1] for u in asked}
    assert {f"16/{x - 1}/{y - 1}.mvt", f"16/{x}/{y - 1}.mvt", f"16/{x - 1}/{y}.mvt", f"16/{x}/{y}.mvt"} <= tiles
    assert all(t.endswith(".mvt") for t in tiles)
    # The whole footprint is drawn: its flat path spans the 0.0004° (≈ 41 m) it has, not a tile's piece.
    span = page.evaluate("""() => { const b = gridmap.layers.buildings.getBounds(); return [b.getWest(), b.getEast()]; }""")
    assert span == [pytest.approx(west - 0.0002, abs=3e-6), pytest.approx(west + 0.0002, abs=3e-6)]
    page.screenshot(path=str(artifacts / "buildings_tile_corner.png"))

    # a pan at the same zoom draws only the difference: the footprint still in view is the same element
    page.evaluate("document.querySelector('path.gm-building[data-code=\"CORNER\"]').gmKept = true")
    before = len(asked)
    page.evaluate("gridmap.map.panBy([500, 0], {animate: false})")
    for _ in range(50):  # new tiles are asked for …
        if len(asked) > before:
            break
        page.wait_for_timeout(100)
    assert len(asked) > before
    page.wait_for_load_state("networkidle")  # … and drawn
    page.wait_for_timeout(100)
    assert page.evaluate("document.querySelector('path.gm-building[data-code=\"CORNER\"]').gmKept") is True
    assert page.errors == []


def test_a_failed_tile_leaves_the_others_drawn_and_is_asked_again(live_server, page, tree, leader_a):
    x, y = tile_of(113.92, 22.55, 16)
    west, south, east, north = tile_bounds(16, x, y)
    middle = (south + north) / 2
    for code, lon in (("WEST", west - 0.0003), ("EAST", west + 0.0001)):  # either side of the tile's west edge
        Building.objects.create(code=code, name=code, floors_above=3, footprint=rect(lon, middle, lon + 0.0001, middle + 0.0001))
    login(page, live_server)
    page.route(f"**/api/map/buildings/16/{x}/{y}.mvt", lambda route: route.fulfill(status=500, body="boom"))
    page.evaluate(f"gridmap.map.setView([{middle}, {west}], 17, {{animate: false}})")
    page.wait_for_selector('path.gm-building[data-code="WEST"]')
    assert page.locator('path.gm-building[data-code="EAST"]').count() == 0
    assert "500" not in page.inner_text(".gm-status") and "(1/" in page.inner_text(".gm-status")
    page.unroute(f"**/api/map/buildings/16/{x}/{y}.mvt")
    page.evaluate("gridmap.map.panBy([2, 0], {animate: false})")  # any move asks for the missing tile again
    page.wait_for_selector('path.gm-building[data-code="EAST"]')
    assert page.locator('path.gm-building[data-code="WEST"]').count() == 1
    assert page.inner_text(".gm-status").strip() == ""
