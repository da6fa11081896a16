"""schemathesis over the OpenAPI schema (drf-spectacular, generated in-process) of every REST
endpoint, as a signed-in centre administrator over HTTP Basic through the WSGI app: no answer
is a 5xx and every answer matches the schema declared for its status (issue 11). Each case is
sent as generated (random ids: mostly 404) and, for operations with an id in the path, once
more with the id of a record the fixtures made, so the 200 schema is checked too."""
import base64

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from rest_framework.throttling import ScopedRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from gridmap.events import services
from gridmap.wsgi import application

from .conftest import LONG, fuzz_settings

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application
# The coverage phase (boundary values of every parameter: ~100 to 330 cases an operation) only in the long run.
schema.config.phases.coverage.enabled = LONG

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app closes a connection it finds inside a transaction at each request's start and end;
    the test's transaction is one. Django's test client unhooks that too (django.test.client)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def known(tree, users, estate, dispute, monkeypatch):
    """Records for the ids in the paths, a centre administrator with a known password, no report
    rate limit (DRF reads its rates into the throttle class once)."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"event_report": None})
    event = services.report_event(reporter=users["worker_a"], category=dispute, lon=113.92, lat=22.55,
                                  description="楼道堆放杂物", channel="patrol").event
    room = estate["dwellings"]["1-301"]
    return {
        "/api/events/{id}/": {"id": event.pk},
        "/api/events/{id}/actions/": {"id": event.pk},
        "/api/events/{id}/assignees/": {"id": event.pk},
        "/api/categories/{code}/": {"code": dispute.code},
        "/api/buildings/{id}/floors/": {"id": estate["building"].pk},
        "/api/dwellings/{id}/": {"id": room.pk},
        "/api/persons/{id}/": {"id": estate["people"]["head"].pk},
    }


def basic(username: str, password: str = "pw") -> dict:
    """HTTP Basic; and no gzip: the map layers compress for clients that take it, and the WSGI
    client would hand the compressed bytes to the schema check."""
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
            "Accept-Encoding": "identity"}


@schema.parametrize()
@fuzz_settings(short=8)
def test_every_operation_answers_without_5xx_and_as_declared(case, known, users):
    headers = basic(users["centre"].username)
    case.call_and_validate(headers=headers, checks=CHECKS)
    ids = known.get(case.operation.path)
    if ids and case.path_parameters:
        case.path_parameters = {**case.path_parameters, **ids}
        case.call_and_validate(headers=headers, checks=CHECKS)
