"""POST /api/events/report/ is rate-limited per signed-in user (issue 11): past the rate the next
report answers 429 with Retry-After and stores nothing; other users are not affected."""
import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from gridmap.events.models import Event

URL = "/api/events/report/"


@pytest.fixture
def rate(monkeypatch):
    """A small rate; DRF reads its rates once into the throttle class, so set them there."""
    cache.clear()  # the throttle's history lives in the cache, shared by the tests of this process
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"event_report": "3/min"})
    yield 3
    cache.clear()


def post(client, i):
    return client.post(URL, {"category": "0101", "description": f"楼道堆放杂物 {i}", "lon": 113.92, "lat": 22.55},
                       content_type="application/json")


def test_the_default_rate_is_sixty_a_minute():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["event_report"] == "60/min"


def test_the_report_past_the_rate_gets_429_and_stores_nothing(client, tree, staff, dispute, rate):
    client.force_login(staff["patroller"])
    assert [post(client, i).status_code for i in range(rate)] == [201] * rate
    refused = post(client, rate)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Event.objects.count() == rate
    # per user: another user reports as usual
    other = client.__class__()
    other.force_login(staff["worker_a"])
    assert post(other, 99).status_code == 201
    assert Event.objects.count() == rate + 1
