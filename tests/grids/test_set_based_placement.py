"""The set-based placement (ASSIGN_SQL, used by regrid, boundary changes and imports) on real
PostGIS: one grid per point by the same rule as gridmap_grid_at where two grids overlap by a
sliver, and the planner settings it needs left behind for the rest of the transaction (found by
tests/bench/bench_intake_faults.py: a boundary change then took 13 s instead of 1, holding the
grids' rows while reports waited)."""
import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction

from gridmap.grids import services
from gridmap.places.models import Facility

from ..conftest import rect

# a 0.2 m × 0.2 m notch of grid B (...002) into grid A (...001), far below the 1 m² overlap allowed
NOTCH = rect(113.95 - 2e-6, 22.55 - 1e-6, 113.95, 22.55 + 1e-6)
ON_NOTCH_EDGE = (113.95 - 2e-6, 22.55)  # strictly inside A, on B's edge


@pytest.fixture
def sliver(tree):
    services.set_boundary(tree["b"], rect(113.95, 22.50, 114.00, 22.60).union(NOTCH), reason="a sliver over A")
    hydrant = Facility.objects.create(code="F1", kind="hydrant", geom=Point(*ON_NOTCH_EDGE, srid=4326))
    edge = Facility.objects.create(code="F2", kind="hydrant", geom=Point(113.95, 22.52, srid=4326))  # on the shared edge
    return {**tree, "hydrant": hydrant, "edge": edge}


def test_a_point_inside_one_grid_and_on_the_edge_of_another_gets_one_row_the_lowest_code(sliver):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(services.ASSIGN_SQL.format(target="_t", table="places_facility", where="t.location IS NOT NULL"))
        cur.execute("SELECT id, grid_id FROM _t ORDER BY id, grid_id")
        rows = cur.fetchall()
        cur.execute("SELECT gridmap_grid_at(ST_SetSRID(ST_MakePoint(%s, %s), 4326))", ON_NOTCH_EDGE)
        (by_trigger_rule,) = cur.fetchone()
    assert by_trigger_rule == sliver["a"].pk
    assert rows == [(sliver["hydrant"].pk, sliver["a"].pk), (sliver["edge"].pk, sliver["a"].pk)]


def test_regrid_places_the_point_by_the_rule(sliver):
    Facility.objects.filter(pk=sliver["hydrant"].pk).update(grid=sliver["b"])  # wherever it was
    services.regrid()
    assert Facility.objects.get(pk=sliver["hydrant"].pk).grid_id == sliver["a"].pk


PLANNER = ["jit", "parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size"]


def planner(cur) -> list[str]:
    cur.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in PLANNER))
    return list(cur.fetchone())


def test_the_rest_of_the_transaction_plans_as_before(sliver):
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL parallel_tuple_cost = 0.5")  # a caller's own setting survives too
        before = planner(cur)
        services.set_boundary(sliver["a"], rect(113.90, 22.50, 113.95, 22.60), reason="redrawn: places again")
        assert planner(cur) == before
    assert before[1] != "0"
