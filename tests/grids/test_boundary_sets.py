"""Whole boundary sets: exported as of any moment, imported as one change with the same checks
and preview, matched to the grids by code or by largest overlap, identities kept."""
import datetime as dt
import json

import geopandas as gpd
import pytest
from django.utils import translation
import shapely
from django.core.management import CommandError, call_command

from gridmap.core import clock
from gridmap.grids.models import Area, Redraw
from gridmap.places.models import Building

from ..conftest import rect

A_CODE, B_CODE, NEW_CODE = "440305005001001", "440305005001002", "440305005001003"


def geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(shape)} for props, shape in features]}),
        encoding="utf-8")
    return path


@pytest.fixture
def homes(tree):
    for code, x in (("W", 113.92), ("M", 113.955), ("E", 113.98)):
        Building.objects.create(code=code, footprint=rect(x, 22.55, x + 0.0002, 22.5502))
    return tree


def grid_of(code):
    return Building.objects.get(code=code).grid.code


def test_a_set_is_previewed_then_committed_as_one_change(homes, staff, tmp_path, capsys):
    f = geojson(tmp_path / "new.geojson", [
        ({"code": A_CODE, "name": "网格A"}, shapely.box(113.90, 22.50, 113.96, 22.60)),  # A takes 1 km of B
        ({"name": "B东"}, shapely.box(113.96, 22.50, 114.00, 22.55)),                    # B by overlap (no code)
        ({"name": "新网格"}, shapely.box(113.96, 22.55, 114.00, 22.60)),                 # new
    ])
    call_command("import_boundaries", str(f))
    out = capsys.readouterr().out
    assert "Preview only" in out and "new" in out and "buildings" in out
    assert Redraw.objects.count() == 0 and grid_of("M") == B_CODE  # nothing written
    call_command("import_boundaries", str(f), "--commit", "--reason", "2027年网格调整", "--user", staff["centre"].username)
    redraw = Redraw.objects.get()
    assert redraw.operation == "import" and redraw.author == staff["centre"]
    assert grid_of("W") == A_CODE and grid_of("M") == A_CODE and grid_of("E") == NEW_CODE
    b = Area.objects.get(code=B_CODE)  # matched by overlap: same grid, same code, new shape
    assert b.retired_at is None and shapely.from_wkb(bytes(b.boundary.wkb)).equals(shapely.box(113.96, 22.50, 114.00, 22.55))
    assert Area.objects.get(code=NEW_CODE).name == "新网格"


def test_a_bad_row_refuses_the_file_and_names_it(homes, tmp_path):
    f = geojson(tmp_path / "bad.geojson", [
        ({"code": A_CODE}, shapely.box(113.90, 22.50, 113.95, 22.60)),
        ({"code": B_CODE}, shapely.Polygon([(113.95, 22.5), (114.0, 200.0), (114.0, 22.5)])),
    ])
    with translation.override("en"), pytest.raises(CommandError, match=r"row 2 \(440305005001002\), geometry: .*200"):
        call_command("import_boundaries", str(f), "--commit", "--reason", "x")
    assert Redraw.objects.count() == 0


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_any_version_exports(homes, staff, tmp_path, suffix, time_machine):
    before = clock.now()
    time_machine.move_to(before + dt.timedelta(days=3), tick=False)
    f = geojson(tmp_path / "merged.geojson", [({"code": A_CODE}, shapely.box(113.90, 22.50, 114.00, 22.60))])
    call_command("import_boundaries", str(f), "--commit", "--reason", "合并")
    old, new = tmp_path / f"old{suffix}", tmp_path / f"new{suffix}"
    call_command("export_boundaries", str(old), "--as-of", (before + dt.timedelta(days=1)).isoformat())
    call_command("export_boundaries", str(new))
    assert sorted(gpd.read_file(old)["code"]) == [A_CODE, B_CODE]
    current = gpd.read_file(new)
    assert list(current["code"]) == [A_CODE] and list(current["version"]) == [2]
    assert current.geometry[0].equals(shapely.box(113.90, 22.50, 114.00, 22.60))
