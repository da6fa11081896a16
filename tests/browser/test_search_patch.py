"""Search and "my patch" in a real browser: a grid leader logs in and lands on their grid with the
patch card (households counted), types a building's number in the header's search box, picks it
from the keyboard, and the map flies there and opens its floor table. Screenshots go to
tests/artifacts/."""
import pytest

from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_grid_leader_lands_on_their_patch_and_searches_a_building(live_server, page, artifacts, tree, estate, users):
    login(page, live_server, "leader_a")

    # Landed on grid A: its outline is drawn and the view is inside the grid's bounds.
    assert page.locator(f'path.gm-grid[data-code="{tree["a"].code}"]').count() == 1
    west, south, east, north = page.evaluate(
        "(() => { const b = gridmap.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
    centre_lon, centre_lat = (west + east) / 2, (south + north) / 2
    assert 113.90 <= centre_lon <= 113.95 and 22.50 <= centre_lat <= 22.60

    # The patch card: grid A, 7 households, 10 people (2 floating), no events, 1 visit due.
    page.wait_for_selector(".gm-patch[data-state=ready]")
    card = page.locator(".gm-patch")
    assert card.evaluate("e => e.open")
    assert "网格A" in card.locator(".gm-patch-summary").inner_text()
    assert card.locator('[data-count="households"]').inner_text() == "7"
    assert card.locator('[data-count="people"]').inner_text() == "10"
    assert card.locator('[data-count="floating"]').inner_text() == "2"
    assert card.locator('[data-count="visits_due"]').inner_text() == "1"
    assert card.locator('[data-count="events"]').inner_text() == "0"
    page.screenshot(path=str(artifacts / "search_patch_1_landing.png"))

    # Collapse and expand from the keyboard (a <details> card).
    card.locator(".gm-patch-summary").focus()
    page.keyboard.press("Enter")
    assert not card.evaluate("e => e.open")
    page.keyboard.press("Enter")
    assert card.evaluate("e => e.open")

    # Search a building number: type, wait for the list, arrow down/up, Enter.
    box = page.locator("#gm-search-input")
    box.click()
    box.type("幸福楼1", delay=30)
    page.wait_for_selector("#gm-search[data-state=ready]")
    items = page.locator("#gm-search-list li.gm-search-item")
    assert items.count() >= 1
    first = items.first
    assert first.get_attribute("data-kind") == "building" and first.get_attribute("data-id") == str(estate["building"].pk)
    assert first.get_attribute("aria-selected") == "true"
    assert "幸福楼1栋" in first.inner_text()
    page.screenshot(path=str(artifacts / "search_patch_2_results.png"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")

    # The floor table opens and the map flies to the building (building zoom, centred on it).
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    assert page.inner_text("#gm-panel-title") == "幸福楼1栋"
    table = page.locator("#gm-panel table.gm-floors")
    assert table.get_attribute("data-floors") == "4" and table.get_attribute("data-dwellings") == "16"
    assert page.locator("#gm-search-list").is_hidden()
    page.wait_for_function("gridmap.map.getZoom() >= 18 && !gridmap.map._animatingZoom")
    page.wait_for_function(
        "(() => { const c = gridmap.map.getCenter(); return Math.abs(c.lng - 113.9247) < 0.0005 && Math.abs(c.lat - 22.54965) < 0.0005; })()")
    page.wait_for_selector('path.gm-building[data-code="A-1"]')
    page.screenshot(path=str(artifacts / "search_patch_3_building.png"))

    # Another grid's person is not found from this box.
    box.fill("")
    box.type("钱外格", delay=30)
    page.wait_for_selector("#gm-search[data-state=empty]")
    assert page.locator("#gm-search-list li.gm-search-item").count() == 0
    assert page.errors == []


def test_worker_on_a_phone_gets_a_folded_card_and_masked_ids(live_server, phone_page, artifacts, tree, estate, users):
    page = phone_page
    login(page, live_server, "worker_a")
    page.wait_for_selector(".gm-patch[data-state=ready]")
    card = page.locator(".gm-patch")
    assert not card.evaluate("e => e.open")  # folded on a phone; one tap opens it
    card.locator(".gm-patch-summary").click()
    assert card.locator('[data-count="households"]').inner_text() == "7"
    card.locator(".gm-patch-summary").click()
    box = page.locator("#gm-search-input")
    box.click()
    box.type("张矫", delay=30)
    page.wait_for_selector("#gm-search[data-state=ready]")
    item = page.locator('#gm-search-list li.gm-search-item[data-kind="person"]')
    full = estate["people"]["corr"].id_number
    assert "张矫正" in item.inner_text() and full not in item.inner_text() and "********" in item.inner_text()
    page.screenshot(path=str(artifacts / "search_patch_4_phone_masked.png"))
    page.keyboard.press("Enter")  # opens the person's record
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=person]")
    assert page.inner_text("#gm-panel-title") == "张矫正"
