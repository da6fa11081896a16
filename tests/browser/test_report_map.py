"""The standalone map report opens offline (issue 13, deliverable 5): the file the server sends,
saved and opened from file:// in chromium with every http(s) request aborted, draws the map,
each grid of both layers (counts and hotspots), the heatmap's canvas, and the layer switcher —
with no request leaving the file and no error in the page."""
import datetime as dt

import pytest
from django.test import Client

from gridmap.core.models import Role
from gridmap.events.calendar import TZ

from ..analytics.hotspot_lattice import LATTICE_SIDE, counted, lattice  # noqa: F401

MOMENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
pytestmark = pytest.mark.time_machine(MOMENT)


@pytest.mark.django_db
def test_the_saved_report_opens_offline_and_draws_everything(counted, make_user, page, tmp_path, artifacts):
    c = Client()
    c.force_login(make_user("boss", Role.LEADER))
    r = c.get("/analytics/report/map/", {"area": counted["community"].code, "period": "2026-11"})
    assert r.status_code == 200
    saved = tmp_path / "report.html"
    saved.write_bytes(r.content)
    remote = []

    def block(route):
        remote.append(route.request.url)
        route.abort()
    page.route("http://**/*", block)
    page.route("https://**/*", block)
    page.goto(saved.as_uri())
    page.wait_for_selector(".leaflet-container .leaflet-overlay-pane path.leaflet-interactive")
    grids = LATTICE_SIDE ** 2
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 2 * grids  # counts + hotspots
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    assert page.locator(".leaflet-control-layers-overlays label").count() == 3
    assert "格子社区" in page.locator("#gm-report").inner_text()
    page.screenshot(path=str(artifacts / "report_map_offline.png"))
    assert remote == [] and page.errors == []
