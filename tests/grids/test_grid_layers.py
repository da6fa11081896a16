"""Grid layers other than the primary one: many grids of a layer are written at once with the
same checks as one (the map's overlays of them: tests/map/test_grid_layers.py)."""
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from gridmap.grids import selectors, services
from gridmap.grids.models import Area, AreaBoundary, GridLayer
from gridmap.places.models import Facility

from ..conftest import rect


def test_create_grids_writes_many_with_the_checks_of_one(tree, primary_layer):
    layer = GridLayer.objects.create(code="urban", name="城管网格")
    made = services.create_grids(layer, [
        ("440305005001901", "城管1", tree["community"], rect(113.90, 22.50, 113.97, 22.60)),
        ("440305005001902", "城管2", tree["community"], rect(113.97, 22.50, 114.00, 22.60)[0]),  # a polygon will do
    ], reason="城管网格划分")
    for area in made:
        area.refresh_from_db()
        assert area.path == f"{tree['community'].path}{area.pk}/" and area.is_within(tree["street"])
        assert area.layer == layer and area.boundary.geom_type == "MultiPolygon"
        assert area.boundary_versions.get().reason == "城管网格划分"
    # another layer's grids do not clash with the primary grids; records stay in the primary layer
    f = Facility.objects.create(code="x", kind="sign", geom=rect(113.96, 22.52, 113.9601, 22.5201).centroid)
    f.refresh_from_db()
    assert f.grid_id == tree["b"].pk
    assert selectors.grids_at(113.96, 22.52)["urban"] == made[0]

    before = (Area.objects.count(), AreaBoundary.objects.count())
    with pytest.raises(ValidationError, match="would overlap: 440305005001903 and 440305005001901"):
        services.create_grids(layer, [("440305005001903", "城管3", tree["community"], rect(113.96, 22.50, 113.98, 22.60))], reason="x")
    with pytest.raises(ValidationError, match="would overlap: 440305005001903 and 440305005001904"):
        services.create_grids(GridLayer.objects.create(code="m", name="m"), [
            ("440305005001903", "a", tree["community"], rect(113.90, 22.50, 113.95, 22.60)),
            ("440305005001904", "b", tree["community"], rect(113.94, 22.50, 114.00, 22.60))], reason="x")
    with pytest.raises(ValidationError, match="already in use: 440305005001001"):
        services.create_grids(layer, [("440305005001001", "重复", tree["community"], rect(113.90, 22.50, 113.91, 22.51))], reason="x")
    with pytest.raises(ValidationError, match="above the grid level"):
        services.create_grids(layer, [("440305005001905", "x", tree["a"], rect(113.90, 22.50, 113.91, 22.51))], reason="x")
    assert (Area.objects.count(), AreaBoundary.objects.count()) == before  # nothing half-written


@translation.override("en")  # the messages are matched in English (zh-hans translates them)
def test_create_grids_names_the_grid_at_fault(tree, primary_layer):
    layer = GridLayer.objects.create(code="urban", name="城管网格")
    ok = ("440305005001901", "城管1", tree["community"], rect(113.90, 22.50, 113.91, 22.51))
    before = Area.objects.count()
    with pytest.raises(ValidationError, match=r"^\['duplicate grid codes: 440305005001901, 440305005001902'\]$"):
        services.create_grids(layer, [ok, ok, ("440305005001902", "a", tree["community"], rect(113.92, 22.50, 113.93, 22.51)),
                                      ("440305005001902", "b", tree["community"], rect(113.94, 22.50, 113.95, 22.51))])
    with pytest.raises(ValidationError, match="grid 440305005001903 needs a boundary"):  # not an AttributeError
        services.create_grids(layer, [ok, ("440305005001903", "城管3", tree["community"], None)])
    with pytest.raises(ValidationError, match="grid 440305005001904: .*not a valid polygon"):
        services.create_grids(layer, [ok, ("440305005001904", "x", tree["community"], rect(113.92, 22.50, 113.92, 22.51))])
    # the model's own field rules, each naming the grid
    with pytest.raises(ValidationError, match=f"grid {'9' * 33}: code: .*32"):
        services.create_grids(layer, [ok, ("9" * 33, "太长", tree["community"], rect(113.92, 22.50, 113.93, 22.51))])
    with pytest.raises(ValidationError, match="grid 440305005001905: name: "):
        services.create_grids(layer, [ok, ("440305005001905", "", tree["community"], rect(113.92, 22.50, 113.93, 22.51))])
    with pytest.raises(ValidationError, match="grid 440305005001906: name: .*100"):
        services.create_grids(layer, [ok, ("440305005001906", "长" * 101, tree["community"], rect(113.92, 22.50, 113.93, 22.51))])
    assert Area.objects.count() == before


def test_create_grids_runs_as_many_queries_for_many_grids_as_for_one(tree, primary_layer, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    layer = GridLayer.objects.create(code="urban", name="城管网格")
    with CaptureQueriesContext(connection) as one:
        services.create_grids(layer, [("440305005001901", "城管1", tree["community"], rect(113.90, 22.50, 113.91, 22.51))])
    many = [(f"44030500500195{i}", f"城管{i}", tree["community"], rect(113.92 + i / 100, 22.50, 113.925 + i / 100, 22.51)) for i in range(5)]
    with django_assert_num_queries(len(one.captured_queries)):  # field checks run no query per grid
        assert len(services.create_grids(layer, many)) == 5
    assert "FOR UPDATE" in one.captured_queries[1]["sql"]  # the layer's row, locked first (after the savepoint)


@pytest.mark.django_db(transaction=True)
def test_create_grids_waits_for_another_writer_of_the_layer(tree):
    """A second writer of the layer (another connection, holding the layer's row) makes create_grids
    wait: the two cannot both pass the overlap check blind to each other's grids. A lock that
    only guards the row's key (what the grids' foreign key takes) would not stop it.

    The wait is seen in pg_stat_activity (the writer's backend blocked by the holder's), not by a
    lock_timeout: PostgreSQL's timeouts never fire under libfaketime (statement_timeout neither),
    and the suite must say the same thing when run with the clock moved."""
    import threading
    import time

    from django.db import connection, connections, transaction

    layer = GridLayer.objects.create(code="urban", name="城管网格")
    grid = ("440305005001901", "城管1", tree["community"], rect(113.90, 22.50, 113.91, 22.51))
    held, release = threading.Event(), threading.Event()
    pids, created = {}, []

    def other_writer():
        try:
            with transaction.atomic():
                GridLayer.objects.select_for_update(no_key=True).get(pk=layer.pk)
                pids["holder"] = connection.connection.info.backend_pid
                held.set()
                release.wait(60)
        finally:
            connections.close_all()

    def writer():
        try:
            created.extend(services.create_grids(layer, [grid]))
        finally:
            connections.close_all()

    def blocked_by():
        with connection.cursor() as cur:
            cur.execute("SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            return dict(cur.fetchall())

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert held.wait(30)
    second = threading.Thread(target=writer)
    second.start()
    try:
        deadline = time.monotonic() + 30
        while not any(pids["holder"] in blockers for blockers in blocked_by().values()) and time.monotonic() < deadline:
            second.join(0.05)
        waiting = blocked_by()
        assert any(pids["holder"] in blockers for blockers in waiting.values()), "create_grids did not wait for the layer"
        assert second.is_alive() and not layer.grids.exists()
    finally:
        release.set()
        holder.join(30)
        second.join(30)
    assert [a.code for a in created] == [grid[0]]  # once the other is done
    assert list(layer.grids.values_list("code", flat=True)) == [grid[0]]
