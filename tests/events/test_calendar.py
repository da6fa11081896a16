"""Deadline arithmetic over the working-day calendar, pause and resume, the deadline job, and the
calendar's sources: the chinesecalendar package, local overrides, years entered from a CSV file, and
the provisional fallback for a year nobody knows.

The rule (calendar.py): a CalendarDay row (local override) wins, else the package's holidays and
make-up days, else Monday–Friday. N working days end at the same time of day on the Nth working
day after the start; a start on a non-working day counts from 00:00 of the next working day. Hours
are wall-clock hours. The expected values below are worked out by hand from that rule and the State
Council's 2025/2026 notices (in the package, and seeded as rows by migration 0002):
  2025 国庆/中秋: Wed 1 – Wed 8 Oct off; Sun 28 Sep and Sat 11 Oct worked.
  2026 元旦: Thu 1 – Sat 3 Jan off; Sun 4 Jan worked.
  2026 春节: Sun 15 – Mon 23 Feb off; Sat 14 Feb and Sat 28 Feb worked.
  2026 中秋/国庆: Fri 25 – Sun 27 Sep and Thu 1 – Wed 7 Oct off; Sun 20 Sep and Sat 10 Oct worked.
"""
import datetime as dt
import importlib
import io
import logging
from pathlib import Path

import chinese_calendar
import pytest
from django.contrib import messages
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from gridmap.events import calendar as workcal
from gridmap.events import selectors, services
from gridmap.events.calendar import TZ, WorkCalendar
from gridmap.events.management.commands.import_calendar import Command as ImportCalendar
from gridmap.events.models import CalendarDay, CalendarYear, Category, Event, EventAction, LimitUnit, Notification
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


# --- the calendar's sources: package, overrides, entered years, provisional -------------------

LAST = workcal.package_years()[-1]  # the last year the installed chinesecalendar covers
NEXT = LAST + 1  # a year nobody knows yet, until a test enters it
EXAMPLE = Path(__file__).resolve().parents[2] / "gis_data" / "templates" / "calendar_2027_example.csv"


@pytest.mark.parametrize("start,days,due,why", WORKDAY_CASES, ids=[c[3][:40] for c in WORKDAY_CASES])
def test_the_package_alone_gives_the_same_working_days(db, start, days, due, why):
    CalendarDay.objects.all().delete()
    result = WorkCalendar().due(start, days, LimitUnit.WORKDAYS)
    assert (result.at, result.provisional) == (due, False), why


def test_national_day_and_its_make_up_days_come_from_the_package_with_no_rows(db):
    CalendarDay.objects.all().delete()
    cal = WorkCalendar()
    assert cal.overrides == {} and cal.is_known(2026)
    assert not any(cal.is_workday(dt.date(2026, 10, d)) for d in range(1, 8))  # 国庆节 Thu 1 – Wed 7 Oct
    assert cal.is_workday(dt.date(2026, 10, 10)) and cal.is_workday(dt.date(2026, 9, 20))  # make-up Sat and Sun
    assert not cal.is_workday(dt.date(2026, 9, 25))  # 中秋节, a Friday
    # Wed 30 Sep + 3: Thu 8, Fri 9, Sat 10 Oct (make-up)
    assert cal.due(at(2026, 9, 30, 10), 3, LimitUnit.WORKDAYS) == workcal.Due(at(2026, 10, 10, 10))


def test_a_local_day_wins_over_the_package(db):
    CalendarDay.objects.all().delete()
    CalendarDay.objects.create(date=dt.date(2026, 10, 5), is_workday=True, name="本地上班")  # package: 国庆节
    CalendarDay.objects.create(date=dt.date(2026, 10, 8), is_workday=False, name="本地假日")  # package: a Thursday
    CalendarDay.objects.create(date=dt.date(2026, 10, 10), is_workday=False, name="本地取消调休")  # package: make-up Sat
    cal = WorkCalendar()
    assert [cal.is_workday(dt.date(2026, 10, d)) for d in (5, 8, 9, 10)] == [True, False, True, False]
    # Wed 30 Sep + 3: Mon 5 (local), Fri 9, Mon 12 Oct
    assert cal.add(at(2026, 9, 30, 10), 3, LimitUnit.WORKDAYS) == at(2026, 10, 12, 10)


def test_the_rows_seeded_by_migration_0002_agree_with_the_package():
    seed = importlib.import_module("gridmap.events.migrations.0002_seed_categories_and_calendar")
    for first, last, name in seed.HOLIDAYS:
        day = dt.date.fromisoformat(first)
        while day <= dt.date.fromisoformat(last):
            assert chinese_calendar.is_holiday(day), (day, name)
            day += dt.timedelta(days=1)
    for day, name in seed.MAKE_UP_DAYS:
        assert chinese_calendar.is_workday(dt.date.fromisoformat(day)), (day, name)


def calendar_status() -> tuple[str, str | None]:
    """(stdout, the error when it exits non-zero) of manage.py calendar_status."""
    out = io.StringIO()
    try:
        call_command("calendar_status", stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def banner(client, url) -> list[str]:
    """The warnings an admin page shows (in whichever language is active)."""
    response = client.get(url)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"] if m.level == messages.WARNING]


def first_workdays(year: int, n: int) -> list[dt.date]:
    days, day = [], dt.date(year, 1, 1)
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def test_a_year_nobody_knows_gives_provisional_due_times_and_a_warning_until_it_is_entered(
        tree, staff, report, client, api, caplog, tmp_path, time_machine):
    time_machine.move_to(at(LAST, 12, 10, 9), tick=False)  # December: next year's arrangement is needed
    assert workcal.required_years() == [LAST, NEXT] and workcal.missing_years() == [NEXT]
    out, error = calendar_status()
    assert error and str(NEXT) in error and "import_calendar" in error
    client.force_login(staff["centre"])
    for url in (reverse("admin:index"), reverse("admin:events_event_changelist"), reverse("admin:events_calendarday_changelist")):
        assert any(str(NEXT) in m for m in banner(client, url)), url
    client.force_login(staff["leader_a"])
    assert banner(client, reverse("admin:index")) == []  # the centre's to fix: not a grid leader's banner

    # a deadline inside the known year is certain; one running into the unknown year is provisional
    last_workday = max(d for d in (dt.date(LAST, 12, n) for n in range(20, 30)) if chinese_calendar.is_workday(d))
    start = at(LAST, 12, last_workday.day, 10)
    with caplog.at_level(logging.WARNING, logger="gridmap.events.calendar"):
        early = report(now=at(LAST, 12, 1, 10))
        assert not early.due_provisional and not caplog.records
        late = report(now=start)
    assert late.due_provisional and late.due_at.astimezone(TZ).year == NEXT
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert str(NEXT) in caplog.text and "provisional" in caplog.text
    leader = api(staff["leader_a"])
    assert leader.get(f"/api/events/{late.pk}/").data["due_provisional"] is True
    listed = {row["id"]: row["due_provisional"] for row in leader.get("/api/events/").data["results"]}
    assert listed == {early.pk: False, late.pk: True}
    client.force_login(staff["centre"])
    assert "provisional" in client.get(reverse("admin:events_event_changelist")).content.decode()
    assert "open events with a provisional due time: 1" in calendar_status()[0]

    # the centre enters the year: three holidays in its first week
    holidays = first_workdays(NEXT, 3)
    csv = tmp_path / f"calendar_{NEXT}.csv"
    csv.write_text("date,is_workday,name\n" + "".join(f"{d},0,元旦\n" for d in holidays), encoding="utf-8")
    out = io.StringIO()
    call_command("import_calendar", str(csv), "--user", "centre", stdout=out)
    assert f"{NEXT}: 3 days" in out.getvalue()
    entered = CalendarYear.objects.get(year=NEXT)
    assert entered.entered_by == staff["centre"] and entered.entered_at == at(LAST, 12, 10, 9) and csv.name in entered.source

    assert workcal.missing_years() == []
    out, error = calendar_status()
    assert error is None and f"entered {NEXT}" in out
    assert banner(client, reverse("admin:index")) == []
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gridmap.events.calendar"):
        again = report(now=start)
    assert not again.due_provisional and not caplog.records

    def is_workday(day):  # the rule, worked independently of WorkCalendar
        return day not in holidays and (chinese_calendar.is_workday(day) if day.year == LAST else day.weekday() < 5)
    day = start.date()
    for _ in range(5):  # a neighbour dispute: 5 working days
        day += dt.timedelta(days=1)
        while not is_workday(day):
            day += dt.timedelta(days=1)
    assert again.due_at == at(day.year, day.month, day.day, 10) > late.due_at
    assert Event.objects.get(pk=late.pk).due_provisional  # what was computed before keeps its flag


def test_the_example_file_enters_its_year_and_a_second_import_replaces_it(db):
    out = io.StringIO()
    call_command("import_calendar", str(EXAMPLE), stdout=out)
    assert "2027: 34 days" in out.getvalue()
    cal = WorkCalendar()
    assert cal.is_known(2027) and CalendarYear.objects.filter(year=2027).exists()
    assert not cal.is_workday(dt.date(2027, 2, 8)) and cal.is_workday(dt.date(2027, 1, 31))  # 春节, 调休 Sunday
    assert not cal.due(at(2027, 9, 30, 10), 1, LimitUnit.WORKDAYS).provisional
    call_command("import_calendar", str(EXAMPLE), stdout=out)
    assert CalendarDay.objects.filter(date__year=2027).count() == 34 and CalendarYear.objects.filter(year=2027).count() == 1


def test_a_bad_file_stores_nothing_and_names_every_bad_row_and_field(db, tmp_path):
    before = CalendarDay.objects.count()
    bad = tmp_path / "bad.csv"
    bad.write_text("# a comment\ndate,is_workday,name\n2031-01-01,0,元旦\n2031-02-30,0,春节\n"
                   "2031-03-03,maybe,x\n2031-01-01,1,again\n2032-01-01,0,next year\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("import_calendar", str(bad))
    message = str(exc.value)
    assert "nothing stored, 4 problem(s)" in message
    assert "row 4, date: '2031-02-30' is not a date" in message
    assert "row 5, is_workday: 'maybe'" in message
    assert "row 6, date: 2031-01-01 is already on row 3" in message
    assert "row 7, date: 2032-01-01 is not in 2031" in message
    assert CalendarDay.objects.count() == before and not CalendarYear.objects.exists()

    bad.write_text("day,is_workday\n2031-01-01,0\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 1: unknown column 'day'.*\n.*row 1: missing column 'date'"):
        call_command("import_calendar", str(bad))
    bad.write_bytes("date,is_workday,name\n2031-01-01,0,元旦\n".encode("gbk"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_calendar", str(bad))
    with pytest.raises(CommandError, match="is not in 2030"):
        call_command("import_calendar", str(EXAMPLE), "--year", "2030")
    assert CalendarDay.objects.count() == before and not CalendarYear.objects.exists()


def test_entering_a_year_is_all_or_nothing(db):
    CalendarDay.objects.create(date=dt.date(2031, 5, 1), is_workday=False, name="劳动节")
    with pytest.raises(IntegrityError):  # the same day twice: the insert fails after the old rows went
        services.enter_calendar_year(2031, [(dt.date(2031, 10, 1), False, "国庆节"), (dt.date(2031, 10, 1), False, "again")])
    assert list(CalendarDay.objects.filter(date__year=2031).values_list("name", flat=True)) == ["劳动节"]
    assert not CalendarYear.objects.exists()


def test_the_import_command_explains_its_file():
    text = ImportCalendar().create_parser("manage.py", "import_calendar").format_help()
    assert "date,is_workday,name" in text and "All or nothing" in text and "2027-01-31,1,春节调休" in text and "--dry-run" in text
