"""Real building registers load as they come (issue 10): OpenStreetMap-style footprints with no
name, no or fractional levels ("3.5", "3;4"), height only, OSM column names, broken geometries.
Every valid row loads, in the grid an independent shapely computation gives (point on surface,
covered by the grid polygon read from the fixture, lowest code on a shared edge); every other row
is reported with its row, field, reason (and coordinate for geometry); rows in = loaded + reported."""
import io
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gridmap.core.io.services import import_file
from gridmap.places.models import Building

SAMPLES = Path(__file__).resolve().parents[2] / "gis_data" / "samples"
AREAS, OSM = SAMPLES / "areas_cgcs2000.geojson", SAMPLES / "osm_buildings.geojson"


def grids_of(path) -> list[tuple[str, object]]:
    """The grid polygons of an areas file in WGS84, by code (pyproj + shapely, no database)."""
    gdf = gpd.read_file(path)
    gdf = gdf[gdf["level"] == "grid"]
    t = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True)
    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return sorted(zip(gdf["code"], geoms))


def grid_for(footprint, grids) -> str | None:
    """The documented rule: the grid covering the footprint's point on surface, edges included;
    on a shared edge the lowest code; None outside every grid."""
    point = shapely.point_on_surface(footprint)
    covering = [code for code, g in grids if g.covers(point)]
    return min(covering) if covering else None


@pytest.fixture
def sample_grids(primary_layer):
    """The hand-made sample district (EPSG:4490, 4 irregular grids) loaded through import_data."""
    report = import_file("areas", AREAS)
    assert (report.read, report.loaded, report.errors) == (7, 7, [])
    return grids_of(AREAS)


# --- the shipped OSM-style sample -----------------------------------------------------------

# @id → (name, address, floors_above, height_m, use) of every row that must load
LOADED = {
    "way/1001": ("", "示例路1号", 6, None, "residential"),
    "way/1002": ("", "", 3.5, None, "residential"),
    "way/1003": ("", "", 4, None, "residential"),           # "3;4": the larger
    "way/1004": ("", "", 4, 12, "residential"),             # height only: 12 m / 3 m
    "way/1005": ("", "", None, None, "residential"),        # nothing: unknown
    "way/1006": ("示例小学", "示例路8号", 4, None, "public"),
    "way/1007": ("", "", 2, None, "commercial"),            # `levels`, not `building:levels`
    "way/1008": ("", "", 2, 7.5, "residential"),            # levels win over "7.5 m"
    "relation/2001": ("示例商业中心", "", 5, None, "commercial"),
    "way/1012": ("", "", 3, None, "residential"),           # self-touching ring, repaired
    "way/1013": ("", "", 1, None, "industrial"),            # outside every grid: unassigned
    "way/1014": ("示例车库", "", 1, None, "residential"),    # name:zh
    "way/1015": ("", "", 7, None, "residential"),           # across two grids
    "way/1016": ("", "", 6, 20, "residential"),             # "4;5;6"
    "way/1017": ("", "示例路9号", None, None, "residential"),  # addr:full
}
# row (feature number) → field of every row that must be refused
REFUSED = {10: "floors_above", 11: "footprint", 18: "floors_above", 19: "footprint"}


def osm_code(osm_id: str) -> str:
    kind, number = osm_id.split("/")
    return f"osm-{kind[0]}{number}"


def test_the_osm_sample_loads_every_valid_row_in_the_grid_shapely_gives(sample_grids, tmp_path):
    errors = tmp_path / "errors.csv"
    call_command("import_data", "buildings", str(OSM), "--columns", "osm", "--errors", str(errors), verbosity=0)
    rows = gpd.read_file(OSM)
    report = pd.read_csv(errors, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    refused = report[report["outcome"] == "not loaded"]
    assert dict(zip(refused["row"].astype(int), refused["field"])) == REFUSED
    assert len(rows) == Building.objects.count() + refused["row"].nunique()  # none silently dropped
    assert all(refused["reason"] != "") and all(refused["coordinate"] != "")  # every refused row can be found
    geometry = refused[refused["field"] == "footprint"]
    assert geometry.set_index("row").loc["11", "coordinate"] == "114.1981 22.6976"  # where the bow tie crosses
    assert "Point given" in geometry.set_index("row").loc["19", "reason"]
    assert list(report.loc[report["outcome"] == "repaired", "row"]) == ["12"]

    stored = {b.code: b for b in Building.objects.select_related("grid")}
    assert set(stored) == {osm_code(i) for i in LOADED}
    for i, row in rows.iterrows():
        if row["@id"] not in LOADED:
            continue
        b = stored[osm_code(row["@id"])]
        footprint = row.geometry if row.geometry.is_valid else shapely.make_valid(row.geometry)
        assert (b.grid.code if b.grid else None) == grid_for(footprint, sample_grids), row["@id"]
        assert (b.name, b.address, b.floors_above, b.height_m, b.use) == LOADED[row["@id"]], row["@id"]
    assert stored["osm-w1013"].grid is None
    assert stored["osm-r2001"].grid.code == "440399001001002"  # the courtyard block: its point is north of the edge
    assert stored["osm-w1015"].grid.code == "440399001001003"


def test_a_second_import_updates_and_adds_nothing(sample_grids):
    first = import_file("buildings", OSM, columns="osm")
    again = import_file("buildings", OSM, columns="osm")
    assert first.loaded == again.loaded == 15 and Building.objects.count() == 15


# --- codes, mapping options ---------------------------------------------------------------------

def test_a_footprint_without_code_or_osm_id_gets_a_stable_code(sample_grids, tmp_path):
    poly = shapely.box(114.1966, 22.6968, 114.1969, 22.6970)
    gpd.GeoDataFrame({"name": [None]}, geometry=[poly], crs=4326).to_file(tmp_path / "a.geojson")
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[poly], crs=4490).to_file(tmp_path / "b.gpkg")
    import_file("buildings", tmp_path / "a.geojson")
    code = Building.objects.get().code
    assert re.fullmatch(r"geo-[0-9a-f]{16}", code)
    import_file("buildings", tmp_path / "b.gpkg")  # the same footprint again, in CGCS2000: an update
    assert list(Building.objects.values_list("code", "name")) == [(code, "x")]


def test_explicit_map_options_and_their_errors(sample_grids, tmp_path):
    gpd.GeoDataFrame(
        {"楼名": ["一号楼", None], "层数": ["5", "2;3"], "街路巷": ["示例路", "示例路"], "门牌": ["3号", ""],
         "编号": ["B-1", "B-2"], "备注": ["", ""]},
        geometry=[shapely.box(114.1966, 22.6968, 114.1969, 22.6970), shapely.box(114.2003, 22.6928, 114.2006, 22.6930)],
        crs=4326,
    ).to_file(tmp_path / "bureau.geojson")
    path = str(tmp_path / "bureau.geojson")
    out = io.StringIO()
    call_command("import_data", "buildings", path, "--map", "楼名=name", "--map", "层数=floors_above",
                 "--map", "街路巷+门牌=address", "--map", "编号=code", verbosity=1, stdout=out, stderr=io.StringIO())
    assert "read 2, loaded 2" in out.getvalue() and "columns not read: 备注" in out.getvalue()
    got = {b.code: (b.name, b.address, b.floors_above, b.grid.code) for b in Building.objects.select_related("grid")}
    assert got == {"B-1": ("一号楼", "示例路3号", 5, "440399001001001"), "B-2": ("", "示例路", 3, "440399001001004")}
    with pytest.raises(CommandError, match="has no column floors"):
        call_command("import_data", "buildings", path, "--map", "层数=floors", verbosity=0)
    with pytest.raises(CommandError, match="the file has no column 高度"):
        call_command("import_data", "buildings", path, "--map", "高度=height_m", verbosity=0)
    with pytest.raises(CommandError, match="--columns osm is for buildings"):
        call_command("import_data", "facilities", path, "--columns", "osm", verbosity=0)


# --- generated files (hypothesis) -------------------------------------------------------------

LEVELS = st.one_of(
    st.none(),
    st.integers(0, 60).map(str),
    st.integers(1, 60).map(lambda n: f"{n}.5"),
    st.lists(st.integers(1, 40), min_size=2, max_size=3).map(lambda ns: ";".join(map(str, ns))),
    st.integers(1, 30).map(lambda n: f"{n}层"),
    st.sampled_from(["abc", "-2", "2-3", "many"]),
)
ROW = st.fixed_dictionaries({
    "x": st.floats(114.1950, 114.2035), "y": st.floats(22.6912, 22.6990),
    "w": st.floats(0.00005, 0.0004), "h": st.floats(0.00005, 0.0004),
    "shape": st.sampled_from(["box", "box", "box", "triangle", "bowtie"]),
    "levels": LEVELS, "height": st.one_of(st.none(), st.floats(2, 120).map(lambda v: round(v, 1))),
    "name": st.one_of(st.none(), st.just(""), st.sampled_from(["示例楼", "A栋"])),
    "osm": st.sampled_from(["way/{}", "w{}", "relation/{}", "{}"]),
})


def expected_floors(levels, height):
    """(floors, refused?) by the documented rule, written independently of the importer."""
    if levels:
        parts = [p.removesuffix("层") for p in levels.split(";")]
        try:
            value = max(float(p) for p in parts)
        except ValueError:
            return None, True
        return (None, True) if value < 0 else (value, False)
    if height:
        return float(max(1, math.floor(height / 3 + 0.5))), False
    return None, False


def footprint(r):
    x, y, w, h = r["x"], r["y"], r["w"], r["h"]
    if r["shape"] == "triangle":
        return shapely.Polygon([(x, y), (x + w, y), (x + w / 2, y + h)])
    if r["shape"] == "bowtie":
        return shapely.Polygon([(x, y), (x + w, y + h), (x + w, y), (x, y + h)])
    return shapely.box(x, y, x + w, y + h)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ROW, min_size=1, max_size=10))
def test_generated_osm_files_load_every_valid_row_in_its_grid(sample_grids, tmp_path, rows):
    Building.objects.all().delete()
    path = tmp_path / "gen.geojson"
    ids = [r["osm"].format(5000 + i) for i, r in enumerate(rows)]
    gpd.GeoDataFrame(
        {"@id": ids, "building:levels": [r["levels"] for r in rows], "height": [r["height"] for r in rows],
         "name": [r["name"] for r in rows], "building": ["yes"] * len(rows)},
        geometry=[footprint(r) for r in rows], crs=4326,
    ).to_file(path)
    report = import_file("buildings", path, columns="osm")
    refused = {e.row: e.field for e in report.errors}
    assert report.read == len(rows) == report.loaded + len(refused)
    assert all(e.reason and e.coordinate for e in report.errors)
    assert Building.objects.count() == report.loaded
    for i, (r, osm_id) in enumerate(zip(rows, ids), start=1):
        floors, bad_floors = expected_floors(r["levels"], r["height"])
        if bad_floors:  # read before the geometry: a row is reported once, for its first problem
            assert refused.get(i) == "floors_above", (i, r)
            continue
        if r["shape"] == "bowtie":
            assert refused.get(i) == "footprint", (i, r)
            continue
        assert i not in refused, (i, r, report.errors)
        kind = {"w": "w", "r": "r"}.get(osm_id[0], "w")
        b = Building.objects.select_related("grid").get(code=f"osm-{kind}{5000 + i - 1}")
        assert b.floors_above == floors and b.name == (r["name"] or "")
        assert (b.grid.code if b.grid else None) == grid_for(footprint(r), sample_grids)
