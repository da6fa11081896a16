"""Grid placement by the database: every point lands in exactly one grid by the lowest-code
rule, or in none (unassigned), whether placed by the row triggers or by the bulk regrid."""
import random

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import Point as SPoint
from shapely import Polygon as SPolygon

from gridmap.grids import selectors, services
from gridmap.grids.models import AreaBoundary, GridLayer, Level
from gridmap.people.models import Household, Person
from gridmap.places.models import Building, Dwelling, Facility

from ..conftest import rect

X0, Y0 = 113.90, 22.50
HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def make_grids(layer, polygons):
    """Grids numbered in the order given (caller orders them north-west first, as CJ/T 213)."""
    parent = services.create_area(code="440305005001", name="社区", level=Level.COMMUNITY)
    return [
        services.create_area(code=f"440305005001{i:03d}", name=f"网格{i}", level=Level.GRID, parent=parent, layer=layer, boundary=MultiPolygon(p, srid=4326))
        for i, p in enumerate(polygons, start=1)
    ]


def expected_grid(grids, shapes, x, y):
    covering = [g for g, s in zip(grids, shapes) if s.covers(SPoint(x, y))]
    return min(covering, key=lambda g: g.code).pk if covering else None


def place_points(points):
    Facility.objects.bulk_create(
        Facility(code=f"F{i}", kind="hydrant", geom=Point(x, y, srid=4326)) for i, (x, y) in enumerate(points)
    )
    return dict(Facility.objects.values_list("code", "grid_id"))


@st.composite
def tilings(draw):
    """A random rectangle tiling (shared edges are exact: x = const or y = const), and points
    inside, exactly on edges and vertices, and outside."""
    xs = sorted(set(draw(st.lists(st.integers(1, 99), min_size=1, max_size=4))))
    ys = sorted(set(draw(st.lists(st.integers(1, 99), min_size=1, max_size=4))))
    xs, ys = [0, *xs, 100], [0, *ys, 100]
    coord = lambda v, base: base + v / 1000  # 0..0.1 degree
    cells = []
    for r in reversed(range(len(ys) - 1)):  # north row first
        for c in range(len(xs) - 1):
            cells.append((coord(xs[c], X0), coord(ys[r], Y0), coord(xs[c + 1], X0), coord(ys[r + 1], Y0)))
    on_lines = st.tuples(st.sampled_from(xs), st.integers(-5, 105)) | st.tuples(st.integers(-5, 105), st.sampled_from(ys))
    vertices = st.tuples(st.sampled_from(xs), st.sampled_from(ys))
    anywhere = st.tuples(st.floats(-5, 105), st.floats(-5, 105))
    pts = draw(st.lists(on_lines | vertices | anywhere, min_size=1, max_size=40))
    return cells, [(coord(px, X0), coord(py, Y0)) for px, py in pts]


@HYPO
@given(tilings())
def test_points_land_in_exactly_one_grid_or_none(primary_layer, data):
    cells, points = data
    with transaction.atomic():
        grids = make_grids(primary_layer, [Polygon.from_bbox(c) for c in cells])
        shapes = [SPolygon.from_bounds(*c) for c in cells]
        by_trigger = place_points(points)
        for i, (x, y) in enumerate(points):
            assert by_trigger[f"F{i}"] == expected_grid(grids, shapes, x, y), (x, y)
        # the bulk path gives the same answer as the row triggers
        Facility.objects.update(grid=None)
        services.regrid(tables=["places_facility"])
        assert dict(Facility.objects.values_list("code", "grid_id")) == by_trigger
        # and so does a boundary change's regrid of an extent, which leaves what lies outside alone
        Facility.objects.update(grid=None)
        extent = SPolygon.from_bounds(X0 - 0.01, Y0 - 0.01, X0 + 0.06, Y0 + 0.11)
        services.regrid(extent=rect(*extent.bounds), tables=["places_facility"])
        assert dict(Facility.objects.values_list("code", "grid_id")) == {
            f"F{i}": by_trigger[f"F{i}"] if extent.covers(SPoint(x, y)) else None for i, (x, y) in enumerate(points)}
        transaction.set_rollback(True)


def jittered_lattice(rng, n=4, step=0.01):
    """A lattice of quadrilaterals with jittered interior vertices, shared exactly between neighbours."""
    node = {}
    for i in range(n + 1):
        for j in range(n + 1):
            interior = 0 < i < n and 0 < j < n
            dx, dy = (rng.uniform(-0.3, 0.3) * step, rng.uniform(-0.3, 0.3) * step) if interior else (0, 0)
            node[i, j] = (X0 + i * step + dx, Y0 + j * step + dy)
    quads = []
    for j in reversed(range(n)):
        for i in range(n):
            ring = [node[i, j], node[i + 1, j], node[i + 1, j + 1], node[i, j + 1], node[i, j]]
            quads.append(ring)
    return node, quads


@HYPO
@given(st.integers(0, 10_000))
def test_shared_vertices_of_a_jittered_lattice_go_to_the_lowest_code(primary_layer, seed):
    rng = random.Random(seed)
    node, quads = jittered_lattice(rng)
    with transaction.atomic():
        grids = make_grids(primary_layer, [Polygon(q) for q in quads])
        shapes = [SPolygon(q) for q in quads]
        points = list(node.values()) + [(rng.uniform(X0, X0 + 0.04), rng.uniform(Y0, Y0 + 0.04)) for _ in range(30)]
        placed = place_points(points)
        for i, (x, y) in enumerate(points):
            assert placed[f"F{i}"] is not None or not any(s.covers(SPoint(x, y)) for s in shapes)
            assert placed[f"F{i}"] == expected_grid(grids, shapes, x, y)
        transaction.set_rollback(True)


def test_point_outside_every_grid_is_unassigned_and_listed(tree):
    inside = Facility.objects.create(code="in", kind="camera", geom=Point(113.92, 22.55, srid=4326))
    outside = Facility.objects.create(code="out", kind="camera", geom=Point(114.20, 22.55, srid=4326))
    inside.refresh_from_db(); outside.refresh_from_db()
    assert inside.grid_id == tree["a"].pk
    assert outside.grid_id is None
    assert list(selectors.unassigned(Facility)) == [outside]


def test_shared_edge_goes_to_the_lowest_code(tree):
    on_edge = Facility.objects.create(code="edge", kind="sign", geom=Point(113.95, 22.55, srid=4326))
    on_edge.refresh_from_db()
    assert on_edge.grid_id == tree["a"].pk  # 440305005001001 < 440305005001002
    assert selectors.grid_at(113.95, 22.55) == tree["a"]


def test_line_facility_is_placed_by_a_point_on_the_line(tree):
    pipe = Facility.objects.create(code="L1", kind="other", geom=LineString((113.96, 22.51), (113.99, 22.52), srid=4326))
    pipe.refresh_from_db()
    assert pipe.grid_id == tree["b"].pk
    assert pipe.location.intersects(pipe.geom)


def test_polygon_facility_is_refused(tree):
    with pytest.raises(Exception, match="point or a line"), transaction.atomic():
        Facility.objects.create(code="P", kind="other", geom=Polygon.from_bbox((113.91, 22.51, 113.92, 22.52)))


def populated_building(code, x0):
    building = Building.objects.create(code=code, name=code, footprint=rect(x0, 22.55, x0 + 0.0005, 22.5503))
    dwelling = Dwelling.objects.create(building=building, unit=1, floor=3, room="301")
    household = Household.objects.create(number=f"H{code}", dwelling=dwelling)
    person = Person.objects.create(id_number=f"id-{code}", name="张三", sex="M", birth_date="1980-01-01", dwelling=dwelling)
    return building, dwelling, household, person


def grid_ids(*rows):
    return [type(r).objects.get(pk=r.pk).grid_id for r in rows]


def test_people_take_their_grid_from_dwelling_and_building(tree):
    rows = populated_building("B1", 113.93)
    assert grid_ids(*rows) == [tree["a"].pk] * 4
    building = rows[0]
    building.refresh_from_db()
    assert building.footprint.contains(building.location)


def test_redrawing_a_boundary_versions_it_and_moves_what_it_crossed(tree, leader_a):
    rows = populated_building("B1", 113.945)
    assert grid_ids(*rows) == [tree["a"].pk] * 4
    # grid A gives up its eastern strip to grid B
    services.set_boundary(tree["a"], rect(113.90, 22.50, 113.94, 22.60), author=leader_a, reason="road realigned")
    services.set_boundary(tree["b"], rect(113.94, 22.50, 114.00, 22.60), author=leader_a, reason="road realigned")
    assert grid_ids(*rows) == [tree["b"].pk] * 4
    versions = AreaBoundary.objects.filter(area=tree["a"]).order_by("version")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].valid_to is not None and versions[1].valid_to is None
    assert versions[0].geom.equals(rect(113.90, 22.50, 113.95, 22.60))
    assert versions[1].reason == "road realigned" and versions[1].author == leader_a


def test_moving_a_building_through_the_orm_moves_its_people(tree):
    rows = populated_building("B1", 113.93)
    building = rows[0]
    building.footprint = rect(113.97, 22.55, 113.9705, 22.5503)
    building.save()
    assert grid_ids(*rows) == [tree["b"].pk] * 4


def test_regrid_repairs_tampered_rows_set_based(tree):
    rows = populated_building("B1", 113.93)
    with connection.cursor() as cur:
        cur.execute("SET gridmap.bulk = 'on'")
        for table in ["places_building", "places_dwelling", "people_household", "people_person"]:
            cur.execute(f"UPDATE {table} SET grid_id = NULL")
        cur.execute("RESET gridmap.bulk")
    assert grid_ids(*rows) == [None] * 4
    result = services.regrid()
    assert grid_ids(*rows) == [tree["a"].pk] * 4
    assert result.changed["places_building"] == 1 and result.changed["people_person"] == 1


def test_secondary_layers_are_looked_up_per_layer(tree):
    unit_layer = GridLayer.objects.create(code="unit", name="城管单元网格")
    unit = services.create_area(code="440305005001U01", name="单元网格1", level=Level.GRID, parent=tree["community"], layer=unit_layer, boundary=rect(113.90, 22.50, 114.00, 22.55))
    found = selectors.grids_at(113.96, 22.52)
    assert found == {"social": tree["b"], "unit": unit}
    # records are placed in the primary layer only
    f = Facility.objects.create(code="x", kind="sign", geom=Point(113.96, 22.52, srid=4326))
    f.refresh_from_db()
    assert f.grid_id == tree["b"].pk


def test_writes_after_a_regrid_in_the_same_transaction_are_still_placed(tree):
    with transaction.atomic():
        services.regrid()
        f = Facility.objects.create(code="after", kind="sign", geom=Point(113.97, 22.52, srid=4326))
        f.refresh_from_db()
        assert f.grid_id == tree["b"].pk


def test_a_grid_boundary_that_overlaps_a_sibling_is_refused_and_nothing_changes(tree, leader_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="overlaps other grids of its layer: 440305005001002"):
        services.set_boundary(tree["a"], rect(113.90, 22.50, 113.96, 22.60), author=leader_a, reason="too wide")
    assert AreaBoundary.objects.filter(area=tree["a"]).count() == 1
    # touching along the shared edge is fine
    services.set_boundary(tree["a"], rect(113.91, 22.50, 113.95, 22.60), author=leader_a, reason="narrower")
