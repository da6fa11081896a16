"""The hotspot layer on the analytics map in a real browser: a leader opens last quarter's
disputes and sees the hot grids of the lattice drawn in reds with the method beside the map; a
hot grid's popup gives z, p and confidence; the panel's link downloads the offline map report; other weights change the method stated; the emerging
view and the recurring buildings list come from the same panel. Screenshot:
tests/artifacts/hotspots_layer.png."""
import datetime as dt
from pathlib import Path

import pytest

from gridmap.core.models import Role
from gridmap.events.calendar import TZ
from gridmap.places.models import Building

from ..analytics.hotspot_lattice import (  # noqa: F401
    COUNTS,
    LATTICE_SOUTH,
    LATTICE_WEST,
    centre,
    lattice,
    put_events,
)
from ..conftest import rect
from .helpers import login

pytestmark = [pytest.mark.usefixtures("transactional_db"),
              pytest.mark.time_machine(dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ))]
AUGUST = dt.datetime(2026, 8, 10, 9, 0, tzinfo=TZ)  # in last quarter


@pytest.fixture
def august(lattice):
    """The lattice's COUNTS as August disputes; the south-west grid's three at one building."""
    x, y = LATTICE_WEST + 0.004, LATTICE_SOUTH + 0.004
    building = Building.objects.create(code="HS-1", name="热点楼", address="格子路1号", footprint=rect(x, y, x + 0.0004, y + 0.0003))
    for (i, j), n in COUNTS.items():
        put_events(lattice["grids"][i, j], centre(i, j), n, AUGUST, building=building if (i, j) == (0, 0) else None)
    return lattice


def panel_ready(page, **data):
    condition = "".join(f'[data-{k}="{v}"]' for k, v in data.items())
    page.wait_for_selector(f"#ah-hotspots[data-state=ready]{condition}")


def test_leader_sees_hot_spots_with_their_confidence_and_the_method(page, live_server, august, make_user, artifacts):
    make_user("boss", Role.LEADER)
    login(page, live_server, "boss")
    page.goto(live_server.url + "/analytics/")
    panel_ready(page)
    hot = int(page.eval_on_selector("#ah-hotspots", "el => el.dataset.hot"))
    assert hot >= 3
    assert page.locator("path.ah-spot-hot-99").count() >= 1
    assert page.locator("path.ah-spot").count() == hot + int(page.eval_on_selector("#ah-hotspots", "el => el.dataset.cold"))
    method = page.inner_text("#ah-hotspots .ah-hs-method")
    assert "Gi*" in method and "Benjamini" in method
    page.screenshot(path=str(artifacts / "hotspots_layer.png"))

    with page.expect_download() as download:
        page.click("a.ah-hs-report")
    report = download.value
    assert report.suggested_filename.startswith("map-report-") and report.suggested_filename.endswith(".html")
    html = Path(report.path()).read_text(encoding="utf-8")
    assert august["grids"][0, 0].code in html and "L.heatLayer(" in html

    page.locator("path.ah-spot-hot-99").first.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "z" in popup.inner_text() and "99" in popup.inner_text()
    link = popup.locator("[data-testid=dashboard-link]")  # a hot grid leads on to its dashboard
    assert "/analytics/dashboard/?" in link.get_attribute("href") and "area=" in link.get_attribute("href")

    page.select_option("select[name=hs-weights]", "knn")
    panel_ready(page, weights="knn")
    assert page.locator("select[name=hs-weights]").input_value() == "knn"

    page.select_option("select[name=hs-view]", "emerging")
    panel_ready(page, view="emerging")
    # last quarter ends 30 September: August's cluster was hot in the four weeks before the last four
    assert page.locator("path.ah-spot[data-trend=cooling]").count() >= 1

    page.select_option("select[name=hs-view]", "recurring")
    panel_ready(page, view="recurring")
    buildings = page.locator("ol.ah-hs-recurring[data-kind=buildings] > li")
    assert buildings.count() == 1 and buildings.first.get_attribute("data-count") == str(COUNTS[0, 0])
    assert "热点楼" in buildings.first.inner_text()
    assert buildings.first.locator("li[data-number]").count() == COUNTS[0, 0]
    assert page.locator("path.ah-spot").count() == 0  # the list replaces the drawn units
    assert page.errors == []
