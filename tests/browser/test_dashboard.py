"""The dashboard in a real browser: the centre opens the district's dashboard for November, sees
its key figures and charts, clicks the street's row and reaches the street's dashboard, clicks the
community's bar in the chart and reaches the community's, with breadcrumbs up the tree; then
opens the printable monthly report. Screenshots: tests/artifacts/analytics_dashboard_*.png."""
import pytest

from ..analytics.dashboard_month import MOMENT, month  # noqa: F401 (fixture)
from .helpers import login

pytestmark = [pytest.mark.usefixtures("transactional_db"), pytest.mark.time_machine(MOMENT)]


def open_dashboard(page, url):
    page.goto(url)
    page.wait_for_selector(".db-main[data-state=ready]")


def kpi(page, key):
    return page.text_content(f'.db-kpi[data-kpi="{key}"] .db-kpi-value')


def test_drill_down_from_the_district_to_a_community(page, live_server, tree, staff, month, artifacts):
    login(page, live_server, "centre")
    open_dashboard(page, f"{live_server.url}/analytics/dashboard/?area={tree['district'].pk}&period=2026-11")
    assert page.text_content("[data-testid=current-area]").strip() == tree["district"].name
    assert (kpi(page, "events"), kpi(page, "overdue_now"), kpi(page, "closed_on_time_pct")) == ("8", "1", "71.4")
    assert page.locator("#chart-trend canvas").count() == 1  # ECharts drew the trend
    page.screenshot(path=str(artifacts / "analytics_dashboard_district.png"), full_page=True)

    page.click(f'section[data-table=children] tr[data-area="{tree["street"].pk}"] td:nth-child(3)')  # the row, not its link
    page.wait_for_url(f"**area={tree['street'].pk}**")
    page.wait_for_selector(".db-main[data-state=ready]")
    assert page.text_content("[data-testid=current-area]").strip() == tree["street"].name
    assert kpi(page, "events") == "8"

    # the community's bar in the chart of the street's children: where ECharts drew it
    x, y = page.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('chart-children'));
        const bar = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(0);
        const box = document.getElementById('chart-children').getBoundingClientRect();
        return [box.left + bar.x + bar.width / 2, box.top + bar.y + bar.height / 2];
    }""")
    page.mouse.click(x, y)
    page.wait_for_url(f"**area={tree['community'].pk}**")
    page.wait_for_selector(".db-main[data-state=ready]")
    assert page.text_content("[data-testid=current-area]").strip() == tree["community"].name
    crumbs = page.locator("[data-testid=breadcrumbs] a").all_text_contents()
    assert tree["district"].name in crumbs and tree["street"].name in crumbs
    rows = page.locator("section[data-table=children] tbody tr").count()
    assert rows == 2  # grids A and B
    page.screenshot(path=str(artifacts / "analytics_dashboard_community.png"), full_page=True)

    page.click("[data-testid=report-link]")
    page.wait_for_selector("[data-testid=report]")
    assert "2026-11" in page.text_content(".rp-head")
    assert month[7].number in page.text_content("section[data-table=overdue]")
    page.emulate_media(media="print")
    assert not page.is_visible("[data-testid=print]")  # the print stylesheet hides the controls
    page.screenshot(path=str(artifacts / "analytics_dashboard_report.png"), full_page=True)
    assert page.errors == []
