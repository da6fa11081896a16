"""A second grid layer (城管网格) on the home map: an overlay that is off and not even fetched at
load, drawn as dashed outlines of its own colour without fill when switched on, with labels and
a popup naming layer and leader, and gone when switched off. Screenshot in tests/artifacts/."""
import pytest

from gridmap.core.models import Role
from gridmap.map.selectors import LAYER_COLOURS

pytestmark = pytest.mark.usefixtures("transactional_db")

URBAN = 'path.gm-grid-layer[data-layer="urban"]'


def sign_in(page, live_server, username):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#map[data-state=ready]")
    return requests


def click_at(page, lat, lon):
    x, y = page.evaluate(f"""(() => {{ const p = gridmap.map.latLngToContainerPoint([{lat}, {lon}]);
        const r = gridmap.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }})()""")
    page.mouse.click(x, y)


def test_second_layer_is_an_overlay_loaded_when_switched_on(live_server, page, artifacts, tree, urban_layer, make_user):
    make_user("centre", Role.CENTRE_ADMIN)
    requests = sign_in(page, live_server, "centre")
    # streets, communities, grids, 城管网格, buildings, facilities, organisations, events
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 8")
    switcher = page.locator(".leaflet-control-layers-overlays label")
    assert [t.strip() for t in switcher.all_inner_texts()][:4] == ["街道", "社区", "网格", "城管网格"]
    urban = switcher.filter(has_text="城管网格")
    # its label carries a swatch of the outline colour
    assert urban.locator(".gm-layer-swatch").evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(213, 0, 249)"
    assert LAYER_COLOURS[0] == "#d500f9"
    # off at first, and not fetched: the first render costs what it did
    assert not urban.locator("input").is_checked()
    assert page.locator("path.gm-grid-layer").count() == 0
    assert not [u for u in requests if "layer=" in u]
    assert page.locator("path.gm-grid").count() == 2

    urban.locator("input").check()
    page.wait_for_function(f"document.querySelectorAll('{URBAN}').length === 2")
    assert [u for u in requests if "layer=urban" in u and "level=grid" in u] and page.get_attribute("#map", "data-grid-layer-urban") == "2"
    paths = page.locator(URBAN)
    assert sorted(paths.evaluate_all("els => els.map(e => e.dataset.code)")) == ["440305005001901", "440305005001902"]
    styles = paths.evaluate_all("els => els.map(e => [e.getAttribute('stroke'), e.getAttribute('fill'), e.getAttribute('stroke-dasharray')])")
    assert all(stroke == LAYER_COLOURS[0] and fill == "none" and dash for stroke, fill, dash in styles)
    primary = page.locator("path.gm-grid").evaluate_all("els => els.map(e => e.getAttribute('stroke'))")
    assert len(primary) == 2 and LAYER_COLOURS[0] not in primary  # a colour apart from the primary grids'
    assert all(page.locator("path.gm-grid").evaluate_all("els => els.map(e => e.getAttribute('fill') !== 'none')"))
    page.screenshot(path=str(artifacts / "map_grid_layers.png"))  # the district: dashed outlines over the filled grids

    # labels: the grids' rule — none at the district's zoom, made at grid zoom where they fit
    labels = page.locator(".gm-label-layer")
    assert labels.count() == 0
    page.evaluate("gridmap.map.setView([22.55, 113.93], 14)")
    page.wait_for_function("document.getElementById('map').dataset.zoom === '14'")
    page.wait_for_function("document.querySelectorAll('.gm-label-layer').length === 2")
    r, g, b = (int(LAYER_COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
    assert labels.evaluate_all("els => els.map(e => e.style.borderColor)") == [f"rgb({r}, {g}, {b})"] * 2  # the layer's colour
    texts = sorted(t.split("\n") for t in labels.all_inner_texts())
    assert texts == [["城管北网格 (440305005001901)", "张城北"], ["城管南网格 (440305005001902)", "李城南"]]
    # each centred on its grid
    offsets = page.evaluate("""[...document.querySelectorAll('.gm-label-layer')].map(e => {
        const r = e.getBoundingClientRect(), m = gridmap.map.getContainer().getBoundingClientRect();
        const centres = [[22.575, 113.95], [22.525, 113.95]].map(c => gridmap.map.latLngToContainerPoint(c));
        return Math.min(...centres.map(c => Math.hypot(r.left + r.width / 2 - m.left - c.x, r.top + r.height / 2 - m.top - c.y)));
    })""")
    assert max(offsets) < 5, offsets
    page.screenshot(path=str(artifacts / "map_grid_layers_labels.png"))
    # away from the grids their labels go (only labels near the view exist), and come back with them
    page.evaluate("gridmap.map.setView([22.55, 114.60], 14)")
    page.wait_for_function("document.querySelectorAll('.gm-label-layer').length === 0")
    page.evaluate("gridmap.map.setView([22.55, 113.93], 14)")
    page.wait_for_function("document.querySelectorAll('.gm-label-layer').length === 2")

    # a click on an outline opens its popup: layer, grid, code, leader (the shared edge: one of the two)
    click_at(page, 22.55, 113.91)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "网格图层" in text and "城管网格" in text and "负责人" in text
    assert ("城管南网格" in text and "440305005001902" in text and "李城南" in text) or (
        "城管北网格" in text and "440305005001901" in text and "张城北" in text), text
    page.keyboard.press("Escape")

    # off: outlines and labels go; on again: back without a second request
    urban.locator("input").uncheck()
    assert page.locator("path.gm-grid-layer").count() == 0
    page.wait_for_function("!document.querySelector('.gm-label-layer')")  # labels fade out
    assert page.locator("path.gm-grid").count() == 2  # the primary grids stay
    fetched = len([u for u in requests if "layer=urban" in u])
    urban.locator("input").check()
    page.wait_for_function(f"document.querySelectorAll('{URBAN}').length === 2")
    assert len([u for u in requests if "layer=urban" in u]) == fetched == 1
    assert page.errors == []


def test_the_layers_own_leader_gets_it_switched_on(live_server, page, tree, urban_layer, leader_a):
    """The urban grid's leader has no primary grid: their own layer is on at load, with their grid
    only; a primary grid leader whose area holds none of the layer's grids is not offered it."""
    sign_in(page, live_server, "urban_u1")
    page.wait_for_function(f"document.querySelectorAll('{URBAN}').length === 1")
    assert page.locator(URBAN).get_attribute("data-code") == "440305005001901"
    assert page.locator(".leaflet-control-layers-overlays label", has_text="城管网格").locator("input").is_checked()
    assert page.errors == []

    page.context.clear_cookies()
    requests = sign_in(page, live_server, "leader_a")
    page.wait_for_function("document.querySelectorAll('.leaflet-control-layers-overlays label').length === 5")
    assert page.locator(".leaflet-control-layers-overlays label", has_text="城管网格").count() == 0
    assert not [u for u in requests if "layer=" in u]
    assert page.errors == []
