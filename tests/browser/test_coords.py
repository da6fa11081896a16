"""Coordinates on the map page in a real browser: the WGS84 readout under the pointer (bottom right)
agrees with Leaflet's own containerPointToLatLng, shows the map centre when the pointer is off
the map and on a phone, and copies its text from the keyboard; a coordinate pair typed in the
search box (latitude first, or gcj: from a GCJ-02 map) flies there and drops a pin naming the grid
and its leader, which Escape and the next search take away. Screenshots go to tests/artifacts/."""
import numpy as np
import pytest

from gridmap.core.geo import gcj02_to_wgs84

from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")

CENTRE = """(() => { const c = gridmap.map.getCenter(); return [c.lng, c.lat]; })()"""


def readout(page):
    lon, lat = (float(v) for v in page.inner_text(".gm-coords-value").split(","))
    return lon, lat


def wait_centred(page, lon, lat, tol=1e-4):
    page.wait_for_function(
        f"""(() => {{ const m = gridmap.map, c = m.getCenter();
            return m.getZoom() >= 18 && !m._animatingZoom && Math.abs(c.lng - {lon}) < {tol} && Math.abs(c.lat - {lat}) < {tol}; }})()""")


def test_readout_follows_the_pointer_copies_and_a_coordinate_search_pins_the_grid(live_server, page, artifacts, tree, users, leader_named):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, live_server, "leader_a")
    readout_el = page.locator(".leaflet-bottom.leaflet-right .gm-coords")
    assert readout_el.count() == 1 and readout_el.evaluate("e => e.tagName") == "BUTTON"
    assert readout_el.evaluate("e => e.tabIndex") >= 0  # keyboard reachable

    # Off the map it shows the centre (to 6 decimals).
    assert readout_el.get_attribute("data-mode") == "centre"
    assert readout(page) == pytest.approx(tuple(page.evaluate(CENTRE)), abs=1e-6)
    assert "地图中心" in page.inner_text(".gm-coords-label")

    # Over the map: the WGS84 position under the pointer, as Leaflet computes it for that spot.
    for dx, dy in [(300, 250), (517, 143), (80, 400)]:
        rect = page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect(); return [r.left, r.top]; })()")
        x, y = round(rect[0]) + dx, round(rect[1]) + dy
        page.mouse.move(x, y)
        page.wait_for_selector(".gm-coords[data-mode=pointer]")
        want = page.evaluate(f"(() => {{ const r = document.getElementById('map').getBoundingClientRect();"
                             f" const ll = gridmap.map.containerPointToLatLng([{x} - r.left, {y} - r.top]); return [ll.lng, ll.lat]; }})()")
        got = readout(page)
        assert got == pytest.approx(tuple(want), abs=1e-5), (dx, dy)
        assert page.inner_text(".gm-coords-value") == f"{got[0]:.6f}, {got[1]:.6f}"
    assert "鼠标位置" in page.inner_text(".gm-coords-label")
    page.screenshot(path=str(artifacts / "coords_1_pointer.png"))

    # The pointer leaves the map: the centre again, and it follows a move.
    page.mouse.move(5, 5)  # over the header
    page.wait_for_selector(".gm-coords[data-mode=centre]")
    page.evaluate("gridmap.map.setView([22.5512, 113.9234], 15)")
    page.wait_for_function("(() => { const c = gridmap.map.getCenter(); return !gridmap.map._animatingZoom && c.lng.toFixed(6) === '113.923400'; })()")
    assert readout(page) == pytest.approx(tuple(page.evaluate(CENTRE)), abs=1e-6)

    # Enter on the focused readout copies its text and says so.
    readout_el.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".gm-coords[data-copied]")
    text = page.inner_text(".gm-coords-value")
    assert readout_el.get_attribute("data-copied") == text == "113.923400, 22.551200"
    assert page.inner_text(".gm-coords-label") == "已复制"
    assert page.evaluate("navigator.clipboard.readText()") == text
    page.wait_for_selector(".gm-coords:not([data-copied])")  # briefly

    # A coordinate pair (latitude first) in the search box: one "point" result, the map flies there.
    box = page.locator("#gm-search-input")
    box.click()
    box.type("22.5227 113.9327", delay=20)
    page.wait_for_selector("#gm-search[data-state=ready]")
    items = page.locator("#gm-search-list li.gm-search-item")
    assert items.count() == 1 and items.first.get_attribute("data-kind") == "point"
    assert "113.932700, 22.522700" in items.first.inner_text() and "网格A" in items.first.inner_text()
    page.screenshot(path=str(artifacts / "coords_2_search_result.png"))
    page.keyboard.press("Enter")
    wait_centred(page, 113.9327, 22.5227)
    pin = page.locator(".leaflet-marker-pane .gm-search-pin")
    pin.wait_for()
    tip = page.locator(".gm-search-pin-tip")
    assert "113.932700, 22.522700" in tip.inner_text()
    assert "网格A" in tip.inner_text() and "张网格" in tip.inner_text()
    # the pin sits on the point
    at = page.evaluate("(() => { const ll = gridmap.search.pin.getLatLng(); return [ll.lng, ll.lat]; })()")
    assert at == pytest.approx([113.9327, 22.5227], abs=1e-9)
    page.screenshot(path=str(artifacts / "coords_3_pinned.png"))

    # Escape takes the pin away.
    page.keyboard.press("Escape")
    assert pin.count() == 0

    # From a GCJ-02 map: converted to WGS84 before the flight; the next search removes its pin.
    want = gcj02_to_wgs84(np.array([[113.9327, 22.5227]]))[0]
    box.fill("")
    box.type("gcj:113.9327,22.5227", delay=20)
    page.wait_for_selector("#gm-search[data-state=ready] li.gm-search-item[data-kind=point]")
    page.keyboard.press("Enter")
    wait_centred(page, want[0], want[1], tol=1e-6)
    pin.wait_for()
    assert "GCJ-02" in tip.inner_text() and f"{want[0]:.6f}, {want[1]:.6f}" in tip.inner_text()
    page.screenshot(path=str(artifacts / "coords_4_gcj_pinned.png"))
    box.fill("")
    box.type("幸福", delay=20)
    page.wait_for_selector("#gm-search[data-state=empty]")
    assert pin.count() == 0
    assert page.errors == []


def test_on_a_phone_the_readout_shows_the_centre_and_follows_moves(live_server, phone_page, artifacts, tree, users):
    page = phone_page
    login(page, live_server, "leader_a")
    assert not page.evaluate("matchMedia('(hover: hover) and (pointer: fine)').matches")
    readout_el = page.locator(".gm-coords")
    assert readout_el.get_attribute("data-mode") == "centre"
    page.evaluate("gridmap.map.setView([22.5533, 113.9111], 16, {animate: false})")
    assert readout(page) == pytest.approx((113.9111, 22.5533), abs=1e-6)
    page.touchscreen.tap(120, 500)  # a tap is no pointer: still the centre
    page.evaluate("gridmap.map.panBy([40, -60], {animate: false})")
    assert readout_el.get_attribute("data-mode") == "centre"
    assert readout(page) == pytest.approx(tuple(page.evaluate(CENTRE)), abs=1e-6)
    page.screenshot(path=str(artifacts / "coords_5_phone.png"))
