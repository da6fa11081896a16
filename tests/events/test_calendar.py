"""Deadline arithmetic over the seeded 2025/2026 calendar, pause and resume, and the deadline job.

The rule (calendar.py): Monday–Friday are working days except the CalendarDay rows (holidays
on weekdays 休, make-up working days on weekends 班). N working days end at the same time of
day on the Nth working day after the start; a start on a non-working day counts from 00:00 of
the next working day. Hours are wall-clock hours. The expected values below are worked out by
hand from that rule and the State Council's 2025/2026 notices (seeded in migration 0002):
  2025 国庆/中秋: Wed 1 – Wed 8 Oct off; Sun 28 Sep and Sat 11 Oct worked.
  2026 元旦: Thu 1 – Sat 3 Jan off; Sun 4 Jan worked.
  2026 春节: Sun 15 – Mon 23 Feb off; Sat 14 Feb and Sat 28 Feb worked.
"""
import datetime as dt

import pytest

from gridmap.events import selectors, services
from gridmap.events.calendar import TZ, WorkCalendar
from gridmap.events.models import Category, Event, EventAction, LimitUnit, Notification
from gridmap.events.workflow import Action, State


def at(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


WORKDAY_CASES = [
    # start, working days, due, why
    (at(2025, 9, 30, 10), 5, at(2025, 10, 14, 10), "Tue before 国庆: 9,10 Oct, Sat 11 (make-up), 13, 14"),
    (at(2025, 9, 30, 10), 15, at(2025, 10, 28, 10), "…then 15,16,17,20,21,22,23,24,27,28 Oct"),
    (at(2025, 9, 26, 17), 5, at(2025, 10, 10, 17), "Fri: Sun 28 Sep (make-up), 29, 30, 9, 10 Oct"),
    (at(2025, 9, 28, 15), 2, at(2025, 9, 30, 15), "reported on the make-up Sunday: it is a working day"),
    (at(2025, 9, 27, 15), 2, at(2025, 9, 30, 0), "Sat 27 Sep off: counts from Sun 28 00:00 (make-up) → 29, 30"),
    (at(2025, 10, 3, 11), 1, at(2025, 10, 10, 0), "reported on the holiday: from Thu 9 Oct 00:00, one day → 10 Oct"),
    (at(2025, 10, 10, 9), 1, at(2025, 10, 11, 9), "Fri 10 Oct + 1 = Sat 11 Oct, a make-up working day"),
    (at(2025, 10, 11, 9), 1, at(2025, 10, 13, 9), "Sat 11 Oct (make-up) + 1 = Mon 13, Sunday 12 skipped"),
    (at(2026, 11, 20, 10), 2, at(2026, 11, 24, 10), "an ordinary weekend: Fri → Mon 23, Tue 24"),
    (at(2026, 11, 21, 9, 30), 1, at(2026, 11, 24, 0), "Sat: from Mon 23 00:00, one day → Tue 24 00:00"),
    (at(2025, 12, 31, 16), 2, at(2026, 1, 5, 16), "元旦: 1–3 Jan off, Sun 4 Jan (make-up), Mon 5"),
    (at(2026, 2, 13, 9), 3, at(2026, 2, 25, 9), "春节: Sat 14 Feb (make-up), 15–23 off, 24, 25"),
    (at(2026, 2, 27, 18), 1, at(2026, 2, 28, 18), "Fri 27 Feb + 1 = Sat 28 Feb, make-up"),
]


@pytest.mark.parametrize("start,days,due,why", WORKDAY_CASES, ids=[c[3][:40] for c in WORKDAY_CASES])
def test_working_days_over_the_seeded_calendar(db, start, days, due, why):
    assert WorkCalendar().add(start, days, LimitUnit.WORKDAYS) == due, why


def test_the_seeded_days_are_what_the_notices_say(db):
    cal = WorkCalendar()
    assert cal.is_workday(dt.date(2025, 9, 28)) and cal.is_workday(dt.date(2025, 10, 11))  # Sun, Sat worked
    assert not any(cal.is_workday(dt.date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_workday(dt.date(2025, 10, 9)) and not cal.is_workday(dt.date(2025, 10, 12))
    assert cal.is_workday(dt.date(2026, 2, 14)) and not cal.is_workday(dt.date(2026, 2, 23))


def test_hours_are_wall_clock_hours_holidays_included(db):
    cal = WorkCalendar()
    assert cal.add(at(2025, 9, 30, 22), 24, LimitUnit.HOURS) == at(2025, 10, 1, 22)
    assert cal.add(at(2025, 10, 4, 23, 30), 4, LimitUnit.HOURS) == at(2025, 10, 5, 3, 30)
    assert cal.add(at(2026, 11, 21, 10), 1, LimitUnit.HOURS) == at(2026, 11, 21, 11)


def test_the_calendar_is_data(db):
    """A day added by the centre changes the arithmetic at once (no code change)."""
    from gridmap.events.models import CalendarDay

    start = at(2026, 11, 20, 10)
    assert WorkCalendar().add(start, 1, LimitUnit.WORKDAYS) == at(2026, 11, 23, 10)
    CalendarDay.objects.create(date=dt.date(2026, 11, 23), is_workday=False, name="test holiday")
    CalendarDay.objects.create(date=dt.date(2026, 11, 21), is_workday=True, name="test make-up")
    assert WorkCalendar().add(start, 1, LimitUnit.WORKDAYS) == at(2026, 11, 21, 10)
    assert WorkCalendar().add(start, 2, LimitUnit.WORKDAYS) == at(2026, 11, 24, 10)


@pytest.mark.parametrize("code,urgency,due", [
    ("0101", "normal", at(2025, 10, 14, 10)),  # 5 working days, inherited from 01
    ("0101", "urgent", at(2025, 10, 10, 10)),  # 2 working days: 9, 10 Oct
    ("0101", "critical", at(2025, 10, 1, 10)),  # 24 hours, the holiday does not stop the clock
    ("0203", "normal", at(2025, 10, 1, 10)),  # gas: 24 hours of its own
    ("0203", "critical", at(2025, 9, 30, 12)),  # gas: 2 hours
    ("0103", "normal", at(2025, 10, 28, 10)),  # labour: 15 working days
    ("0103", "urgent", at(2025, 10, 28, 10)),  # no urgent limit on 0103: its normal one applies
    ("06", "critical", at(2025, 9, 30, 11)),  # special population: 1 hour
])
def test_a_report_gets_its_due_time_from_category_urgency_and_calendar(tree, staff, report, code, urgency, due):
    start = at(2025, 9, 30, 10)
    event = report(category=Category.objects.get(code=code), urgency=urgency, now=start)
    assert event.due_at == due
    assert event.warn_at == start + (due - start) * 0.8


# --- pause and resume ------------------------------------------------------------------------

T0 = at(2026, 11, 23, 10)  # Monday; 5 working days → Mon 30 Nov 10:00


def test_pause_freezes_the_clock_and_resume_shifts_the_due_time(tree, staff, report):
    event = report(now=T0)
    assert event.due_at == at(2026, 11, 30, 10) and event.warn_at == at(2026, 11, 29, 0, 24)  # 80% of 7 days = 5 d 14 h 24 min
    leader = staff["leader_a"]
    services.act(event.pk, Action.START, leader, now=T0 + dt.timedelta(hours=1))
    paused = services.act(event.pk, Action.PAUSE, leader, note="等待当事人回复", now=at(2026, 11, 24, 10))
    assert paused.status == State.WAITING and paused.paused_at == at(2026, 11, 24, 10)
    # long past the original due time: still green (frozen), and the job leaves it alone
    later = at(2026, 12, 1, 12)
    assert selectors.clock_status(paused, later) == "green"
    assert services.check_deadlines(now=later) == {"warned": 0, "escalated": 0}
    resumed = services.act(event.pk, Action.RESUME, leader, now=later)
    held = later - at(2026, 11, 24, 10)  # 7 days 2 hours
    assert resumed.status == State.HANDLING and resumed.paused_at is None
    assert resumed.due_at == at(2026, 11, 30, 10) + held == at(2026, 12, 7, 12)
    assert resumed.warn_at == at(2026, 12, 6, 2, 24)
    assert selectors.clock_status(resumed, later) == "green"
    assert selectors.clock_status(resumed, at(2026, 12, 6, 3)) == "yellow"
    assert selectors.clock_status(resumed, at(2026, 12, 7, 12, 1)) == "red"
    steps = list(EventAction.objects.filter(event=event).order_by("seq").values_list("action", "at"))
    assert steps[-2:] == [(Action.PAUSE, at(2026, 11, 24, 10)), (Action.RESUME, later)]  # both logged


def test_escalating_a_paused_event_restarts_its_clock(tree, staff, report):
    event = report(now=T0)
    services.act(event.pk, Action.START, staff["leader_a"], now=T0)
    services.act(event.pk, Action.PAUSE, staff["leader_a"], note="等第三方", now=T0 + dt.timedelta(hours=1))
    up = services.act(event.pk, Action.ESCALATE, staff["leader_a"], note="需社区协调", now=T0 + dt.timedelta(hours=2))
    assert up.status == State.ASSIGNED and up.paused_at is None and up.assignee == staff["community"]
    assert up.due_at == at(2026, 11, 30, 12)


# --- the deadline job ------------------------------------------------------------------------

NOW = at(2026, 12, 2, 9)  # Wednesday


def snapshot():
    rows = Event.objects.order_by("pk").values_list("pk", "status", "version", "level", "area_id", "assignee_id",
                                                    "due_at", "warn_at", "warned", "ever_overdue", "escalations")
    return list(rows), EventAction.objects.count(), Notification.objects.count()


def test_the_job_warns_escalates_once_and_a_second_run_changes_nothing(tree, staff, report):
    overdue = report(now=at(2026, 11, 23, 8))  # due Mon 30 Nov 08:00
    warning = report(now=at(2026, 11, 26, 9))  # due Thu 3 Dec 09:00, warn Tue 1 Dec 23:24
    fresh = report(now=at(2026, 12, 2, 8))
    assert warning.due_at == at(2026, 12, 3, 9) and warning.warn_at == at(2026, 12, 1, 23, 24)
    assert [selectors.clock_status(e, NOW) for e in (overdue, warning, fresh)] == ["red", "yellow", "green"]

    assert services.check_deadlines(now=NOW) == {"warned": 1, "escalated": 1}
    after_first = snapshot()
    assert services.check_deadlines(now=NOW) == {"warned": 0, "escalated": 0}
    assert snapshot() == after_first

    up = Event.objects.get(pk=overdue.pk)
    assert (up.status, up.level, up.area, up.assignee) == (State.ASSIGNED, "community", tree["community"], staff["community"])
    assert up.ever_overdue and up.escalations == 1 and up.version == 1
    assert up.due_at == at(2026, 12, 9, 9)  # the community's own 5 working days from the run
    assert selectors.clock_status(up, NOW) == "green"
    steps = list(EventAction.objects.filter(event=up).order_by("seq").values_list("action", "actor", "from_status", "to_status"))
    assert steps[-2:] == [(Action.ESCALATE, None, State.ASSIGNED, State.ACCEPTED), (Action.ASSIGN, None, State.ACCEPTED, State.ASSIGNED)]
    assert Event.objects.get(pk=warning.pk).warned and Event.objects.get(pk=fresh.pk).version == 0
    assert Notification.objects.filter(user=staff["leader_a"], kind="warning", event=warning).count() == 1
    assert Notification.objects.filter(user=staff["community"], event=up).exists()

    # when the community's time runs out too, it goes one more level up: once
    later = at(2026, 12, 9, 9)
    assert services.check_deadlines(now=later)["escalated"] == 3  # all three are past their time by then
    assert services.check_deadlines(now=later)["escalated"] == 0
    up = Event.objects.get(pk=overdue.pk)
    assert (up.level, up.area, up.assignee, up.escalations) == ("street", tree["street"], staff["street"], 2)


def test_the_job_leaves_closed_events_alone(tree, staff, report):
    done = report(now=at(2026, 11, 23, 8))
    services.act(done.pk, Action.START, staff["leader_a"], now=at(2026, 11, 23, 9))
    services.act(done.pk, Action.REPLY, staff["leader_a"], note="已处理", now=at(2026, 11, 24, 9))
    closed = services.act(done.pk, Action.VERIFY, staff["community"], now=at(2026, 11, 25, 9))
    assert selectors.clock_status(closed, NOW) == "green"  # closed in time stays green
    before = snapshot()
    assert services.check_deadlines(now=NOW) == {"warned": 0, "escalated": 0}
    assert snapshot() == before
