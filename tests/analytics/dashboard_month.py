"""A small month of events worked through the real workflow (so the action log is real), shared
by the dashboard and export tests; the figures it should give are computed by hand in
test_dashboard.py."""
import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import Category
from gridmap.events.workflow import Action

MOMENT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)  # a Tuesday; November is over
A, B = (113.92, 22.55), (113.97, 22.55)  # points in grid A and grid B
FAR = (113.50, 22.55)  # outside every grid: waits at the centre for acceptance by hand


def nov(day, hour=9):
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def leader_a(staff):
    """The estate's grid A leader is the staff's (one user named leader_a)."""
    return staff["leader_a"]


@pytest.fixture
def month(tree, staff):
    """November 2026 in the community: eight events in grids A and B, and two reported outside
    every grid (only the centre's view counts those). Times in the comments are handling hours."""
    centre = staff["centre"]
    cats = {c.code: c for c in Category.objects.filter(code__in=["0101", "0104", "0105", "06"])}

    def report(code, where, at):
        return services.report_event(reporter=staff["patroller"], category=cats[code], lon=where[0], lat=where[1],
                                     description="测试", channel="patrol", now=at).event

    def act(event, action, at, actor=None, **kw):
        event = services.act(event.pk, action, actor or centre, now=at, **kw)
        return event

    def work(event, replied, closed, rating=""):
        act(event, Action.START, event.reported_at + dt.timedelta(hours=1), event.assignee)
        act(event, Action.REPLY, replied, event.assignee, note="已处理")
        act(event, Action.VERIFY, closed)
        if rating:
            act(event, Action.RATE, closed, satisfaction=rating)

    e = {}
    e[1] = report("0101", A, nov(2))  # grid level; 6 h; very satisfied
    work(e[1], nov(2, 14), nov(2, 15), "very_satisfied")
    e[2] = report("0101", A, nov(3))  # returned once; 24 h; satisfied
    act(e[2], Action.START, nov(3, 10), staff["leader_a"])
    act(e[2], Action.REPLY, nov(3, 12), staff["leader_a"], note="已处理")
    act(e[2], Action.RETURN, nov(3, 13), note="未解决")
    act(e[2], Action.REPLY, nov(3, 15), staff["leader_a"], note="已解决")
    act(e[2], Action.VERIFY, nov(4))
    act(e[2], Action.RATE, nov(4), satisfaction="satisfied")
    e[3] = report("0104", B, nov(4))  # property dispute: community level; 12 h; dissatisfied
    work(e[3], nov(4, 20), nov(4, 21), "dissatisfied")
    e[4] = report("0105", A, nov(5))  # land dispute: street level, 15 working days; 480 h, on time
    work(e[4], nov(24), nov(25))
    e[5] = report("06", B, nov(10))  # special population: 24 hours; 48 h: late; average
    work(e[5], nov(11, 20), nov(12), "average")
    e[6] = report("0101", B, nov(20))  # closed after 8 h, reopened, closed again: 27 h
    work(e[6], nov(20, 16), nov(20, 17))
    act(e[6], Action.REOPEN, nov(21), note="居民反映仍未解决")
    act(e[6], Action.REPLY, nov(21, 11), staff["leader_b"], note="已解决")
    act(e[6], Action.VERIFY, nov(21, 12))
    e[7] = report("06", A, nov(25))  # due 26 Nov 09:00, still in hand: overdue now, 5 days late
    act(e[7], Action.START, nov(25, 10), e[7].assignee)
    e[8] = report("0101", A, nov(28))  # due in 5 working days: not late yet
    e[9] = report("0101", FAR, nov(15))  # accepted by hand after 48 h: late
    act(e[9], Action.ACCEPT, nov(17))
    e[10] = report("0101", FAR, nov(16))  # never accepted: late
    return e


@pytest.fixture
def api():
    """api(user) → a DRF test client logged in as `user`."""
    def as_user(user):
        client = APIClient()
        client.force_login(user)
        return client
    return as_user


@pytest.fixture(autouse=True)
def _empty_cache():
    """Answers are cached by selection (cache.py): each test starts without the last one's."""
    cache.clear()
