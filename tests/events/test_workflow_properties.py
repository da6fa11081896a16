"""Random action sequences by random actors (hypothesis), against the real service and database.

Whatever happens: the status is always a State; each successful action appends exactly its log
row (two for an escalation that lands with a person at once), seq runs 1..n without a gap, each
row starts where the previous one ended and the last ends at the event's status; a refused
action writes nothing. The oracle for refusals is the transition table itself."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from gridmap.events import selectors, services
from gridmap.events.models import Department, Event, EventAction, EventPhoto, Notification
from gridmap.events.workflow import Action, State, transition

ACTORS = ["leader_a", "worker_a", "leader_b", "community", "street", "centre", "patroller", "market_handler", "boss", "system"]
ACTIONS = [a for a in Action.values if a != Action.REPORT]
FORWARD = {Action.ACCEPT, Action.ASSIGN, Action.START, Action.RESUME, Action.REPLY, Action.VERIFY, Action.ARCHIVE,
           Action.REOPEN, Action.RATE, Action.PAUSE, Action.RETURN}

step = st.tuples(
    st.sampled_from(["", "处理说明", "处理说明", "处理说明"]),  # sometimes without the reason the table may require
    st.sampled_from(["", "satisfied", "dissatisfied", "very_satisfied", "bad"]),
    st.booleans(),  # pass the department (market)
    st.integers(0, 9),  # 0: send a stale expected_version
)


def log_of(event):
    return list(EventAction.objects.filter(event=event).order_by("seq").values_list("seq", "action", "from_status", "to_status"))


def state_of(event):
    e = Event.objects.get(pk=event.pk)
    return (e.status, e.version, e.assignee_id, e.area_id, e.department_id, e.due_at, e.paused_at,
            e.closed_at, e.satisfaction, e.escalations, len(log_of(event)),
            Notification.objects.count(), EventPhoto.objects.count())


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=20), east=st.booleans(), data=st.data())
def test_random_sequences_keep_the_log_whole(by_role, staff, report, steps, east, data):
    users = {**{u.username: u for u in [*staff.values(), *by_role.values()]}, "system": None}
    market = Department.objects.get(code="market")
    event = report(lon=113.97 if east else 113.92)  # a fresh event per example (the db lives on across examples)
    expected_rows = len(log_of(event))
    for note, satisfaction, with_department, stale in steps:
        stale = stale == 0
        before = state_of(event)
        current = Event.objects.get(pk=event.pk)
        # mostly a move the state has, by someone the table lets make it (so sequences get
        # somewhere); sometimes any action, by anyone
        possible = sorted({a for a in ACTIONS if transition(current.status, a)})
        forward = [a for a in possible if a in FORWARD] or possible
        pick = data.draw(st.integers(0, 5))
        action = data.draw(st.sampled_from(ACTIONS if pick == 0 or not possible else possible if pick < 3 else forward))
        cell = transition(current.status, action)
        fitting = [w for w in ACTORS if cell and cell.roles & selectors.roles_of(users[w], current)]
        who = data.draw(st.sampled_from(fitting) if fitting and data.draw(st.integers(0, 3)) else st.sampled_from(ACTORS))
        actor = users[who]
        try:
            done = services.act(event.pk, action, actor, note=note, satisfaction=satisfaction,
                                department=market if with_department else None,
                                expected_version=current.version - 1 if stale else None)
        except (services.Conflict, PermissionDenied, ValidationError, Event.DoesNotExist) as exc:
            assert state_of(event) == before, f"{action} by {who} was refused ({exc!r}) but wrote something"
            # the refusal is the table's (or the data's) verdict, never a surprise
            if isinstance(exc, Event.DoesNotExist):
                assert actor is not None and not selectors.can_see(actor, current)
            elif isinstance(exc, services.Conflict):
                assert stale or cell is None
            elif isinstance(exc, PermissionDenied):
                assert cell is not None and not (cell.roles & selectors.roles_of(actor, current))
            continue
        hypothesis_event(f"ok {action}")
        # it succeeded: the table allowed it
        assert not stale and cell is not None and cell.roles & selectors.roles_of(actor, current)
        assert done.status in State.values
        assert done.version == current.version + 1
        added = len(log_of(event)) - expected_rows
        auto_assigned = action == Action.ESCALATE and done.status == State.ASSIGNED
        assert added == (2 if auto_assigned else 1), (action, added)
        expected_rows += added
        assert done.status == (State.ASSIGNED if auto_assigned else (cell.to or current.status))

    rows = log_of(event)
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # seq 1..n, no gap, no duplicate
    assert rows[0][1:3] == (Action.REPORT, "")
    for prev, row in zip(rows, rows[1:]):
        assert row[2] == prev[3], f"row {row[0]} starts at {row[2]}, the previous ended at {prev[3]}"
    final = Event.objects.get(pk=event.pk)
    assert rows[-1][3] == final.status and final.status in State.values
    assert len(rows) == expected_rows
    assert final.version == sum(1 for r in rows if r[0] > 3 and not (r[1] == Action.ASSIGN and rows[r[0] - 2][1] == Action.ESCALATE))
    # the figures the statistics read off the row are the log's
    steps_at = list(EventAction.objects.filter(event=event).order_by("seq").values_list("action", "at"))
    assert final.decided_at == min((at for a, at in steps_at if a in (Action.ACCEPT, Action.REJECT)), default=None)
    assert final.returns == sum(1 for a, _at in steps_at if a == Action.RETURN)
    assert final.reopenings == sum(1 for a, _at in steps_at if a == Action.REOPEN)
