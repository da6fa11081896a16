"""manage.py check_deadlines: warnings, escalation of red events, idempotent and concurrency-safe."""
import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connections

from gridmap.events import selectors, services
from gridmap.events.calendar import TZ
from gridmap.events.management.commands.check_deadlines import Command
from gridmap.events.models import Event, EventAction, Notification
from gridmap.events.workflow import Action, State

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # 0101 neighbour dispute: due Mon 30 Nov 10:00
# The data sit at fixed dates: the whole module runs with the clock moved there.
pytestmark = pytest.mark.time_machine(MONDAY_10)


def run(now: dt.datetime) -> str:
    out = io.StringIO()
    call_command("check_deadlines", now=now.isoformat(), no_progress=True, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


@pytest.fixture
def event(tree, staff, dispute):
    return services.report_event(reporter=staff["patroller"], category=dispute, lon=113.92, lat=22.55,
                                 description="楼道堆放杂物", channel="patrol", now=MONDAY_10).event


def test_help_explains_the_job():
    text = Command().create_parser("manage.py", "check_deadlines").format_help()
    assert "escalate" in text and "twice" in text and "--now" in text


def test_warning_is_raised_once(event, staff):
    at = dt.datetime(2026, 11, 29, 12, 0, tzinfo=TZ)  # past 80 % of the wall-clock time (Sun), before the due time
    assert selectors.clock_status(event, at) == "yellow", (event.warn_at, event.due_at)
    assert run(at) == "warned 1, escalated 0"
    assert run(at) == "warned 0, escalated 0"
    event.refresh_from_db()
    assert event.warned and event.status == State.ASSIGNED
    assert Notification.objects.filter(user=staff["leader_a"], kind="warning").count() == 1


def test_overdue_event_turns_red_escalates_one_level_once(event, tree, staff):
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert selectors.clock_status(event, at) == "red"
    actions_before = EventAction.objects.filter(event=event).count()

    assert run(at) == "warned 0, escalated 1"
    event.refresh_from_db()
    assert event.level == "community" and event.area == tree["community"] and event.assignee == staff["community"]
    assert event.escalations == 1 and event.ever_overdue and event.status == State.ASSIGNED
    assert selectors.clock_status(event, at) == "green"  # the community's own time limit runs from now
    log = list(EventAction.objects.filter(event=event, seq__gt=actions_before).order_by("seq"))
    assert [a.action for a in log] == [Action.ESCALATE, Action.ASSIGN]
    assert len([a for a in log if a.action == Action.ESCALATE]) == 1 and log[0].actor is None

    snapshot = (Event.objects.values().get(pk=event.pk), EventAction.objects.count(), Notification.objects.count())
    assert run(at) == "warned 0, escalated 0"  # the second run changes nothing
    assert snapshot == (Event.objects.values().get(pk=event.pk), EventAction.objects.count(), Notification.objects.count())


def test_paused_events_are_not_escalated(event, staff):
    services.act(event.pk, Action.START, staff["leader_a"], now=MONDAY_10)
    services.act(event.pk, Action.PAUSE, staff["leader_a"], note="等待物业回复", now=MONDAY_10)
    assert run(dt.datetime(2026, 12, 10, 9, 0, tzinfo=TZ)) == "warned 0, escalated 0"


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_escalate_once(tree, staff, dispute):
    events = [services.report_event(reporter=staff["patroller"], category=dispute, lon=113.92, lat=22.55 + i * 1e-4,
                                    description=f"事件{i}", channel="patrol", now=MONDAY_10).event for i in range(6)]
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    results, barrier = [], threading.Barrier(2)

    def job():
        try:
            barrier.wait()
            results.append(services.check_deadlines(now=at))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["escalated"] for r in results) == len(events)
    for e in events:
        assert EventAction.objects.filter(event=e, action=Action.ESCALATE).count() == 1
        e.refresh_from_db()
        assert e.escalations == 1 and e.level == "community"
