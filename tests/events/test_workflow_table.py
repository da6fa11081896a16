"""The transition table, cell by cell, driven from workflow.TRANSITIONS: every allowed
(state, action, role) works for a user of that role and writes exactly its log row; every other
(state, action, role) is refused (Conflict for a move the state does not have, PermissionDenied
for a role the move is not open to) and writes nothing. Then reopening and rating."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from gridmap.core.models import Role
from gridmap.events import selectors, services
from gridmap.events.calendar import TZ
from gridmap.events.models import Department, Event, EventAction, Notification
from gridmap.events.workflow import SYSTEM, TRANSITIONS, Action, State, allowed_actions, transition

ACTIONS = [a for a in Action.values if a != Action.REPORT]


def put_in(event: Event, state: str) -> Event:
    """Set up an event in a state for one cell (test set-up only; the services never do this)."""
    now = timezone.now()
    fields = {"status": state, "paused_at": None, "closed_at": None}
    if state == State.WAITING:
        fields["paused_at"] = now - dt.timedelta(hours=1)
    if state in (State.CLOSED, State.ARCHIVED):
        fields["closed_at"] = now - dt.timedelta(hours=1)
    Event.objects.filter(pk=event.pk).update(**fields)
    return Event.objects.get(pk=event.pk)


def kwargs_for(action):
    return {"note": "理由 reason", "department": Department.objects.get(code="market"),
            "satisfaction": "satisfied" if action == Action.RATE else ""}


def actors(step, by_role, staff):
    """(label, user) for every role the step is open to; the system acts as None."""
    for role in sorted(step.roles):
        if role == SYSTEM:
            yield role, None
        elif role == "reporter":
            yield role, staff["patroller"]
        else:
            yield role, by_role[role]


def snapshot(event):
    e = Event.objects.get(pk=event.pk)
    return (e.status, e.version, e.assignee_id, e.area_id, e.due_at, e.satisfaction,
            EventAction.objects.filter(event=event).count(), Notification.objects.count())


@pytest.mark.parametrize("step", TRANSITIONS, ids=lambda t: f"{t.state}-{t.action}")
def test_every_allowed_cell(step, by_role, staff, report):
    for label, user in actors(step, by_role, staff):
        event = put_in(report(), step.state)
        rows_before = EventAction.objects.filter(event=event).count()
        done = services.act(event.pk, step.action, user, **kwargs_for(step.action))
        expected = step.to or step.state
        logged = list(EventAction.objects.filter(event=event, seq__gt=rows_before).order_by("seq"))
        if step.action == Action.ESCALATE:
            # the upper level (the community) has a leader: it is assigned to them at once
            assert done.status == State.ASSIGNED and done.assignee == staff["community"], label
            assert [(r.action, r.from_status, r.to_status) for r in logged] == [
                (Action.ESCALATE, step.state, State.ACCEPTED), (Action.ASSIGN, State.ACCEPTED, State.ASSIGNED)], label
        else:
            assert done.status == expected, label
            assert [(r.action, r.from_status, r.to_status) for r in logged] == [(step.action, step.state, expected)], label
        assert logged[0].actor == user and done.version == event.version + 1, label
        assert Event.objects.get(pk=event.pk).status == done.status


@pytest.mark.parametrize("state", State.values)
def test_every_other_cell_is_refused_and_writes_nothing(state, by_role, staff, report):
    event = put_in(report(), state)
    users = {**{role: user for role, user in by_role.items()}, "reporter": staff["patroller"], SYSTEM: None}
    before = snapshot(event)
    tried = 0
    for action in ACTIONS:
        step = transition(state, action)
        for label, user in users.items():
            roles = {label} if label != "reporter" else {"reporter", user.role}
            if step is not None and step.roles & roles:
                continue  # allowed: the other test
            with pytest.raises(services.Conflict if step is None else PermissionDenied):
                services.act(event.pk, action, user, **kwargs_for(action))
            tried += 1
    assert snapshot(event) == before
    assert tried >= 50


def test_the_buttons_are_exactly_the_allowed_cells(by_role, staff, report):
    event = report()
    for state in State.values:
        event = put_in(event, state)
        for role, user in by_role.items():
            expected = sorted({t.action for t in TRANSITIONS if t.state == state and role in t.roles})
            assert sorted(selectors.actions_for(user, event)) == expected, (state, role)
        assert sorted(selectors.actions_for(staff["patroller"], event)) == sorted(allowed_actions(state, {Role.GRID_WORKER, "reporter"}))


def test_an_event_of_another_area_cannot_be_acted_on(staff, report):
    event = report()
    with pytest.raises(Event.DoesNotExist):
        services.act(event.pk, Action.START, staff["leader_b"])
    assert Event.objects.get(pk=event.pk).status == State.ASSIGNED


def test_a_reason_is_required_where_the_table_says_so(by_role, staff, report):
    for step in [t for t in TRANSITIONS if t.needs_note]:
        user = next(u for _, u in actors(step, by_role, staff))
        event = put_in(report(), step.state)
        with pytest.raises(ValidationError) as err:
            services.act(event.pk, step.action, user, note="  ", department=Department.objects.get(code="market"))
        assert "note" in err.value.message_dict, step


# --- closing, rating, reopening --------------------------------------------------------------

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday


def closed_event(staff, report, at=T0):
    event = report(now=at)
    services.act(event.pk, Action.START, staff["leader_a"], now=at + dt.timedelta(hours=1))
    services.act(event.pk, Action.REPLY, staff["leader_a"], note="已调解", now=at + dt.timedelta(hours=2))
    return services.act(event.pk, Action.VERIFY, staff["community"], now=at + dt.timedelta(hours=3))


def test_reopen_within_the_window_restarts_the_clock(staff, report, settings):
    settings.EVENT_REOPEN_DAYS = 7
    event = closed_event(staff, report)
    assert event.status == State.CLOSED and event.closed_at == T0 + dt.timedelta(hours=3)
    at = T0 + dt.timedelta(days=7, hours=3)  # exactly at the end of the window
    again = services.act(event.pk, Action.REOPEN, staff["patroller"], note="又堆上了", now=at)
    assert again.status == State.HANDLING and again.closed_at is None
    assert again.due_at == dt.datetime(2026, 12, 7, 13, 0, tzinfo=TZ)  # Mon 30 Nov 13:00 + 5 working days
    assert EventAction.objects.filter(event=event).order_by("-seq").first().action == Action.REOPEN


def test_reopen_after_the_window_is_refused(staff, report, settings):
    settings.EVENT_REOPEN_DAYS = 7
    event = closed_event(staff, report)
    rows = EventAction.objects.filter(event=event).count()
    late = T0 + dt.timedelta(days=7, hours=3, seconds=1)
    with pytest.raises(ValidationError) as err:
        services.act(event.pk, Action.REOPEN, staff["patroller"], note="又堆上了", now=late)
    assert "action" in err.value.message_dict and "7 days" in str(err.value)
    assert Event.objects.get(pk=event.pk).status == State.CLOSED
    assert EventAction.objects.filter(event=event).count() == rows


def test_dissatisfied_reporter_rates_then_reopens(staff, report):
    event = closed_event(staff, report)
    with pytest.raises(PermissionDenied):
        services.act(event.pk, Action.REOPEN, staff["worker_a"], note="not theirs", now=T0 + dt.timedelta(days=1))
    rated = services.act(event.pk, Action.RATE, staff["patroller"], satisfaction="dissatisfied", note="没处理好", now=T0 + dt.timedelta(days=1))
    assert rated.status == State.CLOSED and rated.satisfaction == "dissatisfied"
    reopened = services.act(event.pk, Action.REOPEN, staff["patroller"], note="不满意，重新办理", now=T0 + dt.timedelta(days=1, hours=1))
    assert reopened.status == State.HANDLING and reopened.satisfaction == "dissatisfied"
    log = list(EventAction.objects.filter(event=event).order_by("seq").values_list("action", "actor__username"))
    assert log[-2:] == [(Action.RATE, "patroller"), (Action.REOPEN, "patroller")]
    # handled again, replied and verified: rated anew
    services.act(event.pk, Action.REPLY, staff["leader_a"], note="再次清理", now=T0 + dt.timedelta(days=2))
    services.act(event.pk, Action.VERIFY, staff["community"], now=T0 + dt.timedelta(days=2, hours=1))
    final = services.act(event.pk, Action.RATE, staff["patroller"], satisfaction="satisfied", now=T0 + dt.timedelta(days=3))
    assert final.satisfaction == "satisfied" and final.status == State.CLOSED


def test_a_rating_must_be_one_of_the_four(staff, report):
    event = closed_event(staff, report)
    with pytest.raises(ValidationError) as err:
        services.act(event.pk, Action.RATE, staff["patroller"], satisfaction="great")
    assert "satisfaction" in err.value.message_dict
