"""Deadline arithmetic: time limits in hours or working days over the Chinese calendar.

Which days are worked, first match wins:
1. a CalendarDay row: the centre's local override (a local holiday, a changed make-up day) or a
   day of a year it entered (manage.py import_calendar);
2. the `chinesecalendar` package: the State Council's holidays and make-up working days (调休)
   for the years it covers;
3. Monday–Friday.
A year is *known* when the package covers it or the centre has entered it (a CalendarYear row).
A deadline counted over a day of an unknown year still comes out (weekends only for that year)
but is *provisional*: `due()` says so and logs a warning, and the event carries the flag.

A limit of N working days ends at the same time of day on the Nth working day after the start;
a report made on a non-working day starts its clock at 00:00 of the next working day. Hours are
wall-clock hours (never provisional).
"""
import csv
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

from gridmap.core import clock

from .models import CalendarDay, CalendarYear, LimitUnit

TZ = ZoneInfo(settings.TIME_ZONE)
log = logging.getLogger(__name__)

# the next year must be known from this day of December on (the State Council publishes in Nov)
NEXT_YEAR_NEEDED_FROM = (12, 1)


@functools.cache
def package_covers(year: int) -> bool:
    """Whether the installed chinesecalendar knows `year` (it raises NotImplementedError outside)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.cache
def package_years() -> range:
    """The years the installed chinesecalendar covers (one unbroken run)."""
    covered = [y for y in range(1990, 2200) if package_covers(y)]
    return range(covered[0], covered[-1] + 1) if covered else range(0)


def required_years(today: dt.date | None = None) -> list[int]:
    """The years deadlines need now: this year, and from 1 December the next one too."""
    today = today or clock.today()
    return [today.year] + ([today.year + 1] if (today.month, today.day) >= NEXT_YEAR_NEEDED_FROM else [])


def missing_years(today: dt.date | None = None) -> list[int]:
    """The required years neither the package covers nor the centre has entered: the warning."""
    entered = set(CalendarYear.objects.values_list("year", flat=True))
    return [y for y in required_years(today) if not package_covers(y) and y not in entered]


@dataclass(frozen=True)
class Due:
    at: dt.datetime
    provisional: bool = False  # counted over a year with no arrangement: weekends only there
    missing_years: tuple[int, ...] = ()


class WorkCalendar:
    """The calendar as of its construction (cached per configuration by selectors.rules, shared
    between threads: it holds no state that changes after __init__)."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None, entered_years: set[int] | None = None):
        self.overrides = overrides if overrides is not None else dict(CalendarDay.objects.values_list("date", "is_workday"))
        self.entered_years = (entered_years if entered_years is not None
                              else set(CalendarYear.objects.values_list("year", flat=True)))

    def is_known(self, year: int) -> bool:
        return year in self.entered_years or package_covers(year)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if package_covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def next_workday(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def due(self, start: dt.datetime, amount: int, unit: str) -> Due:
        """The moment `amount` `unit`s after `start` (an aware datetime), and whether it is provisional."""
        if unit == LimitUnit.HOURS:
            return Due(start + dt.timedelta(hours=amount))
        local = start.astimezone(TZ)
        first, time_of_day = local.date(), local.time()
        day = first
        if not self.is_workday(day):
            day, time_of_day = self.next_workday(day), dt.time(0, 0)
        for _ in range(amount):
            day = self.next_workday(day)
        at = dt.datetime.combine(day, time_of_day, tzinfo=TZ)
        missing = tuple(y for y in range(first.year, day.year + 1) if not self.is_known(y))
        if missing:
            log.warning("working-day calendar: no holiday arrangement for %s (chinesecalendar covers %s–%s, "
                        "none entered); due time %s counted with weekends only, marked provisional. "
                        "Enter the year: manage.py import_calendar FILE.csv",
                        ", ".join(map(str, missing)), package_years().start, package_years().stop - 1, at.isoformat())
        return Due(at, bool(missing), missing)

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """The moment `amount` `unit`s after `start` (an aware datetime)."""
        return self.due(start, amount, unit).at


# --- entering a year from a CSV file (manage.py import_calendar) ------------------------------

CSV_COLUMNS = ("date", "is_workday", "name")
WORKDAY_WORDS = {"1": True, "true": True, "yes": True, "y": True, "班": True, "上班": True, "workday": True,
                 "0": False, "false": False, "no": False, "n": False, "休": False, "休息": False, "holiday": False}
DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
NAME_MAX = CalendarDay._meta.get_field("name").max_length


class CalendarFileError(ValueError):
    """A calendar file that cannot be taken: every problem found, each naming its row and field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_calendar_csv(data: bytes, year: int | None = None) -> tuple[int, list[tuple[dt.date, bool, str]]]:
    """(year, [(date, is_workday, name)]) from a calendar CSV: a header naming the columns date,
    is_workday (1/0, true/false, yes/no, 班/休) and optionally name; then one row per day that
    differs from the plain Monday–Friday week, all in one year (`year`, if given, else the first
    row's). Lines starting with # and blank lines are skipped. Rows are numbered as the file's
    lines (the header is row 1). Raises CalendarFileError listing every bad row and field."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarFileError([f"the file is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8"]) from None
    # comments become empty lines, so the reader's line numbers stay the file's
    lines = ["" if line.lstrip().startswith("#") else line for line in text.splitlines()]
    reader = csv.reader(lines)
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise CalendarFileError(["the file is empty: expected a header row date,is_workday,name"])
    columns = [c.strip().lower() for c in header]
    problems = [f"row {reader.line_num}: unknown column {c!r} (columns: {', '.join(CSV_COLUMNS)})"
                for c in columns if c not in CSV_COLUMNS]
    problems += [f"row {reader.line_num}: missing column {c!r}" for c in CSV_COLUMNS[:2] if c not in columns]
    if problems:
        raise CalendarFileError(problems)
    days, seen = [], {}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        n = reader.line_num
        if len(row) > len(columns):
            problems.append(f"row {n}: {len(row)} fields, the header has {len(columns)}")
            continue
        cells = dict(zip(columns, (cell.strip() for cell in row)))
        raw_date, raw_work, name = cells.get("date", ""), cells.get("is_workday", ""), cells.get("name", "")
        day = None
        m = DATE_RE.match(raw_date)
        if m:
            try:
                day = dt.date(*map(int, m.groups()))
            except ValueError:
                pass
        if day is None:
            problems.append(f"row {n}, date: {raw_date!r} is not a date (YYYY-MM-DD)")
        else:
            year = year or day.year
            if day.year != year:
                problems.append(f"row {n}, date: {day} is not in {year} (one file holds one year)")
            elif day in seen:
                problems.append(f"row {n}, date: {day} is already on row {seen[day]}")
            seen.setdefault(day, n)
        work = WORKDAY_WORDS.get(raw_work.lower())
        if work is None:
            problems.append(f"row {n}, is_workday: {raw_work!r} is not one of 1/0, true/false, yes/no, 班/休")
        if len(name) > NAME_MAX:
            problems.append(f"row {n}, name: longer than {NAME_MAX} characters")
        if day is not None and work is not None:
            days.append((day, work, name))
    if not problems and not days:
        problems.append("the file has a header but no days")
    if problems:
        raise CalendarFileError(problems)
    return year, days
