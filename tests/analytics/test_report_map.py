"""The standalone map report (issue 13, deliverable 5): an attachment whose every script and
stylesheet is inline (no http(s) source at all), holding the same per-grid counts and Gi*
classes as the API; scoped like the API."""
import datetime as dt
import json
import re

import pytest
from django.test import Client

from gridmap.analytics import report_map
from gridmap.core.models import Role
from gridmap.events.calendar import TZ

from .hotspot_lattice import COUNTS, counted, fresh_cache, lattice  # noqa: F401

MOMENT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
pytestmark = [pytest.mark.time_machine(MOMENT), pytest.mark.usefixtures("fresh_cache")]
REMOTE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)
PROPERTIES = re.compile(r'"properties": (\{[^{}]*\})')


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def embedded(html: str) -> list[dict]:
    """The feature properties the report's GeoJSON layers carry."""
    return [json.loads(m) for m in PROPERTIES.findall(html)]


@pytest.mark.django_db
def test_the_report_is_offline_and_holds_the_apis_counts(counted, make_user):
    leader = make_user("boss", Role.LEADER)
    area = counted["community"].code
    r = client(leader).get("/analytics/report/map/", {"area": area, "period": "2026-11"})
    assert r.status_code == 200, r.content[:500]
    assert r["Content-Disposition"].startswith("attachment;") and ".html" in r["Content-Disposition"]
    html = r.content.decode()
    assert not REMOTE.findall(html), REMOTE.findall(html)[:3]
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
    assert "L.map(" in html and "L.heatLayer(" in html  # Leaflet and Leaflet.heat used …
    assert "simpleheat" in html  # Leaflet.heat's own code, not a link to it
    api = client(leader).get("/api/analytics/hotspots/", {"area": area, "period": "2026-11"}).json()
    expected = {f["properties"]["code"]: (f["properties"]["count"], f["properties"]["class"], f["properties"]["confidence"])
                for f in api["features"]}
    found = {}
    for p in embedded(html):
        found.setdefault(p["code"], set()).add((p["count"], p["class"], p["confidence"]))
    assert {code: {v} for code, v in expected.items()} == found
    assert sum(c for c, _k, _v in expected.values()) == sum(COUNTS.values())
    assert "格子社区" in html and "2026-11" in html
    assert "Getis-Ord Gi*" in html


@pytest.mark.django_db
def test_the_report_is_scoped_and_checks_its_parameters(counted, lattice, make_user, tree):
    grid_leader = make_user("lead", Role.GRID_LEADER, counted["grids"][0, 0])
    assert client(grid_leader).get("/analytics/report/map/", {"area": counted["community"].code}).status_code == 404
    assert client(grid_leader).get("/analytics/report/map/", {"area": tree["a"].code}).status_code == 404
    own = client(grid_leader).get("/analytics/report/map/").content.decode()
    assert {p["code"] for p in embedded(own)} == {counted["grids"][0, 0].code}
    bad = client(grid_leader).get("/analytics/report/map/", {"period": "soon"})
    assert bad.status_code == 400 and "period" in bad.json()
    assert Client().get("/analytics/report/map/").status_code == 302  # to the sign-in page
    worker = make_user("worker", Role.GRID_WORKER, counted["grids"][0, 0])
    assert client(worker).get("/analytics/report/map/").status_code == 403


def test_every_resource_folium_links_is_known():
    """A folium upgrade that links a new script would stop the report: this names it first."""
    import folium
    from folium.plugins import HeatMap

    for element in (folium.Map, HeatMap, folium.GeoJson, folium.LayerControl, folium.GeoJsonTooltip):
        for name, _url in [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]:
            assert name in report_map.LOCAL, name
