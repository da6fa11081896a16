"""A whole boundary set imported on the editor's page, in chromium (issue 12, deliverable 6): a
centre user chooses a GeoJSON under "Import boundary set…", sees the new set drawn over the old
with each grid's match labelled and as many buildings moving as shapely counts, commits it with a
reason, and finds the buildings in their new grids; a file with a bowtie polygon is refused with
its row named and its spot marked; "Export" downloads the grids as of the chosen day. Under the
site's exact content security policy, with no page error. Screenshots in tests/artifacts/."""
import json
from collections import Counter

import geopandas as gpd
import pytest
import shapely

from gridmap.grids.models import Area, Redraw
from gridmap.places.models import Building

from ..conftest import rect
from .helpers import login

pytestmark = pytest.mark.usefixtures("transactional_db")
EXACT_CSP = True

A_CODE, B_CODE, NEW_CODE = "440305005001001", "440305005001002", "440305005001003"
NEW_SET = {A_CODE: shapely.box(113.90, 22.50, 113.96, 22.60), "": shapely.box(113.96, 22.50, 114.00, 22.55),
           "新": shapely.box(113.96, 22.55, 114.00, 22.60)}
SPOTS = [(113.92, 22.53), (113.955, 22.52), (113.955, 22.58), (113.97, 22.53), (113.98, 22.57), (113.99, 22.59)]


@pytest.fixture
def houses(tree):
    for i, (x, y) in enumerate(SPOTS):
        Building.objects.create(code=f"H{i}", footprint=rect(x, y, x + 0.0002, y + 0.0002))
    return list(Building.objects.order_by("code"))


def geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(shape)} for props, shape in features]},
        ensure_ascii=False), encoding="utf-8")
    return path


def open_editor(page, live_server, tree):
    login(page, live_server, "centre")
    page.goto(f"{live_server.url}/editor/?parent={tree['community'].pk}")
    page.wait_for_selector("#map[data-state=ready]")


def test_centre_imports_a_set_sees_it_over_the_old_one_and_commits(live_server, page, artifacts, tree, staff, houses,
                                                                   tmp_path):
    open_editor(page, live_server, tree)
    f = geojson(tmp_path / "2027年网格.geojson", [({"code": A_CODE, "name": "网格A"}, NEW_SET[A_CODE]),
                                                 ({"name": "网格B"}, NEW_SET[""]), ({"name": "新网格"}, NEW_SET["新"])])
    page.set_input_files("[data-testid=import-file]", str(f))
    page.wait_for_selector("#map[data-import=ready][data-preview=ready]")

    # shapely's count: each building's grid now (A west of 113.95) and in the file (B by overlap)
    def new_grid(p):
        return A_CODE if NEW_SET[A_CODE].contains(p) else B_CODE if NEW_SET[""].contains(p) else NEW_CODE

    moves = Counter()
    for b in houses:
        p = shapely.Point(b.location.coords)
        old = A_CODE if p.x < 113.95 else B_CODE
        if old != new_grid(p):
            moves[old, new_grid(p)] += 1
    assert moves == {(B_CODE, A_CODE): 2, (B_CODE, NEW_CODE): 2}
    for (old, new), n in moves.items():
        cell = page.locator(f'[data-testid=preview] td[data-kind=buildings][data-from="{old}"][data-to="{new}"]')
        assert cell.inner_text() == str(n)
    counts = {k: page.inner_text(f'[data-testid=import-result] [data-count="{k}"]') for k in
              ("rows", "by_code", "by_overlap", "new", "retired")}
    assert counts == {"rows": "3", "by_code": "1", "by_overlap": "1", "new": "1", "retired": "0"}
    assert page.locator("path.ed-imported").count() == 3  # the new set, drawn over the old grids
    labels = page.locator(".ed-match").all_inner_texts()
    assert any(B_CODE in t for t in labels) and any(NEW_CODE in t for t in labels)
    assert page.locator(".ed-moved").count() == sum(moves.values())
    page.fill("[data-testid=reason]", "2027年网格调整")
    page.screenshot(path=str(artifacts / "boundary_set_import_preview.png"))

    page.click("[data-testid=commit]")
    page.wait_for_selector("#map[data-commit=done]")
    assert page.locator("path.ed-grid").count() == 3 and page.locator("path.ed-imported").count() == 0
    assert NEW_CODE in page.inner_text("[data-testid=result]")
    page.screenshot(path=str(artifacts / "boundary_set_import_done.png"))
    assert Redraw.objects.get().operation == "import"
    grid_of = dict(Building.objects.values_list("code", "grid__code"))
    assert grid_of == {b.code: new_grid(shapely.Point(b.location.coords)) for b in houses}
    assert Area.objects.get(code=NEW_CODE).name == "新网格"

    # and the set as of today, downloaded: the three grids of the import
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".geojson" and sorted(gpd.read_file(saved)["code"]) == [A_CODE, B_CODE, NEW_CODE]
    assert page.errors == []


def test_a_bad_file_is_refused_with_its_row_and_spot(live_server, page, artifacts, tree, staff, tmp_path):
    open_editor(page, live_server, tree)
    bowtie = shapely.Polygon([(113.90, 22.50), (113.95, 22.60), (113.95, 22.50), (113.90, 22.60), (113.90, 22.50)])
    f = geojson(tmp_path / "bad.geojson", [({"code": B_CODE}, shapely.box(113.95, 22.50, 114.00, 22.60)),
                                          ({"code": A_CODE}, bowtie)])
    page.set_input_files("[data-testid=import-file]", str(f))
    page.wait_for_selector("#map[data-import=refused]")
    row = page.locator('[data-testid=import-result] li[data-row="2"]')
    assert A_CODE in row.inner_text()
    spot = page.locator(".leaflet-tooltip.ed-spot")  # the spot GEOS names, marked with the row's number
    assert spot.count() == 1 and "2" in spot.inner_text()
    page.wait_for_timeout(500)  # the map pans the spot into view
    marker, spot_xy = page.evaluate("""() => { const m = window.gridmap.map, p = m.latLngToContainerPoint([22.55, 113.925]);
        const r = m.getContainer().getBoundingClientRect(), b = [...document.querySelectorAll("path.leaflet-interactive")]
          .at(-1).getBoundingClientRect();
        return [[b.left + b.width / 2, b.top + b.height / 2], [r.left + p.x, r.top + p.y]]; }""")
    assert marker == [pytest.approx(spot_xy[0], abs=2), pytest.approx(spot_xy[1], abs=2)]
    assert page.locator("#ed-act").is_hidden()  # nothing to commit
    page.screenshot(path=str(artifacts / "boundary_set_import_refused.png"))
    assert Redraw.objects.count() == 0
    # chromium logs the refusal's 400 as a console error; nothing else went wrong
    assert [e for e in page.errors if "status of 400" not in e or "/api/editor/import/" not in e] == []
