"""Concurrent writers on real connections: two threads (each with its own database connection)
released together by a barrier. Of two actions on one event exactly one wins, the other gets a
Conflict (HTTP 409 through the API), and exactly one log row is added; two deadline jobs running
at once escalate each overdue event exactly once.

These tests commit for real (transactional_db); tests/conftest.py re-seeds the categories and
calendar the closing flush removes."""
import datetime as dt
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import Event, EventAction
from gridmap.events.workflow import Action, State

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls at the same moment, one thread and one connection each; (ok, value) per call."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = (True, call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what we test
            results[i] = (False, exc)
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    return results


def rows(event):
    return list(EventAction.objects.filter(event=event).order_by("seq").values_list("seq", "action"))


@pytest.mark.parametrize("with_version", [True, False], ids=["expected-version", "state-check"])
def test_the_same_action_twice_at_once_one_wins_one_conflicts(tree, staff, report, with_version):
    event = report()
    before = rows(event)
    version = 0 if with_version else None
    results = race(*[lambda: services.act(event.pk, Action.START, staff["leader_a"], expected_version=version)] * 2)
    wins = [v for ok, v in results if ok]
    losses = [v for ok, v in results if not ok]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], services.Conflict) and losses[0].event.status == State.HANDLING
    assert rows(event) == before + [(len(before) + 1, Action.START)]
    fresh = Event.objects.get(pk=event.pk)
    assert fresh.status == State.HANDLING and fresh.version == 1


def test_two_different_actions_on_the_version_they_saw(tree, staff, report):
    """The grid leader starts it while the community escalates it, both from version 0."""
    event = report()
    before = rows(event)
    results = race(
        lambda: services.act(event.pk, Action.START, staff["leader_a"], expected_version=0),
        lambda: services.act(event.pk, Action.ESCALATE, staff["community"], note="社区协调", expected_version=0),
    )
    assert sorted(ok for ok, _ in results) == [False, True], results
    loser = next(v for ok, v in results if not ok)
    assert isinstance(loser, services.Conflict)
    added = rows(event)[len(before):]
    assert added in ([(4, Action.START)], [(4, Action.ESCALATE), (5, Action.ASSIGN)])
    assert Event.objects.get(pk=event.pk).version == 1


def test_through_the_api_the_loser_gets_409_with_the_current_state(tree, staff, report):
    event = report()
    before = rows(event)
    clients = []
    for _ in range(2):
        client = APIClient()
        client.force_login(staff["leader_a"])
        clients.append(client)
    url = f"/api/events/{event.pk}/actions/"
    results = race(*[lambda c=c: c.post(url, {"action": "start", "expected_version": 0}, format="json") for c in clients])
    responses = [v for ok, v in results]
    assert all(ok for ok, _ in results), results
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["status"] == State.HANDLING and conflict["version"] == 1
    assert "start" not in conflict["allowed_actions"] and "reply" in conflict["allowed_actions"]
    assert rows(event) == before + [(len(before) + 1, Action.START)]


def test_two_deadline_jobs_at_once_escalate_each_event_exactly_once(tree, staff, report):
    start = dt.datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
    overdue = [report(lon=113.91 + 0.01 * i, now=start + dt.timedelta(minutes=i)) for i in range(6)]  # grids A and B
    now = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
    results = race(lambda: services.check_deadlines(now=now), lambda: services.check_deadlines(now=now))
    assert all(ok for ok, _ in results), results
    assert sum(v["escalated"] for _, v in results) == len(overdue)
    for event in overdue:
        fresh = Event.objects.get(pk=event.pk)
        assert fresh.escalations == 1 and fresh.level == "community" and fresh.status == State.ASSIGNED
        assert EventAction.objects.filter(event=event, action=Action.ESCALATE).count() == 1
        seqs = [s for s, _ in rows(event)]
        assert seqs == list(range(1, len(seqs) + 1))
    assert services.check_deadlines(now=now) == {"warned": 0, "escalated": 0}
