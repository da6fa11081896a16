"""The deadline job killed halfway and run again ends exactly where one clean run ends: the same
escalations, each overdue event escalated once, its log's steps contiguous.

Two identical sets of overdue events are made (the same grids, categories and times). The first
is put through one clean run. The second through a run whose connection is killed inside the
transaction of its 5th escalation (everything of that event written, not yet committed), then a
rerun. Both runs check as of the same moment, so the two sets must end identical; the clean set
must be left alone by the later runs (an escalated event gets the upper level's new deadline)."""
import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from gridmap.core.commands import DatabaseGone
from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import Event, EventAction, Notification
from gridmap.events.workflow import Action

from .killing import terminate

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # 0101 neighbour dispute: due Mon 30 Nov 10:00
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)  # every event of the set is overdue
N, KILL_AT = 12, 5
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.time_machine(MONDAY_10)]


def make_set(name, staff, dispute):
    """N overdue events alternating between grid A and grid B, some already warned, one started."""
    pks = []
    for i in range(N):
        event = services.report_event(reporter=staff["patroller"], category=dispute, lon=113.92 if i % 2 else 113.97,
                                      lat=22.55, description=f"{name}-{i:02d}", channel="patrol", now=MONDAY_10).event
        if i % 3 == 0:
            leader = staff["leader_b"] if i % 2 == 0 else staff["leader_a"]
            services.act(event.pk, Action.START, leader, note="到场", now=MONDAY_10 + dt.timedelta(hours=1))
        pks.append(event.pk)
    return pks


def snapshot(pks):
    """Everything the job may change, per event in order, without ids that differ between sets."""
    out = []
    for pk in pks:
        e = Event.objects.select_related("area", "assignee").get(pk=pk)
        log = list(EventAction.objects.filter(event_id=pk).order_by("seq").values_list(
            "seq", "action", "from_status", "to_status", "actor__username", "assignee__username", "at", "note"))
        notes = sorted(Notification.objects.filter(event_id=pk).values_list("user__username", "kind", "text"))
        notes = [(u, k, t.replace(e.number, "#")) for u, k, t in notes]
        out.append((e.status, e.level, e.area.code, e.assignee.username if e.assignee else None, e.escalations,
                    e.ever_overdue, e.warned, e.due_at, e.warn_at, e.version, log, notes))
    return out


def run(**kw) -> str:
    out = io.StringIO()
    call_command("check_deadlines", now=AT.isoformat(), no_progress=True, stdout=out, stderr=io.StringIO(), **kw)
    return out.getvalue().strip()


def test_killed_and_rerun_equals_one_clean_run(tree, staff, dispute, monkeypatch):
    clean = make_set("clean", staff, dispute)
    assert run() == f"warned 0, escalated {N}"
    expected = snapshot(clean)

    killed = make_set("killed", staff, dispute)
    real_act, calls = services.act, []
    reached, gone = threading.Event(), threading.Event()

    def act_then_die(*args, **kw):  # the job's escalation, then the backend dies before its commit
        event = real_act(*args, **kw)
        calls.append(args[0])
        if len(calls) == KILL_AT:
            calls.append(connection.connection.info.backend_pid)
            reached.set()
            assert gone.wait(30)
        return event

    monkeypatch.setattr(services, "act", act_then_die)
    outcome = {}

    def job():
        try:
            outcome["out"] = run()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we test
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=job)
    worker.start()
    assert reached.wait(60), "the job never reached its 5th escalation"
    terminate(calls[-1], "check_deadlines: backend terminated inside the 5th escalation's transaction")
    gone.set()
    worker.join(60)
    monkeypatch.setattr(services, "act", real_act)

    error = outcome.get("error")
    assert isinstance(error, DatabaseGone), outcome
    assert "lost during the deadline job" in str(error) and "Run it again" in str(error)
    escalated = EventAction.objects.filter(event_id__in=killed, action=Action.ESCALATE).count()
    assert escalated == KILL_AT - 1  # the 5th was rolled back whole

    assert run() == f"warned 0, escalated {N - KILL_AT + 1}"
    assert run() == "warned 0, escalated 0"
    got = snapshot(killed)
    assert got == expected, next((g, x) for g, x in zip(got, expected) if g != x)
    assert snapshot(clean) == expected  # the later runs left the clean set alone
    for pk in clean + killed:
        seqs = list(EventAction.objects.filter(event_id=pk).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
        assert EventAction.objects.filter(event_id=pk, action=Action.ESCALATE).count() == 1
