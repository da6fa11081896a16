"""hypothesis over the importers (gridmap/core/io, what import_data runs): random bytes, truncated
real files (GeoJSON, GeoPackage, CSV, XLSX from gis_data/) and cells of the wrong type. Every
outcome is either a report or one of the service's clean refusals (FileRefused, ImportRefused,
GeoError), never another exception; a refused file stores nothing, and a report's loaded rows
are all that changed (issue 11)."""
import csv
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap.core.geo import GeoError
from gridmap.core.io.reading import FileRefused
from gridmap.core.io.registers import REGISTERS
from gridmap.core.io.services import ImportRefused, import_file
from gridmap.grids.models import Area
from gridmap.people.models import Household, Person, Visit
from gridmap.places.models import Building, Dwelling, Facility, Organisation, RentedDwelling

from .conftest import fuzz_settings

DATA = Path(__file__).resolve().parents[2] / "gis_data"
MODELS = [Area, Building, Dwelling, Household, Person, Visit, Organisation, Facility, RentedDwelling]
KINDS = sorted(REGISTERS)
# (register, file) pairs of real files to cut short; the demo files are the largest at hand.
REAL = ([("areas", DATA / "demo" / "areas.geojson"), ("buildings", DATA / "demo" / "buildings.geojson"),
         ("areas", DATA / "demo" / "areas.gpkg"), ("buildings", DATA / "demo" / "buildings.gpkg"),
         ("buildings", DATA / "samples" / "osm_buildings.geojson")]
        + [(kind, DATA / "templates" / f"{kind}.{ext}") for kind in KINDS for ext in ("csv", "xlsx")
           if (DATA / "templates" / f"{kind}.{ext}").exists()])
SUFFIXES = [".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".shp"]

# A cell of the wrong type: numbers where text is due, text where numbers or dates are, empty,
# control characters, very long, formulas, coordinates out of range.
CELLS = st.one_of(
    st.text(max_size=30), st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True).map(str),
    st.sampled_from(["", " ", "NaN", "inf", "-1", "0", "1e308", "2025-02-30", "not a date", "yes", "是", "\x00",
                     "=1+1", "POINT (200 100)", "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))", "POLYGON EMPTY", "x" * 500,
                     "440305198506159016", "4403050010010019901"]),
)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def attempt(kind: str, path: Path, **kw) -> None:
    """Import; a refusal stores nothing, a report stores exactly the rows it says it loaded."""
    before = counts()
    try:
        report = import_file(kind, path, **kw)
    except (FileRefused, ImportRefused, GeoError) as exc:
        assert str(exc), "a refusal says why"
        assert counts() == before, f"{type(exc).__name__} but rows were stored"
        return
    after = counts()
    assert 0 <= report.loaded <= report.read
    if report.loaded == 0:
        assert after == before


def write(data: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    with handle:
        handle.write(data)
    return Path(handle.name)


@pytest.fixture
def area_tree(tree):
    return tree


@given(kind=st.sampled_from(KINDS), suffix=st.sampled_from(SUFFIXES), data=st.binary(max_size=2048))
@fuzz_settings(short=60)
def test_random_bytes_are_refused_cleanly(area_tree, kind, suffix, data):
    path = write(data, suffix)
    try:
        attempt(kind, path)
    finally:
        path.unlink()


@given(which=st.sampled_from(REAL), cut=st.floats(0, 1, exclude_max=True), strict=st.booleans())
@fuzz_settings(short=30)
def test_truncated_real_files_are_refused_cleanly_or_load_what_they_hold(area_tree, which, cut, strict):
    kind, source = which
    data = source.read_bytes()
    path = write(data[:int(len(data) * cut)], source.suffix)
    try:
        attempt(kind, path, strict=strict)
    finally:
        path.unlink()


@given(kind=st.sampled_from(KINDS), suffix=st.sampled_from([".csv", ".xlsx"]), strict=st.booleans(),
       rows=st.lists(st.lists(CELLS, min_size=0, max_size=25), min_size=1, max_size=4))
@fuzz_settings(short=60)
def test_cells_of_the_wrong_type_are_reported_not_raised(area_tree, kind, suffix, strict, rows):
    template = DATA / "templates" / f"{kind}.csv"
    header = next(csv.reader(io.StringIO(template.read_text(encoding="utf-8-sig")))) if template.exists() else ["code"]
    rows = [(row + [""] * len(header))[:len(header)] for row in rows]
    if suffix == ".csv":
        out = io.StringIO()
        csv.writer(out).writerows([header, *rows])
        data = out.getvalue().encode("utf-8")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        for row in [header, *rows]:
            sheet.append([_xlsx_safe(c) for c in row])
        buf = io.BytesIO()
        book.save(buf)
        data = buf.getvalue()
    path = write(data, suffix)
    try:
        attempt(kind, path, strict=strict)
    finally:
        path.unlink()


def _xlsx_safe(cell: str) -> str:
    """openpyxl refuses control characters in a cell (the file could not hold them)."""
    return "".join(ch for ch in cell if ch >= " " or ch in "\t\n\r")


# What the fuzzing found, kept as plain cases (the short run need not draw them again).

def test_a_households_file_without_any_household_number_is_reported(area_tree, tmp_path):
    """pandas' groupby transform failed when every number was empty (fixed in registers.py)."""
    path = tmp_path / "households.csv"
    path.write_text("number,kind,building_code,unit,room,member_id_number,relation\n,family,,,,,head\n", encoding="utf-8")
    report = import_file("households", path)
    assert report.loaded == 0 and report.errors
    assert Household.objects.count() == 0


@pytest.mark.parametrize("cell", ["1e308", "inf", "-inf", "99999999999999999999"])
def test_an_integer_cell_too_large_for_any_integer_is_a_row_error(area_tree, tmp_path, cell):
    """The cast to a 64-bit integer raised on inf and 1e308 (fixed in parsing.parse_int)."""
    path = tmp_path / "buildings.csv"
    path.write_text("code,name,floors_above,wkt\n"
                    f'X1,楼,{cell},"POLYGON ((113.92 22.55, 113.9205 22.55, 113.9205 22.5505, 113.92 22.55))"\n',
                    encoding="utf-8")
    report = import_file("buildings", path)
    assert report.loaded == 0
    assert [(i.row, i.field) for i in report.errors] == [(2, "floors_above")]
    assert Building.objects.count() == 0
