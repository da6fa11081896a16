"""The periods every statistic is asked for: local (Asia/Shanghai) months, quarters and years,
named periods relative to the one clock, from/to days, and clear errors for anything else."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict
from django.utils import translation
from rest_framework.exceptions import ValidationError

from gridmap.analytics import periods

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2027-01-01 00:30 in Shanghai is still 2026-12-31 in UTC: "this month" must be January
NEW_YEAR = dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)


def parse(query: str) -> periods.Period:
    return periods.parse(QueryDict(query))


@time_machine.travel(NEW_YEAR, tick=False)
def test_named_periods_follow_the_local_date():
    assert parse("").label == "2027-01" == parse("period=this_month").label
    assert parse("period=last_month").label == "2026-12"
    assert parse("period=last_quarter").label == "2026-Q4"
    assert parse("period=this_quarter").label == "2027-Q1"
    assert parse("period=last_year").label == "2026"
    twelve = parse("period=last_12_months")
    assert (twelve.first_day, twelve.last_day) == (dt.date(2026, 2, 1), dt.date(2027, 1, 1))


@time_machine.travel(NEW_YEAR, tick=False)
def test_a_period_is_local_midnight_to_midnight_and_closed_once_over():
    q = parse("period=2026-Q4")
    assert q.start == dt.datetime(2026, 10, 1, tzinfo=SHANGHAI) and q.end == dt.datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert q.closed and not parse("period=this_month").closed
    assert [m.label for m in q.months()] == ["2026-10", "2026-11", "2026-12"]
    assert q.before().end == q.start and q.before().start == dt.datetime(2026, 7, 1, tzinfo=SHANGHAI)  # 92 days back


def test_custom_days_are_cut_into_the_months_they_touch():
    p = parse("from=2026-09-20&to=2026-11-05")
    assert (p.first_day, p.last_day) == (dt.date(2026, 9, 20), dt.date(2026, 11, 5))
    months = p.months()
    assert [m.label for m in months] == ["2026-09", "2026-10", "2026-11"]
    assert months[0].start == p.start and months[-1].end == p.end
    assert all(a.end == b.start for a, b in zip(months, months[1:]))


@pytest.mark.parametrize("query, field", [
    ("period=2026-13", "period"), ("period=soon", "period"), ("period=0000", "period"), ("period=9999-Q4", "period"),
    ("from=2026-09-01", "from"), ("from=2026-09-01&to=yesterday", "from"), ("from=2026-09-02&to=2026-09-01", "to"),
    ("from=2020-01-01&to=2026-01-01", "to"),
])
def test_a_bad_period_is_refused_naming_the_field(query, field):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        parse(query)
    assert field in refused.value.detail
