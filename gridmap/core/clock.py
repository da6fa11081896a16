"""The one place gridmap asks what time it is.

Everything that compares with "now" or "today" calls these, so a test freezes one clock
(time-machine) and a management command can run "as of" a moment. `today()` is the date in
Asia/Shanghai (settings.TIME_ZONE), not the machine's: a report at 07:00 in Shenzhen is
23:00 UTC the day before.
"""
import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    """The current moment, timezone-aware."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in the configured time zone (Asia/Shanghai)."""
    return timezone.localdate(now())


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of `day` in the configured time zone ("as of 3 March": that evening)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def start_of_day(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the configured time zone (local midnight)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
