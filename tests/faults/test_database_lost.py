"""The database lost in the middle of the work (its backend terminated, as in a crash): a batch
import, a boundary change and a workflow action are each done whole or not at all, the command
ends with one clear line and exit code 75 (no traceback), and the next call on the same thread
works again on a fresh connection.

These tests commit for real (transactional_db): the work and the killer use separate connections."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db.utils import InterfaceError, OperationalError

from gridmap.core.commands import EX_TEMPFAIL
from gridmap.events import services as event_services
from gridmap.events.models import Event, EventAction
from gridmap.events.workflow import Action, State
from gridmap.grids import services as grid_services
from gridmap.grids.models import Area, AreaBoundary
from gridmap.places.models import Building

from ..core.test_import_export import square, write_buildings
from .killing import Blocker, database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(settings.BASE_DIR)
LOST = (OperationalError, InterfaceError)


def manage(*args, timeout=120):
    env = {**os.environ, "DATABASE_URL": database_url()}
    return subprocess.run([sys.executable, "manage.py", *args], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_import_killed_mid_batch_stores_nothing_says_so_and_runs_again(tree, tmp_path):
    """200 buildings, half in grid A, half in grid B. Grid B's row is locked elsewhere, so the
    import writes every row and then waits at COMMIT in the foreign-key check of grid B (Django's
    foreign keys are checked at commit): killed there, the latest moment before it is stored."""
    rows = [{"code": f"K{i:03d}", "name": f"{i}栋", "floors_above": 6, "use": "residential",
             "geometry": square(113.901 + (i % 100) * 0.0004 + (0.05 if i >= 100 else 0), 22.55)} for i in range(200)]
    path = write_buildings(tmp_path / "buildings.geojson", rows)
    with Blocker("SELECT 1 FROM grids_area WHERE id = %s FOR UPDATE", [tree["b"].pk]) as blocker:
        blocker.kill_waiter("import_data buildings: backend terminated at COMMIT, 200 rows written")
        done = manage("import_data", "buildings", str(path))
    assert blocker.victim["has_written"] and blocker.victim["wait_event_type"] == "Lock", blocker.victim
    assert blocker.victim["query"].upper().startswith("COMMIT"), blocker.victim

    assert done.returncode == EX_TEMPFAIL, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = [line for line in done.stderr.splitlines() if line.startswith("DatabaseGone: ")]
    assert len(message) == 1, done.stderr
    assert "the database connection was lost during the import; nothing from this file was stored" in message[0]
    assert "Run it again" in message[0]
    assert Building.objects.count() == 0  # not one row of the 200

    again = manage("import_data", "buildings", str(path), "-v", "0")
    assert again.returncode == 0, again.stderr
    assert Building.objects.count() == 200
    assert Building.objects.filter(grid=tree["b"]).count() == 100


def test_import_with_no_database_at_all_says_so(tmp_path):
    """Nothing listening where DATABASE_URL points: the same one line, no traceback."""
    path = write_buildings(tmp_path / "b.geojson", [{"code": "X1", "geometry": square(113.92, 22.55)}])
    env = {**os.environ, "DATABASE_URL": f"postgis://gridmap@{str(tmp_path).replace('/', '%2F')}:5999/nothing"}
    done = subprocess.run([sys.executable, "manage.py", "import_data", "buildings", str(path), "-v", "0"],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == EX_TEMPFAIL, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("DatabaseGone: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr


def _boundary(area):
    return (Area.objects.get(pk=area.pk).boundary.wkt,
            list(AreaBoundary.objects.filter(area=area).order_by("version").values_list("version", "valid_to")))


def test_boundary_change_killed_midway_is_not_done_and_the_next_one_works(tree):
    """Grid A shrinks to 113.94 E, so its building at 113.945 E must leave it. The old version is
    closed, the new one written and the grid's boundary updated; then re-placing the building
    waits on a lock another session holds on it, and the connection is killed there: nothing of
    the change is left, the building still in grid A."""
    grid = tree["a"]
    building = Building.objects.create(code="EDGE-1", footprint=MultiPolygon(
        Polygon.from_bbox((113.9448, 22.5500, 113.9452, 22.5503)), srid=4326))
    assert Building.objects.get(pk=building.pk).grid_id == grid.pk
    before = _boundary(grid)
    smaller = MultiPolygon(Polygon.from_bbox((113.90, 22.50, 113.94, 22.60)), srid=4326)
    with Blocker("SELECT 1 FROM places_building WHERE id = %s FOR UPDATE", [building.pk]) as blocker:
        blocker.kill_waiter("set_boundary: backend terminated re-placing what moved, new version written")
        with pytest.raises(LOST):
            grid_services.set_boundary(grid, smaller, reason="收缩")
    assert blocker.victim["has_written"] and blocker.victim["wait_event_type"] == "Lock", blocker.victim
    assert "PLACES_BUILDING" in blocker.victim["query"].upper(), blocker.victim  # re-placing it, blocked
    assert _boundary(grid) == before  # same geometry, same versions, the current one still open
    assert [v for v, to in before[1] if to is None] == [1]
    assert Building.objects.get(pk=building.pk).grid_id == grid.pk

    version = grid_services.set_boundary(Area.objects.get(pk=grid.pk), smaller, reason="收缩")  # same thread
    assert version.version == 2
    assert Area.objects.get(pk=grid.pk).boundary.equals(smaller)
    assert AreaBoundary.objects.filter(area=grid, valid_to__isnull=True).count() == 1
    assert Building.objects.get(pk=building.pk).grid_id is None  # outside every grid now: unassigned


def _event_state(pk):
    event = Event.objects.get(pk=pk)
    log = list(EventAction.objects.filter(event_id=pk).order_by("seq").values_list("seq", "action", "to_status"))
    return event.status, event.version, event.assignee_id, log


def test_workflow_action_killed_midway_is_not_done_and_the_next_one_works(tree, staff, report):
    """START by the grid leader: the event row is updated and the log row written, then the
    commit waits on the actor's user row (the log's foreign key) and the connection is killed:
    status, version and log unchanged."""
    event = report()
    before = _event_state(event.pk)
    assert before[0] == State.ASSIGNED
    leader = staff["leader_a"]
    with Blocker("SELECT 1 FROM core_user WHERE id = %s FOR UPDATE", [leader.pk]) as blocker:
        blocker.kill_waiter("act START: backend terminated at COMMIT, event and log written")
        with pytest.raises(LOST):
            event_services.act(event.pk, Action.START, leader, note="到场")
    assert blocker.victim["has_written"] and blocker.victim["wait_event_type"] == "Lock", blocker.victim
    assert blocker.victim["query"].upper().startswith("COMMIT"), blocker.victim
    assert _event_state(event.pk) == before

    event_services.act(event.pk, Action.START, leader, note="到场", expected_version=before[1])  # same thread
    status, version, _, log = _event_state(event.pk)
    assert status == State.HANDLING and version == before[1] + 1
    assert log == before[3] + [(len(before[3]) + 1, Action.START, State.HANDLING)]


def test_a_lock_refusal_on_a_live_connection_is_not_reported_as_lost(tree):
    """NOWAIT on a row another session holds: an OperationalError from a live server (55P03),
    not a lost connection; it passes through the guard as it is and the connection goes on.
    (Not a statement_timeout: PostgreSQL's timeouts never fire under the CI's libfaketime run.)"""
    from django.db import connection, transaction

    from gridmap.core.commands import database_guard
    with (Blocker("SELECT 1 FROM grids_area WHERE id = %s FOR UPDATE", [tree["a"].pk]),
          pytest.raises(OperationalError) as raised,
          database_guard("lost"), transaction.atomic(), connection.cursor() as cur):
        cur.execute("SELECT 1 FROM grids_area WHERE id = %s FOR UPDATE NOWAIT", [tree["a"].pk])
    assert raised.value.__cause__.pgcode == "55P03"
    assert Area.objects.count() == 5  # the same connection goes on
