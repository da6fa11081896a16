"""A centre with two districts thousands of km apart (南山区 in Shenzhen, 东城区 in Beijing): the
landing view shows both as outlines labelled with their counts and the district picker; picking
one flies there and its grids are drawn, the other district out of view. Screenshots go to
tests/artifacts/."""
import pytest

from ..map.far_districts import far_districts  # noqa: F401 (fixture)
from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")

VIEW = "(() => { const b = gridmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"


def label_counts(page, code):
    label = page.locator(f'.gm-overview-label[data-code="{code}"]')
    return {key: int(label.locator(f'[data-count="{key}"] b').inner_text())
            for key in ("grids", "households", "people", "events")}


def in_view(page, code):
    """Whether the grid `code` is drawn on the map and its outline lies in the visible box."""
    return page.evaluate("""(code) => { let found = false;
      gridmap.layers.grid.eachLayer((l) => { if (l.feature.properties.code === code) found = gridmap.map.getBounds().intersects(l.getBounds()); });
      return found; }""", code)


def test_centre_sees_both_districts_and_picks_one(live_server, page, artifacts, far_districts):
    login(page, live_server, "centre")
    page.wait_for_selector("#map[data-overview=district]")
    assert page.evaluate("gridmap.map.getZoom()") < 11  # both districts in one view: country scale

    # both outlines, each labelled with its counts (the label stays readable at this zoom)
    outlines = page.locator("path.gm-overview-district")
    assert sorted(outlines.evaluate_all("els => els.map(e => e.dataset.code)")) == ["110101", "440305"]
    assert label_counts(page, "440305") == {"grids": 2, "households": 1, "people": 2, "events": 1}
    assert label_counts(page, "110101") == {"grids": 2, "households": 2, "people": 4, "events": 2}
    assert "东城区" in page.locator('.gm-overview-label[data-code="110101"]').inner_text()
    assert page.locator(".gm-overview-label:not(.gm-overview-hidden)").count() == 2
    assert page.locator(".gm-label-district").count() == 0  # the overview replaces the plain labels

    # the picker lists both with their counts
    picker = page.locator("[data-testid=district-picker]")
    assert picker.is_visible() and "选择区县" in picker.locator("summary").inner_text()
    items = picker.locator("button.gm-picker-item")
    assert items.evaluate_all("els => els.map(e => e.dataset.code)") == ["110101", "440305"]
    assert "东城区" in items.first.inner_text() and "居住人数 4" in " ".join(items.first.inner_text().split())
    page.screenshot(path=str(artifacts / "map_districts_overview.png"))

    # pick 东城区: the map flies to Beijing, the overview gives way to its grids
    items.filter(has_text="东城区").click()
    page.wait_for_function("gridmap.map.getZoom() >= 13 && document.getElementById('map').dataset.overview === ''")
    page.wait_for_timeout(300)  # the last moveend's labels
    view = page.evaluate(VIEW)
    assert view[0] <= 116.40 and view[1] <= 39.90 and view[2] >= 116.44 and view[3] >= 39.94
    assert in_view(page, "110101001001001") and in_view(page, "110101001001002")
    assert not in_view(page, "440305005001001") and not in_view(page, "440305005001002")
    labels = page.locator(".gm-label-grid").all_inner_texts()
    assert any("网格C" in t for t in labels) and any("网格D" in t for t in labels)
    assert not any("网格A" in t or "网格B" in t for t in labels)
    assert page.locator("path.gm-overview").count() == 0
    page.screenshot(path=str(artifacts / "map_districts_picked.png"))

    # at medium zoom the streets are the overview
    page.evaluate("gridmap.map.setZoom(12)")
    page.wait_for_selector("#map[data-overview=street]")
    assert page.locator('.gm-overview-label[data-code="110101001"] [data-count="people"] b').inner_text() == "4"
    assert page.locator("path.gm-overview-street").count() == 2  # loaded once, both districts' streets

    # back out to country scale and click 南山区's outline: the map flies to Shenzhen
    page.evaluate("gridmap.map.setView([31, 115], 5, { animate: false })")
    page.wait_for_selector("#map[data-overview=district]")
    page.locator('.gm-overview-label[data-code="440305"] button').click()
    page.wait_for_function("gridmap.map.getZoom() >= 12 && document.getElementById('map').dataset.overview === ''")
    assert in_view(page, "440305005001001") and in_view(page, "440305005001002")
    assert not in_view(page, "110101001001001")
    assert page.errors == []


def test_area_staff_get_no_picker_and_only_their_district(live_server, page, far_districts):
    login(page, live_server, "dongcheng")
    page.evaluate("gridmap.map.setZoom(6)")
    page.wait_for_selector("#map[data-overview=district]")
    assert page.locator("path.gm-overview-district").evaluate_all("els => els.map(e => e.dataset.code)") == ["110101"]
    assert page.locator(".gm-overview-label").evaluate_all("els => els.map(e => e.dataset.code)") == ["110101"]
    assert page.locator("[data-testid=district-picker]").is_hidden()  # one district: nothing to pick
    assert page.errors == []


def test_grid_leader_gets_no_overview(live_server, page, far_districts):
    login(page, live_server, "leader_a")
    page.evaluate("gridmap.map.setZoom(6)")
    page.wait_for_timeout(500)
    assert page.locator(".gm-overview-label, path.gm-overview").count() == 0
    assert page.evaluate("document.getElementById('map').dataset.overview") == ""
    assert page.errors == []
