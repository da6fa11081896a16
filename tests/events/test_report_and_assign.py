"""Reporting routes a point to its grid's leader at once, with a due time."""
import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from gridmap.events import selectors, services
from gridmap.events.calendar import TZ
from gridmap.events.models import Event, Notification
from gridmap.events.workflow import Action, State

MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
# The data sit at fixed dates: the whole module runs with the clock moved there.
pytestmark = pytest.mark.time_machine(MONDAY_10)


def report(staff, category, lon, lat, **kw):
    kw.setdefault("now", MONDAY_10)
    return services.report_event(reporter=staff["patroller"], category=category, lon=lon, lat=lat,
                                 description="楼道堆放杂物", channel="patrol", **kw)


def test_a_report_inside_a_grid_lands_with_its_leader_and_a_due_time(tree, staff, dispute):
    r = report(staff, dispute, 113.92, 22.55)
    event = r.event
    assert r.created and event.status == State.ASSIGNED
    assert (event.grid, event.area, event.assignee) == (tree["a"], tree["a"], staff["leader_a"])
    assert event.due_at == dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)  # 5 working days
    assert [a.action for a in event.actions.all()] == [Action.REPORT, Action.ACCEPT, Action.ASSIGN]
    note = Notification.objects.get(user=staff["leader_a"])
    assert event.number in note.text and "2026-11-30 10:00" in note.text
    assert event.number.startswith("44030520261123")


def test_category_level_routes_to_the_community(tree, staff, db):
    from gridmap.events.models import Category

    labour = Category.objects.get(code="0103")
    event = report(staff, labour, 113.97, 22.55).event
    assert (event.grid, event.area, event.assignee) == (tree["b"], tree["community"], staff["community"])


def test_just_outside_goes_to_the_nearest_grid_flagged_far_outside_to_triage(tree, staff, dispute):
    near = report(staff, dispute, 114.0003, 22.55).event  # ~30 m east of grid B
    assert near.grid == tree["b"] and near.outside_grid and near.assignee == staff["leader_b"]
    far = report(staff, dispute, 114.05, 22.55).event
    assert far.grid is None and far.status == State.REPORTED and far.assignee is None


def test_resend_with_the_same_client_id_is_one_event(tree, staff, dispute):
    cid = uuid.uuid4()
    first = report(staff, dispute, 113.92, 22.55, client_id=cid)
    again = report(staff, dispute, 113.92, 22.55, client_id=cid)
    assert first.created and not again.created and again.event.pk == first.event.pk
    assert Event.objects.count() == 1


def test_bad_points_are_refused_and_nothing_is_stored(tree, staff, dispute):
    with pytest.raises(ValidationError, match="out of range"):
        report(staff, dispute, 113.92, 91)
    assert not Event.objects.exists()


def test_workflow_to_close(tree, staff, dispute):
    event = report(staff, dispute, 113.92, 22.55).event
    leader = staff["leader_a"]
    assert set(selectors.actions_for(leader, event)) >= {Action.START, Action.NOT_OURS}
    services.act(event.pk, Action.START, leader)
    services.act(event.pk, Action.REPLY, leader, note="已清理")
    services.act(event.pk, Action.VERIFY, staff["community"])
    event.refresh_from_db()
    assert event.status == State.CLOSED and event.closed_at
    services.act(event.pk, Action.RATE, staff["patroller"], satisfaction="satisfied")
    assert [a.seq for a in event.actions.all()] == list(range(1, 8))


def test_overdue_escalates_once(tree, staff, dispute):
    event = report(staff, dispute, 113.92, 22.55).event
    late = event.due_at + dt.timedelta(minutes=1)
    assert services.check_deadlines(late) == {"warned": 0, "escalated": 1}
    event.refresh_from_db()
    assert (event.level, event.area, event.assignee, event.status) == ("community", tree["community"], staff["community"], State.ASSIGNED)
    assert event.ever_overdue and event.escalations == 1
    count = event.actions.count()
    assert services.check_deadlines(late) == {"warned": 0, "escalated": 0}
    assert event.actions.count() == count


def test_a_rejected_report_stops_its_clock(tree, staff, dispute):
    event = report(staff, dispute, 114.05, 22.55).event  # far outside: waits in triage
    services.act(event.pk, Action.REJECT, staff["centre"], note="重复上报", now=MONDAY_10 + dt.timedelta(hours=1))
    event.refresh_from_db()
    assert event.status == State.REJECTED and event.closed_at
    assert selectors.clock_status(event, now=event.due_at + dt.timedelta(days=30)) == "green"


def test_assigning_someone_on_leave_gives_it_to_their_deputy(tree, staff, dispute, make_user):
    from gridmap.core.models import Role
    from gridmap.events.models import Leave

    event = report(staff, dispute, 114.05, 22.55).event  # far outside: the centre assigns it by hand
    services.act(event.pk, Action.ACCEPT, staff["centre"], now=MONDAY_10)
    deputy = make_user("deputy_b", Role.GRID_LEADER, tree["b"])
    Leave.objects.create(user=staff["leader_b"], start=MONDAY_10.date(), end=MONDAY_10.date(), deputy=deputy)
    event = services.act(event.pk, Action.ASSIGN, staff["centre"], assignee=staff["leader_b"], now=MONDAY_10)
    assert event.assignee == deputy
