"""The drill-down in a real browser: a grid leader clicks a building, sees its floor table,
opens a household and its members, and a person's record; the leader of another grid cannot
open that household (UI and API). Screenshots go to tests/artifacts/."""
import pytest

from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_grid_leader_drills_down_from_building_to_person(live_server, page, browser, artifacts, tree, estate, users):
    login(page, live_server, "leader_a")
    assert page.locator(f'path.gm-grid[data-code="{tree["a"].code}"]').count() == 1  # their grid

    # Zoom to the building and click it: the side panel shows its card and floor table.
    page.evaluate("gridmap.map.setView([22.54965, 113.9247], 18)")
    page.wait_for_selector('path.gm-building[data-code="A-1"]')
    page.locator('path.gm-building[data-code="A-1"]').click()
    panel = page.locator("#gm-panel")
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    assert page.inner_text("#gm-panel-title") == "幸福楼1栋"
    table = panel.locator("table.gm-floors")
    assert table.get_attribute("data-floors") == "4" and table.get_attribute("data-dwellings") == "16"
    assert table.locator("tbody tr").count() == 4
    assert table.locator("tbody th").all_inner_texts() == ["3F", "2F", "1F", "B1"]
    assert table.locator("thead th[scope=col]").all_inner_texts() == ["1单元", "2单元"]  # Chinese by default
    assert panel.locator("button.gm-dw").count() == 16
    assert panel.locator('button.gm-dw[data-room="1-201"]').get_attribute("data-tags") == "special"
    assert panel.locator('button.gm-dw[data-room="2-302"]').get_attribute("data-tags") == "welfare elderly_alone"
    assert panel.locator('button.gm-dw[data-room="1-301"]').evaluate("e => e.classList.contains('gm-use-rented')")
    assert panel.locator('[data-total="dwellings"]').inner_text() == "16"
    assert panel.locator('[data-tag="special"]').inner_text() == "1"
    page.screenshot(path=str(artifacts / "floor_table_building.png"))

    # Open a household from the keyboard: cells are buttons.
    panel.locator('button.gm-dw[data-room="1-201"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=dwelling]")
    members = panel.locator("tr.gm-member")
    assert members.count() == 2
    names = panel.locator("tr.gm-member .gm-person-link").all_inner_texts()
    assert names == ["张矫正", "张小"]
    text = page.inner_text("#gm-panel .gm-panel-body")
    assert "社区矫正" in text and "户主" in text and estate["people"]["corr"].id_number in text
    page.screenshot(path=str(artifacts / "floor_table_household.png"))

    # A member's full record, then back to the household and to the table.
    panel.locator("tr.gm-member .gm-person-link").first.click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=person]")
    assert page.inner_text("#gm-panel-title") == "张矫正"
    page.screenshot(path=str(artifacts / "floor_table_person.png"))
    panel.locator(".gm-panel-back").click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=dwelling]")
    panel.locator(".gm-panel-back").click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    assert page.evaluate("document.activeElement.dataset.room") == "1-201"  # focus returns to the cell
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.errors == []

    # The leader of grid B: the API says 404, and the panel says "not found in your area".
    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page_b = other.new_page()
    try:
        login(page_b, live_server, "leader_b")
        dwelling_id = estate["dwellings"]["1-201"].pk
        assert page_b.request.get(f"{live_server.url}/api/dwellings/{dwelling_id}/").status == 404
        assert page_b.request.get(f"{live_server.url}/api/buildings/{estate['building'].pk}/floors/").status == 404
        page_b.evaluate(f"gridmap.panel.open('dwelling', {dwelling_id})")
        page_b.wait_for_selector("#gm-panel[data-state=error]")
        assert "张矫正" not in page_b.inner_text("#gm-panel")
        assert "未找到" in page_b.inner_text("#gm-panel")
        page_b.screenshot(path=str(artifacts / "floor_table_other_grid_404.png"))
    finally:
        other.close()


def test_worker_on_a_phone_sees_a_bottom_sheet_with_masked_ids(live_server, phone_page, artifacts, tree, estate, users):
    page = phone_page
    login(page, live_server, "worker_a")
    page.evaluate(f"gridmap.panel.openBuilding({estate['building'].pk})")
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=building]")
    box = page.locator("#gm-panel").bounding_box()
    assert box["width"] == 390 and box["y"] > 200  # a sheet along the bottom, full width
    assert page.locator('button.gm-dw[data-room="1-201"]').get_attribute("data-tags") == ""  # no special-group tag
    assert page.locator('[data-tag="special"]').count() == 0
    page.screenshot(path=str(artifacts / "floor_table_phone_building.png"))
    page.locator('button.gm-dw[data-room="1-201"]').click()
    page.wait_for_selector("#gm-panel[data-state=ready][data-view=dwelling]")
    text = page.inner_text("#gm-panel .gm-panel-body")
    assert "********" in text and estate["people"]["corr"].id_number not in text and "社区矫正" not in text
    page.screenshot(path=str(artifacts / "floor_table_phone_household.png"))
