"""Geometry limits on every path that stores a geometry (gridmap/core/geo.py: check_geometry):
coordinate range, vertex count, extent and validity, in the grid services and the admin forms
(a form error on the field, never a 500); and NUL / control characters refused at the input of
search and Open311 (a 4xx, never a PostgreSQL error)."""
import math

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.utils import translation
from django.test import override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.core import geo
from gridmap.core.models import Role
from gridmap.core.validators import (
    has_control_characters,
    validate_no_control_characters,
)
from gridmap.grids import services as grid_services
from gridmap.grids.models import Area, AreaBoundary, Level
from gridmap.places.models import Building, Organisation

from ..conftest import rect

BOW_TIE = "POLYGON((113.91 22.51, 113.94 22.54, 113.94 22.51, 113.91 22.54, 113.91 22.51))"
# grid A's west half with a tiny self-crossing loop at its south-west corner: make_valid keeps
# the area within 1% (the loop is a few m² of a 25 km² polygon)
NEARLY_VALID = ("POLYGON((113.90 22.50, 113.95 22.50, 113.95 22.60, 113.90 22.60, "
                "113.90001 22.49999, 113.90 22.50))")


@pytest.fixture(autouse=True)
def _english(settings):
    """The messages are matched in English, in code and in the admin's pages (zh-hans translates them)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def multi(wkt: str) -> str:
    """A polygon as the admin's map widget sends it for a multipolygon field."""
    return MultiPolygon(GEOSGeometry(wkt), srid=4326).wkt


def ring(n: int, lon=113.925, lat=22.55, r=0.01) -> Polygon:
    coords = [(lon + r * math.cos(2 * math.pi * i / n), lat + r * math.sin(2 * math.pi * i / n)) for i in range(n)]
    return Polygon(coords + [coords[0]], srid=4326)


# --- the one check -------------------------------------------------------------------------------

out_of_range = st.one_of(
    st.tuples(st.floats(-180, 180), st.one_of(st.floats(90.000001, 1e6), st.floats(-1e6, -90.000001))),
    st.tuples(st.one_of(st.floats(180.000001, 1e6), st.floats(-1e6, -180.000001)), st.floats(-90, 90)),
)


@given(out_of_range)
@settings(max_examples=60, deadline=None)
def test_a_coordinate_out_of_range_is_refused_naming_the_vertex(lonlat):
    lon, lat = lonlat
    with pytest.raises(ValidationError) as err:
        geo.check_geometry(Point(lon, lat, srid=4326), kind="point")
    assert err.value.code == "coordinate_out_of_range"
    assert "vertex 1" in err.value.messages[0]
    poly = Polygon(((113.9, 22.5), (113.91, 22.5), (lon, lat), (113.9, 22.5)), srid=4326)
    with pytest.raises(ValidationError) as err:
        geo.check_geometry(poly, kind="boundary")
    assert err.value.code == "coordinate_out_of_range" and "vertex 3" in err.value.messages[0]


@given(st.floats(-180, 180), st.floats(-90, 90))
@settings(max_examples=40, deadline=None)
def test_a_point_in_range_passes_unchanged(lon, lat):
    p = Point(lon, lat, srid=4326)
    assert geo.check_geometry(p, kind="point") is p


def test_vertex_count_extent_and_their_settings():
    with pytest.raises(ValidationError, match="200,000 vertices; at most 20,000"):
        geo.check_geometry(ring(199_999), kind="boundary")
    assert geo.check_geometry(ring(1000), kind="boundary").num_coords == 1001
    with pytest.raises(ValidationError, match=r"spans 2\d\d\.\d km; at most 200 km"):
        geo.check_geometry(rect(113.0, 22.0, 115.1, 22.1), kind="boundary")
    with pytest.raises(ValidationError, match="at most 5 km"):  # a building is smaller than a district
        geo.check_geometry(rect(113.90, 22.50, 114.00, 22.60), kind="footprint")
    with override_settings(GEOMETRY_LIMITS={"boundary": (500, 1000)}):
        geo.check_geometry(rect(113.0, 22.0, 115.1, 22.1), kind="boundary")
        with pytest.raises(ValidationError, match="at most 500"):
            geo.check_geometry(ring(1000), kind="boundary")


def test_a_bow_tie_is_refused_naming_the_spot_and_a_nearly_valid_polygon_is_repaired():
    with pytest.raises(ValidationError) as err:
        geo.check_geometry(GEOSGeometry(BOW_TIE, srid=4326), kind="boundary")
    assert err.value.code == "invalid_geometry"
    assert "Self-intersection at lon 113.925000, lat 22.525000" in err.value.messages[0]
    assert "limit 1%" in err.value.messages[0]
    nearly = GEOSGeometry(NEARLY_VALID, srid=4326)
    assert not nearly.valid
    fixed = geo.check_geometry(nearly, kind="boundary")
    assert fixed.valid and abs(fixed.area - nearly.area) / nearly.area < 0.01
    # the importer's rule is the same code: repair_polygons with the same 1% tolerance
    _out, rep = geo.repair_polygons(shapely.from_wkt([BOW_TIE, NEARLY_VALID]))
    assert list(rep.repaired) == [False, True]


def test_control_characters_validator():
    for bad in ["\x00", "a\x00b", "\x1b[31m", "x\x7f", "\x85"]:
        assert has_control_characters(bad)
        with pytest.raises(ValidationError, match="U\\+00"):
            validate_no_control_characters(bad)
    for good in ["", "南山区 科技园", "line\nbreak\ttab\r", None]:
        assert not has_control_characters(good)
        validate_no_control_characters(good)


# --- the grid services -----------------------------------------------------------------------------

def test_services_refuse_latitude_200_and_a_200000_vertex_ring(tree, primary_layer):
    grid = tree["a"]
    before = grid.boundary
    with pytest.raises(ValidationError, match="lat 200"):
        grid_services.set_boundary(grid, rect(113.90, 22.50, 113.95, 200), reason="test")
    with pytest.raises(ValidationError, match="at most 20,000"):
        grid_services.set_boundary(grid, MultiPolygon(ring(199_999), srid=4326), reason="test")
    with pytest.raises(ValidationError, match="lat 200"):
        grid_services.create_area(code="440305005001009", name="坏网格", level=Level.GRID, parent=tree["community"],
                                  layer=primary_layer, boundary=rect(113.90, 22.50, 113.95, 200))
    with pytest.raises(ValidationError, match="grid 440305005001009: .*lat 200"):
        grid_services.create_grids(primary_layer, [("440305005001009", "坏网格", tree["community"],
                                                    rect(113.90, 22.50, 113.95, 200))])
    grid.refresh_from_db()
    assert grid.boundary.equals(before) and grid.boundary_versions.count() == 1
    assert not Area.objects.filter(code="440305005001009").exists()


def test_services_repair_a_nearly_valid_boundary(tree):
    version = grid_services.set_boundary(tree["a"], GEOSGeometry(NEARLY_VALID, srid=4326), reason="survey")
    tree["a"].refresh_from_db()
    assert version.geom.valid and tree["a"].boundary.valid


# --- the admin: a form error on the field, never a 500 ---------------------------------------------

@pytest.fixture
def boss(make_user):
    return make_user("boss", Role.CENTRE_ADMIN, is_superuser=True)


def _area_form(area: Area, boundary: str) -> dict:
    versions = list(area.boundary_versions.order_by("-version"))
    data = {
        "code": area.code, "name": area.name, "level": area.level, "parent": area.parent_id or "",
        "layer": area.layer_id or "", "leader": "", "phone": "", "boundary": boundary,
        "boundary_versions-TOTAL_FORMS": len(versions), "boundary_versions-INITIAL_FORMS": len(versions),
        "boundary_versions-MIN_NUM_FORMS": 0, "boundary_versions-MAX_NUM_FORMS": 1000,
    }
    for i, v in enumerate(versions):
        data[f"boundary_versions-{i}-id"] = v.pk
        data[f"boundary_versions-{i}-area"] = area.pk
    return data


@pytest.mark.parametrize("boundary, message", [
    (multi(BOW_TIE), "Self-intersection at lon 113.925000, lat 22.525000"),
    (multi("POLYGON((113.90 22.50, 113.95 22.50, 113.95 200, 113.90 22.50))"), "vertex 3 (lon 113.95, lat 200.0) is out of range"),
    (MultiPolygon(ring(199_999), srid=4326).wkt, "at most 20,000"),
    (multi("POLYGON((113.94 22.50, 113.99 22.50, 113.99 22.60, 113.94 22.60, 113.94 22.50))"), "overlaps other grids"),
])
def test_area_admin_shows_a_bad_boundary_as_a_form_error(client, tree, boss, boundary, message):
    client.force_login(boss)
    grid = tree["a"]
    before = grid.boundary
    res = client.post(reverse("admin:grids_area_change", args=[grid.pk]), _area_form(grid, boundary))
    assert res.status_code == 200
    errors = res.context["adminform"].form.errors
    assert message in " ".join(errors["boundary"])
    grid.refresh_from_db()
    assert grid.boundary.equals(before) and AreaBoundary.objects.filter(area=grid).count() == 1


def test_area_admin_add_with_latitude_200_stores_nothing(client, tree, boss, primary_layer):
    client.force_login(boss)
    data = {"code": "440305005001009", "name": "新网格", "level": Level.GRID, "parent": tree["community"].pk,
            "layer": primary_layer.pk, "leader": "", "phone": "",
            "boundary": "MULTIPOLYGON(((113.90 22.50, 113.95 22.50, 113.95 200, 113.90 22.50)))",
            "boundary_versions-TOTAL_FORMS": 0, "boundary_versions-INITIAL_FORMS": 0,
            "boundary_versions-MIN_NUM_FORMS": 0, "boundary_versions-MAX_NUM_FORMS": 1000}
    res = client.post(reverse("admin:grids_area_add"), data)
    assert res.status_code == 200 and "lat 200" in " ".join(res.context["adminform"].form.errors["boundary"])
    assert not Area.objects.filter(code="440305005001009").exists()


def test_area_admin_repairs_a_nearly_valid_boundary(client, tree, boss):
    client.force_login(boss)
    grid = tree["a"]
    res = client.post(reverse("admin:grids_area_change", args=[grid.pk]), _area_form(grid, multi(NEARLY_VALID)))
    assert res.status_code == 302
    grid.refresh_from_db()
    assert grid.boundary.valid and grid.boundary_versions.count() == 2


def test_building_and_organisation_admin_refuse_bad_geometry(client, tree, boss):
    client.force_login(boss)
    building = Building.objects.create(code="B1", footprint=rect(113.91, 22.51, 113.9101, 22.5101))
    data = {"code": "B1", "name": "", "address": "", "use": "residential", "floors_above": "", "building_head": "",
            "footprint": multi(BOW_TIE),
            "dwellings-TOTAL_FORMS": 0, "dwellings-INITIAL_FORMS": 0, "dwellings-MIN_NUM_FORMS": 0, "dwellings-MAX_NUM_FORMS": 1000}
    res = client.post(reverse("admin:places_building_change", args=[building.pk]), data)
    assert res.status_code == 200
    assert "Self-intersection" in " ".join(res.context["adminform"].form.errors["footprint"])
    building.refresh_from_db()
    assert building.footprint.valid

    form_class = client.get(reverse("admin:places_organisation_add")).context["adminform"].form.__class__
    form = form_class(data={"location": "POINT(113.9 200)"})
    assert not form.is_valid() and "lat 200" in " ".join(form.errors["location"])
    assert not Organisation.objects.exists()


# --- NUL and control characters: a clean 4xx -------------------------------------------------------

@pytest.mark.parametrize("q", ["\x00", "南山\x00", "a\x1bb"])
def test_search_refuses_control_characters_with_400(client, tree, boss, q):
    client.force_login(boss)
    res = client.get("/api/search/", {"q": q})
    assert res.status_code == 400
    assert "control characters" in res.json()["q"][0]


@pytest.mark.parametrize("url, status", [
    ("/open311/v2/requests/%00.json", 404),
    ("/open311/v2/requests/E2025%00x.xml", 404),
    ("/open311/v2/services/%00.json", 404),
    ("/open311/v2/tokens/%00.json", 404),
    ("/open311/v2/requests.json?service_request_id=%00", 400),
    ("/open311/v2/requests.json?service_code=01%00", 400),
    ("/open311/v2/requests.json?jurisdiction_id=%01", 400),
])
def test_open311_refuses_control_characters(client, db, url, status):
    res = client.get(url)
    assert res.status_code == status
    if url.split("?")[0].endswith(".json"):
        assert "control character" in res.json()[0]["description"]


def test_open311_post_refuses_control_characters(client, db):
    res = client.post("/open311/v2/requests.json", {"api_key": "k", "service_code": "0101", "description": "a\x00b"})
    assert res.status_code == 400 and "'description' contains a control character" in res.json()[0]["description"]


def test_the_importer_flags_what_the_limits_refuse():
    geoms = shapely.from_wkt([None, "POINT (113.9 22.5)", rect(113.0, 22.0, 115.1, 22.1).wkt,
                              MultiPolygon(ring(199_999), srid=4326).wkt, rect(113.9, 22.5, 113.95, 22.6).wkt])
    many, wide = geo.over_limits(geoms, "boundary")
    assert list(many) == [False, False, False, True, False]
    assert list(wide) == [False, False, True, False, False]
    assert not geo.over_limits(geoms[:2], "point")[1].any()  # points have no extent limit
