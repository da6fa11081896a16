"""Open311 as a real client sees it: plain HTTP against a running server (live_server), no
Django test client — list services, post a request, read it back, in JSON and in XML."""
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET

import pytest

from gridmap.events.models import ApiKey

pytestmark = pytest.mark.usefixtures("transactional_db")


def http(method, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data else None
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_list_post_and_read_back_over_http(live_server, tree, staff, fmt):
    ApiKey.objects.create(key="client-key", name="city app")
    base = f"{live_server.url}/open311/v2/"

    status, kind, body = http("GET", f"{base}services.{fmt}")
    assert status == 200 and kind.startswith(f"application/{fmt}")
    codes = [s["service_code"] for s in json.loads(body)] if fmt == "json" else \
        [s.findtext("service_code") for s in ET.fromstring(body).iter("service")]
    assert "0101" in codes

    status, _kind, body = http("POST", f"{base}requests.{fmt}", {
        "api_key": "client-key", "service_code": "0101", "lat": "22.55", "long": "113.92",
        "description": "楼道堆放杂物 blocking the stairs", "first_name": "Wang",
    })
    assert status == 201, body
    request_id = json.loads(body)[0]["service_request_id"] if fmt == "json" else \
        ET.fromstring(body).find("request/service_request_id").text

    status, _kind, body = http("GET", f"{base}requests/{request_id}.{fmt}")
    assert status == 200
    if fmt == "json":
        (got,) = json.loads(body)
        fields = got
    else:
        (req,) = ET.fromstring(body).iter("request")
        fields = {child.tag: child.text for child in req}
    assert fields["service_request_id"] == request_id and fields["status"] == "open"
    assert fields["service_code"] == "0101" and fields["expected_datetime"]
    assert tree["a"].name in fields["agency_responsible"]  # routed to grid A by the point

    status, _kind, body = http("POST", f"{base}requests.{fmt}", {"api_key": "wrong", "service_code": "0101", "lat": "22.55", "long": "113.92", "description": "x"})
    assert status == 403
