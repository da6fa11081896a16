"""Deadline arithmetic: time limits in hours or working days over the Chinese calendar.

Working days are Monday–Friday, except the CalendarDay rows: public holidays (休) on weekdays
and make-up working days (调休上班) on weekends. A limit of N working days ends at the same
time of day on the Nth working day after the start; a report made on a non-working day starts
its clock at 00:00 of the next working day. Hours are wall-clock hours.
"""
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from .models import CalendarDay, LimitUnit

TZ = ZoneInfo(settings.TIME_ZONE)


class WorkCalendar:
    def __init__(self, exceptions: dict[dt.date, bool] | None = None):
        self.exceptions = exceptions if exceptions is not None else dict(CalendarDay.objects.values_list("date", "is_workday"))

    def is_workday(self, day: dt.date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def next_workday(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        """The moment `amount` `unit`s after `start` (an aware datetime)."""
        if unit == LimitUnit.HOURS:
            return start + dt.timedelta(hours=amount)
        local = start.astimezone(TZ)
        day, time_of_day = local.date(), local.time()
        if not self.is_workday(day):
            day, time_of_day = self.next_workday(day), dt.time(0, 0)
        for _ in range(amount):
            day = self.next_workday(day)
        return dt.datetime.combine(day, time_of_day, tzinfo=TZ)
