"""The report path's cost in SQL statements (an upper bound, so it cannot creep back up), and the
shortcuts that keep it there: the per-process copy of the categories, time limits and calendar is
never stale, and the hand-built response is exactly what ReportedSerializer would give."""
import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridmap.events import services
from gridmap.events.api import ReportedSerializer
from gridmap.events.calendar import TZ
from gridmap.events.models import CalendarDay, Category, Duty, Event, Leave, TimeLimit
from gridmap.events.workflow import State

URL = "/api/events/report/"
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
# The data sit at fixed dates: the whole module runs with the clock moved there.
pytestmark = pytest.mark.time_machine(MONDAY_10)

# What one report costs, measured inside the test's transaction (savepoints where production has
# BEGIN/COMMIT), the caches warm: session, user, category (the request); resend check, placement
# (grid, building, configuration stamp and who is on duty, in one query), the assignee's user row,
# possible duplicates, savepoint, the placed grid held and checked (a boundary change may have
# committed since), insert, release, the 3 log rows, the duplicate links, the number, the inbox.
# Before this bound the same report took 26 statements.
REPORT_STATEMENTS = 17
SERVICE_STATEMENTS = 10  # report_event alone (its own transaction, no duplicates, no client id: no inner savepoint)


def post(client, lon, lat, **kw):
    body = {"category": "0101", "description": "井盖缺失", "lon": lon, "lat": lat, "client_id": str(uuid.uuid4()), **kw}
    return client.post(URL, body, content_type="application/json")


def report(staff, category, lon=113.92, lat=22.55, **kw):
    kw.setdefault("now", MONDAY_10)
    return services.report_event(reporter=staff["patroller"], category=category, lon=lon, lat=lat,
                                 description="楼道堆放杂物", channel="patrol", **kw).event


def test_a_report_through_the_api_stays_within_its_statement_budget(client, tree, staff, dispute):
    client.force_login(staff["patroller"])
    assert post(client, 113.92, 22.55).status_code == 201  # warms this process's configuration copy
    with CaptureQueriesContext(connection) as queries:
        r = post(client, 113.92, 22.55)  # the same spot: a possible duplicate of the first, linked
    assert r.status_code == 201, r.content
    assert len(queries) <= REPORT_STATEMENTS, "\n".join(q["sql"][:200] for q in queries.captured_queries)
    event = Event.objects.get(pk=r.json()["id"])
    assert event.status == State.ASSIGNED and event.actions.count() == 3 and event.possible_duplicates.count() == 1


def test_the_service_alone_and_no_link_statement_without_duplicates(tree, staff, dispute):
    report(staff, dispute)
    with CaptureQueriesContext(connection) as queries:
        event = report(staff, dispute, lon=113.91, lat=22.51)  # far from the first: no duplicate
    assert len(queries) <= SERVICE_STATEMENTS, "\n".join(q["sql"][:200] for q in queries.captured_queries)
    assert not any("possible_duplicates" in q["sql"] for q in queries.captured_queries)
    assert event.assignee == staff["leader_a"] and event.possible_duplicates.count() == 0


def test_the_response_is_what_the_serializer_gives(client, tree, staff, dispute):
    client.force_login(staff["patroller"])
    cid = str(uuid.uuid4())
    for lon, status in [(113.92, 201), (113.92, 200)]:  # new, then the resend of the same client id
        r = post(client, lon, 22.55, client_id=cid)
        assert r.status_code == status
        assert r.json() == ReportedSerializer(Event.objects.get(client_id=cid)).data
    outside = post(client, 114.05, 22.55)  # far outside: no grid, nobody assigned, no due time change
    assert outside.status_code == 201
    assert outside.json() == ReportedSerializer(Event.objects.get(pk=outside.json()["id"])).data
    assert outside.json()["grid"] is None and outside.json()["assignee"] is None


def test_configuration_changes_apply_to_the_next_report_whoever_made_them(tree, staff, dispute):
    """Changes that send no signal (queryset updates, raw SQL from another process) included."""
    assert report(staff, dispute).due_at == dt.datetime(2026, 11, 30, 10, tzinfo=TZ)  # 5 working days, from 01
    TimeLimit.objects.filter(category=dispute.parent, urgency="normal").update(amount=2)
    assert report(staff, dispute).due_at == dt.datetime(2026, 11, 25, 10, tzinfo=TZ)
    CalendarDay.objects.bulk_create([CalendarDay(date=dt.date(2026, 11, 24), is_workday=False, name="test")])
    assert report(staff, dispute).due_at == dt.datetime(2026, 11, 26, 10, tzinfo=TZ)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM events_calendarday WHERE date = '2026-11-24'")
    assert report(staff, dispute).due_at == dt.datetime(2026, 11, 25, 10, tzinfo=TZ)
    TimeLimit.objects.create(category=dispute, urgency="normal", amount=3, unit="hours")
    assert report(staff, dispute).due_at == dt.datetime(2026, 11, 23, 13, tzinfo=TZ)
    Category.objects.filter(pk=dispute.pk).update(handling_level="community")
    event = report(staff, dispute)
    assert (event.area, event.assignee) == (tree["community"], staff["community"])


def test_duty_and_leave_are_read_for_the_report_day(tree, staff, dispute, make_user):
    from gridmap.core.models import Role

    assert report(staff, dispute).assignee == staff["leader_a"]
    Duty.objects.create(area=tree["a"], day=MONDAY_10.date(), user=staff["worker_a"])
    assert report(staff, dispute).assignee == staff["worker_a"]
    deputy = make_user("deputy_a", Role.GRID_WORKER, tree["a"])
    Leave.objects.create(user=staff["worker_a"], start=MONDAY_10.date(), end=MONDAY_10.date(), deputy=deputy)
    assert report(staff, dispute).assignee == deputy
    assert report(staff, dispute, now=MONDAY_10 + dt.timedelta(days=1)).assignee == staff["leader_a"]  # no roster that day
