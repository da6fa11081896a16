"""The boundary editor in chromium (issue 12, deliverable 9): a centre user opens /editor/, chooses
the community, draws a split line across grid A with the mouse, sees in the preview as many
buildings moving as shapely counts on the far side of that line, commits with a reason, and
finds each building in the grid of its side, and the map as of yesterday still shows grid A
whole; under the site's exact content security policy, with no page error. Screenshot in
tests/artifacts/."""
import datetime as dt
import re

import pytest
import shapely
from shapely.ops import split

from gridmap.core import clock
from gridmap.grids.models import Area, AreaBoundary
from gridmap.places.models import Building

from ..conftest import rect
from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")
EXACT_CSP = True  # the production policy as it is: the editor and Geoman need no eval (conftest.py)

A_CODE, NEW_CODE = "440305005001001", "440305005001003"
LINE = [(113.893, 22.562), (113.962, 22.561)]  # across grid A (113.90–113.95), ending in grid B


@pytest.fixture
def houses(tree):
    """Five small buildings in grid A, north and south of the line, and one in grid B."""
    spots = [(113.91, 22.58), (113.93, 22.59), (113.92, 22.53), (113.94, 22.52), (113.91, 22.555), (113.97, 22.58)]
    for i, (x, y) in enumerate(spots):
        Building.objects.create(code=f"H{i}", footprint=rect(x, y, x + 0.0002, y + 0.0002))
    return list(Building.objects.order_by("code"))  # with the location the database gave each


def screen_point(page, lon, lat):
    return page.evaluate("""([lon, lat]) => { const m = window.gridmap.map, p = m.latLngToContainerPoint([lat, lon]);
        const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""", [lon, lat])


def test_centre_splits_a_grid_on_the_map_and_the_buildings_follow(live_server, page, artifacts, tree, staff, houses):
    # the grids were drawn ten days ago, so yesterday's map has its own version of grid A
    for version in AreaBoundary.objects.all():
        AreaBoundary.objects.filter(pk=version.pk).update(valid_from=version.valid_from - dt.timedelta(days=10))
    login(page, live_server, "centre")
    page.click("[data-testid=editor-link]")  # the map's header offers the editor to the centre
    page.wait_for_selector("#map[data-state=ready]")
    with page.expect_navigation():
        page.select_option("[data-testid=parent]", str(tree["community"].pk))
    page.wait_for_selector("#map[data-state=ready]")
    assert page.locator("path.ed-grid").count() == 2

    page.click("[data-tool=split]")
    start, end = (screen_point(page, *p) for p in LINE)
    page.mouse.click(*start)
    page.mouse.click(*end)
    page.mouse.click(*end)  # a click on the last point ends the line (Geoman)
    page.wait_for_selector("#map[data-check=ok]")

    # the line as the page sent it, cut through grid A by shapely: the smaller piece is the new grid
    line = shapely.geometry.shape(page.evaluate("window.gridmap.state.op.line"))
    (a,) = shapely.from_wkb(bytes(tree["a"].boundary.wkb)).geoms
    pieces = sorted(shapely.get_parts(split(a, line)), key=lambda p: p.area)
    assert len(pieces) == 2
    moving = {b.code for b in houses if pieces[0].contains(shapely.Point(b.location.coords))}
    assert moving == {"H0", "H1"}

    page.click("[data-testid=preview-button]")
    page.wait_for_selector("#map[data-preview=ready]")
    cell = page.locator(f'[data-testid=preview] td[data-kind=buildings][data-from="{A_CODE}"][data-to="{NEW_CODE}"]')
    assert cell.inner_text() == str(len(moving))
    assert page.locator(".ed-moved").count() == len(moving)  # highlighted on the map
    page.fill("[data-testid=reason]", "新楼盘入住，网格超过500户")
    page.screenshot(path=str(artifacts / "boundary_editor_preview.png"))
    page.click("[data-testid=commit]")
    page.wait_for_selector("#map[data-commit=done]")
    assert page.locator("path.ed-grid").count() == 3  # the sheet reloaded with the new grid
    assert NEW_CODE in page.inner_text("[data-testid=result]")

    grid_of = dict(Building.objects.values_list("code", "grid__code"))
    assert {code for code, grid in grid_of.items() if grid == NEW_CODE} == moving
    assert {code for code, grid in grid_of.items() if grid == A_CODE} == {"H2", "H3", "H4"}
    assert grid_of["H5"] == "440305005001002"
    assert Area.objects.get(code=A_CODE).boundary_versions.first().reason == "新楼盘入住，网格超过500户"

    # the map as of yesterday: grid A whole, two grids; "today" returns to the three of now
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    page.goto(live_server.url)
    page.wait_for_selector("#map[data-state=ready]")
    assert page.locator("path.gm-grid").count() == 3
    page.fill(".gm-as-of input", yesterday)
    page.wait_for_selector(f'#map[data-as-of="{yesterday}"]')
    assert page.locator("path.gm-grid").count() == 2
    assert yesterday in page.inner_text(".gm-as-of-note")
    page.click(".gm-as-of-today")
    page.wait_for_selector('#map[data-as-of=""]')
    assert page.locator("path.gm-grid").count() == 3 and page.locator(".gm-as-of-note").is_hidden()
    # before the first version: no grids, and the note says so rather than showing a blank map
    before = (clock.today() - dt.timedelta(days=20)).isoformat()
    page.fill(".gm-as-of input", before)
    page.wait_for_selector(f'#map[data-as-of="{before}"]')
    assert page.locator("path.gm-grid").count() == 0
    assert page.inner_text(".gm-as-of-note") == f"{before} 尚无边界记录"
    assert page.errors == []


def test_a_drawing_over_a_neighbour_is_refused_with_the_overlap_drawn_and_undone(live_server, page, tree, staff):
    login(page, live_server, "community")  # community staff redraw within their community
    page.goto(f"{live_server.url}/editor/")
    page.wait_for_selector("#map[data-state=ready]")
    page.click("[data-tool=draw]")
    corners = [(113.93, 22.52), (113.97, 22.52), (113.97, 22.54), (113.93, 22.54), (113.93, 22.52)]  # across A and B
    for corner in corners:
        page.mouse.click(*screen_point(page, *corner))
    page.wait_for_selector("#map[data-check=errors]")
    assert page.locator("path.ed-finding-overlap").count() == 2  # over A and over B, in red
    overlaps = page.locator('#ed-findings li[data-kind="overlap"]').all_inner_texts()
    assert len(overlaps) == 2 and all(re.search(r"\d,\d{3},\d{3}", text) for text in overlaps)  # its m², millions
    assert page.locator("[data-testid=commit]").is_disabled()
    page.keyboard.press("Control+z")  # the drawing undone: nothing proposed, nothing to check
    page.wait_for_selector("#map[data-check=idle]")
    assert page.locator("path.ed-finding").count() == 0 and page.locator("#ed-act").is_hidden()
    assert page.errors == []
