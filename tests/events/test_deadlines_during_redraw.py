"""The deadline job escalating an event of a grid while a boundary change of that grid commits:
both finish. The job writes the event row twice in its transaction (overdue flag, escalation), so
at commit PostgreSQL checks all the row's foreign keys, the grid's included (KEY SHARE); the
change holds the grid's row and its events follower waits for the job's event. When the change
held the grid FOR UPDATE, that was a deadlock and the job's run died (found by
tests/bench/bench_intake_faults.py: 2 of 4 job runs)."""
import datetime as dt
import threading
import time

import pytest
import shapely
from django.db import connection

from gridmap.events import services
from gridmap.events.models import Event, HandlingLevel
from gridmap.events.workflow import Action
from gridmap.grids import proposals
from gridmap.grids import services as grids
from gridmap.grids.models import Redraw

from ..faults.killing import raw_connection

pytestmark = pytest.mark.django_db(transaction=True)
B_GROWN = shapely.box(113.94, 22.50, 114.00, 22.60)  # grid B takes the strip 113.94–113.95 from grid A


def blocked_by(pid: int, timeout: float = 30) -> None:
    """Wait until some backend waits for a lock that backend `pid` holds."""
    conn = raw_connection()
    try:
        with conn.cursor() as cur:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                cur.execute("SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid])
                if cur.fetchone():
                    return
                time.sleep(0.02)
    finally:
        conn.close()
    raise AssertionError(f"nothing waited for backend {pid} within {timeout} s")


def test_the_job_and_a_boundary_change_of_the_events_grid_both_commit(tree, staff, report, monkeypatch):
    event = report(lon=113.945, lat=22.52)  # grid A's, in the strip B takes: the follower will want it
    real_act, errors, results = services.act, [], {}
    escalated, release = threading.Event(), threading.Event()

    def act_then_hold(*args, **kw):  # the job's escalation written, its transaction not yet committed
        done = real_act(*args, **kw)
        results["job_pid"] = connection.connection.info.backend_pid
        escalated.set()
        assert release.wait(30)
        return done

    def job():
        try:
            results["job"] = services.check_deadlines(now=event.due_at + dt.timedelta(hours=1))
        except Exception as exc:  # noqa: BLE001 - the outcome is what we test
            errors.append(exc)
        finally:
            connection.close()

    def redraw():
        try:
            results["redraw"] = grids.commit_redraw(proposals.reshape(tree["b"], B_GROWN), author=staff["centre"], reason="道路改线")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    monkeypatch.setattr(services, "act", act_then_hold)
    threads = [threading.Thread(target=job)]
    threads[0].start()
    assert escalated.wait(30), errors
    threads.append(threading.Thread(target=redraw))
    threads[1].start()
    blocked_by(results["job_pid"])  # the follower waits for the job's event
    release.set()
    for t in threads:
        t.join(60)
    assert errors == []
    assert results["job"] == {"warned": 0, "escalated": 1} and Redraw.objects.count() == 1
    event = Event.objects.get(pk=event.pk)
    assert event.level == HandlingLevel.COMMUNITY and event.area == tree["community"]
    assert event.actions.filter(action=Action.ESCALATE).count() == 1
