"""The analytics map in a real browser: a leader opens it from the map's header, sees last
quarter's disputes as heat bins, moves the time slider month by month and sees the bins change,
switches to the grid choropleth (rates), opens a grid's popup with the link to its dashboard,
downloads the grids' table, and at street zoom gets the point-density view. Screenshots: tests/artifacts/analytics_map_*.png."""
import datetime as dt

import pytest

from gridmap.core.models import Role
from gridmap.events.calendar import TZ

from ..analytics.test_heatmap import events_at
from .helpers import login, wait_data

# last quarter at this moment: July to September 2026
pytestmark = [pytest.mark.usefixtures("transactional_db"),
              pytest.mark.time_machine(dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ))]
JULY, AUGUST, SEPTEMBER = (dt.datetime(2026, m, 10, 9, 0, tzinfo=TZ) for m in (7, 8, 9))


@pytest.fixture
def quarter(tree, estate):
    """Disputes in grid A: 2 in July at one place, 3 in August at another; 1 in September in grid B;
    a safety hazard in August (not a dispute: never counted here)."""
    events_at(tree, [(113.910, 22.520)] * 2, at=JULY)
    events_at(tree, [(113.935, 22.580)] * 3, at=AUGUST)
    events_at(tree, [(113.980, 22.540)], at=SEPTEMBER)
    events_at(tree, [(113.920, 22.560)], code="0201", at=AUGUST)


def bins_drawn(page) -> list[int]:
    return sorted(int(c) for c in page.eval_on_selector_all("path.ah-bin", "els => els.map(e => e.dataset.count)"))


def wait_ready(page, **data):
    """Until the map's figures are drawn and its data-* say `data`."""
    wait_data(page, "#map[data-heat=ready]", **data)


def test_leader_plays_the_quarter_month_by_month(page, live_server, quarter, make_user, artifacts):
    make_user("boss", Role.LEADER)
    login(page, live_server, "boss")
    page.click("[data-testid=analytics-link]")
    wait_ready(page, mode="bins", month="all", months="3")
    # disputes (01, ticked by default) of last quarter: 2 + 3 + 1 in three bins; the hazard is not counted
    assert page.eval_on_selector("#map", "el => el.dataset.total") == "6"
    assert bins_drawn(page) == [1, 2, 3]
    assert page.locator("#ah-legend li").count() == 3  # one class per distinct count
    page.screenshot(path=str(artifacts / "analytics_map_quarter.png"))

    slider = page.locator("[data-testid=slider]")
    seen = {}
    for step, month in [(1, "2026-07"), (2, "2026-08"), (3, "2026-09")]:
        slider.fill(str(step))
        wait_ready(page, mode="bins", month=month)
        seen[month] = bins_drawn(page)
        assert month in page.text_content("#ah-month")
        page.screenshot(path=str(artifacts / f"analytics_map_{month}.png"))
    assert seen == {"2026-07": [2], "2026-08": [3], "2026-09": [1]}

    # play from the start: it walks the months and stops at the last
    slider.fill("0")
    wait_ready(page, month="all")
    page.click("[data-testid=play]")
    wait_ready(page, month="2026-09")
    page.wait_for_selector("[data-testid=play][aria-pressed=false]")

    # the choropleth of rates: grid A has 10 residents, grid B 1 (estate); July to September
    slider.fill("0")
    page.check("input[name=view][value=grids]")
    wait_ready(page, mode="grids", month="all")
    page.select_option("select[name=measure]", "per_1000_residents")
    wait_ready(page, mode="grids")
    values = page.eval_on_selector_all("path[data-code]", "els => Object.fromEntries(els.map(e => [e.dataset.code, e.dataset.value]))")
    assert values == {"440305005001001": "500", "440305005001002": "1000"}
    page.locator("path[data-code='440305005001001']").click(position={"x": 5, "y": 5}, force=True)
    popup = page.locator(".ah-grid-popup")
    popup.wait_for()
    rows = dict(line.split("\t") for line in popup.inner_text().splitlines() if "\t" in line)
    assert list(rows.values())[:4] == ["5", "10", "7", "500"]
    link = page.get_attribute("[data-testid=dashboard-link]", "href")
    assert link.startswith("/analytics/dashboard/?") and "period=last_quarter" in link and "area=" in link
    page.screenshot(path=str(artifacts / "analytics_map_grids.png"))
    # the same table as a file
    csv = page.request.get(live_server.url + page.get_attribute("#ah-csv", "href")).text()
    assert "440305005001001,网格A,5,10,7,500.0,71.43" in csv.splitlines()

    # street zoom: the point-density view of the same filter
    page.check("input[name=view][value=bins]")
    page.evaluate("() => window.gridmap.map.setView([22.580, 113.935], 17)")
    wait_ready(page, mode="points", month="all")
    assert page.eval_on_selector("#map", "el => el.dataset.total") == "3"
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    page.screenshot(path=str(artifacts / "analytics_map_points.png"))
    assert page.errors == []
