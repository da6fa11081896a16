"""gis_data/ cannot rot: the demo district's boundaries and buildings import cleanly, every register
has an import template (CSV and XLSX, the same headers and row), the headers are exactly what
export_data writes (so what import_data reads), and each template's example row loads, in the
order the references need, on top of the demo areas and buildings it refers to."""
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.core.io.registers import REGISTERS
from gridmap.core.io.services import import_file
from gridmap.core.models import Role, User
from gridmap.grids.models import Area, GridLayer
from gridmap.people.models import Household, Person, Visit
from gridmap.places.models import Building, Dwelling, Facility, Organisation, RentedDwelling

GIS_DATA = Path(__file__).resolve().parents[2] / "gis_data"
TEMPLATES = GIS_DATA / "templates"
# Each register after those its references need.
ORDER = ["areas", "buildings", "dwellings", "persons", "households", "rented_dwellings", "organisations",
         "facilities", "visits"]


def columns_of(kind: str) -> list[str]:
    """The columns export_data writes for KIND (the grid's code aside): fields, references, geometry."""
    reg = REGISTERS[kind]
    cols = [c.name for c in reg.columns] + [c for r in reg.refs for c in r.columns]
    if reg.geometry:
        cols += ["lon", "lat"] if reg.geometry.points_only else ["wkt"]
    return list(dict.fromkeys(cols))


def test_every_register_has_a_template_in_both_formats_with_the_export_headers():
    assert sorted(ORDER) == sorted(REGISTERS)
    for kind in ORDER:
        csv = pd.read_csv(TEMPLATES / f"{kind}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        xlsx = pd.read_excel(TEMPLATES / f"{kind}.xlsx", dtype=str, keep_default_na=False)
        assert list(csv.columns) == columns_of(kind), kind
        assert len(csv) == 1 and csv.equals(xlsx), kind


@pytest.fixture
def demo(db):
    """The demo district's areas and buildings from gis_data/demo, and the worker the visit names."""
    GridLayer.objects.create(code="social", name="综治网格", is_primary=True)
    GridLayer.objects.create(code="urban", name="城管网格")
    for kind, rows in (("areas", 46), ("buildings", 382)):
        report = import_file(kind, GIS_DATA / "demo" / f"{kind}.gpkg")
        assert (report.read, report.loaded, report.errors) == (rows, rows, []), kind
    User.objects.create_user(username="worker-01-01-01a", password="x", role=Role.GRID_WORKER)


def test_the_demo_geojson_matches_the_geopackage(demo):
    for kind in ("areas", "buildings"):
        report = import_file(kind, GIS_DATA / "demo" / f"{kind}.geojson")  # the same rows again: an update
        assert (report.loaded, report.errors) == (report.read, []), kind
    assert Area.objects.count() == 46 and Building.objects.count() == 382
    exported = gpd.read_file(GIS_DATA / "demo" / "buildings.gpkg")  # each placed where the demo had it
    placed = dict(Building.objects.values_list("code", "grid__code"))
    assert placed == {c: (g or None) for c, g in zip(exported["code"], exported["grid_code"])}
    assert list(placed.values()).count(None) == 1  # the demo's site dormitory lies outside on purpose


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_every_template_row_loads_in_reference_order(demo, suffix):
    for kind in ORDER:
        report = import_file(kind, TEMPLATES / f"{kind}.{suffix}")
        assert (report.read, report.loaded, report.errors, report.ignored) == (1, 1, [], []), (kind, report.errors)
    grid = Area.objects.get(code="440305001001099")
    assert grid.layer.code == "social" and grid.parent.code == "440305001001"
    building = Building.objects.get(code="4403050010010019901")
    assert building.grid.code == "440305001001001"
    person = Person.objects.get(name="张示例")
    assert person.dwelling == Dwelling.objects.get(building=building, room="301") and person.grid == building.grid
    assert Household.objects.get().head == person
    assert list(RentedDwelling.objects.get().tenants.all()) == [person]
    assert Organisation.objects.get().grid == building.grid
    assert Facility.objects.get().grid.code == "440305001001001"
    assert Visit.objects.get().person == person
