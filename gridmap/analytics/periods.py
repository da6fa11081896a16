"""Periods the statistics are asked for: a month, a quarter, a year, or from/to dates, in
Asia/Shanghai (settings.TIME_ZONE). A period is closed once its end has passed: its figures no
longer change and are cached for long (cache.py); an open period's are refreshed.

    period=2026-11 | 2026-Q3 | 2026 | this_month | last_month | this_quarter | last_quarter
           | this_year | last_year | last_12_months
    from=2026-09-01&to=2026-11-30   (both days included)

Without either: the current month.
"""
import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from gridmap.core import clock

MAX_DAYS = 3 * 366
YEARS = range(1990, 2201)  # a longer period is refused: the answers are meant for a screen, not a dump
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes at local midnight; `label` is how people write it."""

    start: dt.datetime
    end: dt.datetime
    label: str

    @property
    def first_day(self) -> dt.date:
        return timezone.localdate(self.start)

    @property
    def last_day(self) -> dt.date:
        return timezone.localdate(self.end) - dt.timedelta(days=1)

    @property
    def closed(self) -> bool:
        """Over: nothing reported later falls in it (its figures are kept, cache.py)."""
        return self.end <= clock.now()

    @property
    def key(self) -> str:
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def months(self) -> list["Period"]:
        """The calendar months the period touches, each cut to the period (the time slider's steps)."""
        out, day = [], self.first_day.replace(day=1)
        while day <= self.last_day:
            nxt = _add_months(day, 1)
            start, end = max(clock.start_of_day(day), self.start), min(clock.start_of_day(nxt), self.end)
            out.append(Period(start, end, f"{day.year}-{day.month:02d}"))
            day = nxt
        return out

    def before(self) -> "Period":
        """The period of the same length just before this one (the "emerging" comparison)."""
        length = self.end - self.start
        return Period(self.start - length, self.start, _("before %(label)s") % {"label": self.label})

    def as_dict(self) -> dict:
        return {"label": self.label, "from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "closed": self.closed}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def days(first: dt.date, last: dt.date, label: str | None = None) -> Period:
    """The period from `first` to `last`, both included."""
    if first.year not in YEARS or last.year not in YEARS:
        raise ValidationError({"period": _("years from %(first)s to %(last)s only") % {"first": YEARS[0], "last": YEARS[-1]}})
    if last < first:
        raise ValidationError({"to": _("must not be before from")})
    if (last - first).days >= MAX_DAYS:
        raise ValidationError({"to": _("a period is at most %(days)s days") % {"days": MAX_DAYS}})
    return Period(clock.start_of_day(first), clock.start_of_day(last + dt.timedelta(days=1)), label or f"{first.isoformat()}–{last.isoformat()}")


def month(year: int, number: int) -> Period:
    first = dt.date(year, number, 1)
    return days(first, _add_months(first, 1) - dt.timedelta(days=1), f"{year}-{number:02d}")


def quarter(year: int, number: int) -> Period:
    first = dt.date(year, 3 * number - 2, 1)
    return days(first, _add_months(first, 3) - dt.timedelta(days=1), f"{year}-Q{number}")


def year(number: int) -> Period:
    return days(dt.date(number, 1, 1), dt.date(number, 12, 31), str(number))


def named(name: str, today: dt.date | None = None) -> Period | None:
    """this_month, last_quarter … relative to today (clock.today()); None for another name."""
    today = today or clock.today()
    q = (today.month - 1) // 3 + 1
    last_month = _add_months(today.replace(day=1), -1)
    last_q = _add_months(dt.date(today.year, 3 * q - 2, 1), -3)
    return {
        "this_month": lambda: month(today.year, today.month),
        "last_month": lambda: month(last_month.year, last_month.month),
        "this_quarter": lambda: quarter(today.year, q),
        "last_quarter": lambda: quarter(last_q.year, (last_q.month - 1) // 3 + 1),
        "this_year": lambda: year(today.year),
        "last_year": lambda: year(today.year - 1),
        "last_12_months": lambda: days(_add_months(today.replace(day=1), -11), today, _("last 12 months")),
    }.get(name, lambda: None)()


def parse(params) -> Period:
    """The period a request asks for (see the module's docstring); 400 with the field when bad."""
    raw, first, last = params.get("period", ""), params.get("from", ""), params.get("to", "")
    if first or last:
        try:
            first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        except ValueError:
            raise ValidationError({"from": _("from and to must both be dates like 2026-09-01")}) from None
        return days(first_day, last_day)
    if not raw:
        return named("this_month")
    try:
        if m := _MONTH.match(raw):
            return month(int(m[1]), int(m[2]))
        if m := _QUARTER.match(raw):
            return quarter(int(m[1]), int(m[2]))
        if m := _YEAR.match(raw):
            return year(int(m[1]))
    except ValueError:
        pass
    else:
        if found := named(raw):
            return found
    raise ValidationError({"period": _("not a period: %(raw)s (e.g. 2026-11, 2026-Q3, 2026, last_quarter)") % {"raw": raw[:40]}})
