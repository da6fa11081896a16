"""Open311 GeoReport v2 at /open311/v2/, in JSON and XML, checked against the spec's examples
(http://wiki.open311.org/GeoReport_v2): element names, the error format, W3C datetimes."""
import io
import re
import uuid
from xml.etree import ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gridmap.events import services
from gridmap.events.calendar import TZ
from gridmap.events.models import ApiKey, Category, Event, EventPhoto, Notification, Open311Request
from gridmap.events.workflow import Action, State
from gridmap.places.models import Building
from tests.conftest import rect

BASE = "/open311/v2/"
# element names in the order of the spec's examples
SERVICE_TAGS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
POSTED_TAGS = ["service_request_id", "service_notice", "account_id"]
REQUEST_TAGS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
IN_A = {"lat": "22.55", "long": "113.92"}  # inside grid A (west of x = 113.95)


@pytest.fixture
def key(db):
    return ApiKey.objects.create(key="k-123", name="city app")


@pytest.fixture
def o311(tree, staff, dispute, key):
    """Everything a report needs: the area tree with its leaders, the categories, an API key."""
    return {"tree": tree, "staff": staff, "key": key}


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("application/xml"), response["Content-Type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def tags(element) -> list[str]:
    return [child.tag for child in element]


def post(client, fmt="json", **data):
    return client.post(f"{BASE}requests.{fmt}", {"api_key": "k-123", **data})


def jpeg(make="PhoneMaker") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, "JPEG", exif=exif)
    return out.getvalue()


def errors(response, fmt="json") -> list[tuple[int, str]]:
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return [(e["code"], e["description"]) for e in response.json()]
    root = xml(response)
    assert root.tag == "errors" and all(tags(e) == ["code", "description"] for e in root)
    return [(int(e.findtext("code")), e.findtext("description")) for e in root]


# ---------------------------------------------------------------- services


def test_service_list_in_json_and_xml_holds_only_active_open311_categories(client, dispute):
    Category.objects.filter(code="06").update(open311=False)
    Category.objects.filter(code="0102").update(active=False)
    body = client.get(f"{BASE}services.json").json()
    codes = [s["service_code"] for s in body]
    assert "0101" in codes and "06" not in codes and "0102" not in codes
    neighbour = next(s for s in body if s["service_code"] == "0101")
    assert list(neighbour) == SERVICE_TAGS
    assert neighbour["service_name"] == dispute.name and neighbour["group"] == dispute.parent.name
    assert neighbour["metadata"] is False and neighbour["type"] == "realtime"
    assert "Neighbour dispute" in neighbour["keywords"] and "5 个工作日" in neighbour["description"]

    root = xml(client.get(f"{BASE}services.xml", {"jurisdiction_id": "anything"}))
    assert root.tag == "services" and set(tags(root)) == {"service"}
    assert all(tags(s) == SERVICE_TAGS for s in root)
    first = root.find("service[service_code='0101']")
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"
    assert [s.findtext("service_code") for s in root] == codes


def test_service_definition(client, dispute):
    assert client.get(f"{BASE}services/0101.json").json() == {"service_code": "0101", "attributes": []}
    root = xml(client.get(f"{BASE}services/0101.xml"))
    assert root.tag == "service_definition" and tags(root) == ["service_code", "attributes"]
    assert root.findtext("service_code") == "0101" and len(root.find("attributes")) == 0
    for fmt in ("json", "xml"):
        r = client.get(f"{BASE}services/9999.{fmt}")
        assert r.status_code == 404 and errors(r, fmt) == [(404, "service_code 9999 not found")]


def test_discovery(client):
    root = xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert [f.text for f in endpoint.find("formats")] == ["application/xml", "application/json"]


# ---------------------------------------------------------------- posting and reading back


def test_post_with_lat_long_lands_with_the_grid_leader_and_reads_back_in_json(client, o311):
    r = post(client, **IN_A, service_code="0101", description="楼上漏水，协商未果", first_name="三", last_name="张",
             phone="13800000000", email="zhang@example.cn", device_id="dev-1", account_id="acc-9",
             media_url="http://example.cn/p/1.jpg", jurisdiction_id="ignored.example")
    assert r.status_code == 201, r.content
    assert r["Content-Type"].startswith("application/json")
    [posted] = r.json()
    assert list(posted) == POSTED_TAGS and posted["account_id"] == "acc-9"
    event = Event.objects.get()
    assert posted["service_request_id"] == event.number and "网格A" in posted["service_notice"]
    # the right grid leader has it, in the inbox, with its due time
    assert event.channel == "open311" and event.reporter is None and event.status == State.ASSIGNED
    assert event.grid == o311["tree"]["a"] and event.assignee == o311["staff"]["leader_a"] and event.due_at
    assert Notification.objects.filter(user=o311["staff"]["leader_a"], event=event).exists()
    assert (event.reporter_name, event.reporter_phone) == ("张三", "13800000000")
    extra = Open311Request.objects.get(event=event)
    assert (extra.api_key, extra.email, extra.device_id, extra.account_id, extra.media_url) == (
        o311["key"], "zhang@example.cn", "dev-1", "acc-9", "http://example.cn/p/1.jpg")

    [got] = client.get(f"{BASE}requests/{event.number}.json").json()
    assert list(got) == REQUEST_TAGS
    assert got["service_request_id"] == event.number and got["status"] == "open"
    assert got["service_code"] == "0101" and got["service_name"] == event.category.name
    assert got["description"] == "楼上漏水，协商未果" and got["agency_responsible"] == "网格A"
    assert got["expected_datetime"] == event.due_at.astimezone(TZ).isoformat(timespec="seconds")
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(got[field]), got[field]
    assert (got["lat"], got["long"]) == (22.55, 113.92) and got["media_url"] == "http://example.cn/p/1.jpg"
    assert got["status_notes"] and "routed by location" in got["status_notes"]
    # nothing about the reporter is shown
    assert "张" not in str(got) and "13800000000" not in str(got) and "zhang@" not in str(got)


def test_post_and_read_back_in_xml(client, o311):
    r = post(client, "xml", **IN_A, service_code="0101", description="噪音扰民")
    assert r.status_code == 201
    root = xml(r)
    assert root.tag == "service_requests" and tags(root) == ["request"]
    assert tags(root[0]) == POSTED_TAGS and root[0].findtext("account_id") == ""
    number = root[0].findtext("service_request_id")
    event = Event.objects.get(number=number)

    root = xml(client.get(f"{BASE}requests/{number}.xml"))
    assert root.tag == "service_requests" and tags(root) == ["request"]
    request = root[0]
    assert tags(request) == REQUEST_TAGS
    assert request.findtext("status") == "open" and request.findtext("description") == "噪音扰民"
    assert request.findtext("expected_datetime") == event.due_at.astimezone(TZ).isoformat(timespec="seconds")
    assert float(request.findtext("lat")) == 22.55 and float(request.findtext("long")) == 113.92
    assert request.findtext("zipcode") == "" and request.findtext("media_url") == ""

    root = xml(client.get(f"{BASE}requests.xml"))
    assert [r.findtext("service_request_id") for r in root] == [number]


def test_post_with_address_string(client, o311):
    building = Building.objects.create(code="B1", name="1栋", address="南山区科技园路1号",
                                       footprint=rect(113.96, 22.55, 113.9605, 22.5505))
    Building.objects.create(code="B2", name="2栋", address="南山区科技园路12号", footprint=rect(113.97, 22.55, 113.9705, 22.5505))
    r = post(client, service_code="0101", description="楼道堆物", address_string=" 南山区科技园路1号 ")
    assert r.status_code == 201, r.content
    event = Event.objects.get()
    assert event.grid == o311["tree"]["b"] and event.assignee == o311["staff"]["leader_b"]
    assert event.address == "南山区科技园路1号" and event.building == building
    [got] = client.get(f"{BASE}requests/{event.number}.json").json()
    assert got["address"] == "南山区科技园路1号" and got["address_id"] == building.pk
    # an address matching several buildings, or none, asks for coordinates; nothing stored
    for text in ("科技园路", "不存在的路9号"):
        r = post(client, service_code="0101", description="x", address_string=text)
        assert r.status_code == 400 and "send lat and long" in errors(r)[0][1]
    # the building id works as address_id
    assert post(client, service_code="0101", description="y", address_id=str(building.pk)).status_code == 201
    assert Event.objects.count() == 2


def test_post_with_media_upload(client, o311):
    photo = SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
    r = client.post(f"{BASE}requests.json", {"api_key": "k-123", "service_code": "0101", "description": "井盖缺失",
                                             **IN_A, "media": photo})
    assert r.status_code == 201, r.content
    stored = EventPhoto.objects.get()
    [got] = client.get(f"{BASE}requests.json", {"extensions": "true"}).json()
    assert got["media_url"] == f"http://testserver{BASE}media/{stored.pk}.jpg"
    assert got["extended_attributes"]["media_urls"] == [got["media_url"]]
    image = client.get(got["media_url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"PhoneMaker" not in b"".join(image.streaming_content)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_gets_the_spec_error_format_and_stores_nothing(client, o311, fmt, settings):
    ApiKey.objects.create(key="old", name="revoked", active=False)
    base = {**IN_A, "service_code": "0101", "description": "x"}
    cases = [
        ({**base, "api_key": "wrong"}, 403, "Invalid api_key"),
        ({**base, "api_key": "old"}, 403, "Invalid api_key"),
        ({**base, "api_key": ""}, 403, "api_key was not provided"),
        ({k: v for k, v in base.items() if k != "service_code"}, 400, "service_code was not provided"),
        ({**base, "service_code": "9999"}, 404, "service_code 9999 not found"),
        ({**base, "lat": "91"}, 400, "lat 91 is out of range"),
        ({**base, "long": "abc"}, 400, "is not a number"),
        ({**base, "lat": ""}, 400, "lat and long must both be sent"),
        ({k: v for k, v in base.items() if k not in ("lat", "long")}, 400, "a location is required"),
        ({**base, "media_url": "ftp://x/y"}, 400, "media_url"),
        ({**base, "email": "not-an-email"}, 400, "email"),
        ({**base, "description": "长" * 4001}, 400, "description is longer than 4000"),
        ({**base, "media": SimpleUploadedFile("x.jpg", b"just text", content_type="image/jpeg")}, 400, "not a JPEG"),
    ]
    settings.EVENT_PHOTO_MAX_BYTES = 1024
    cases.append(({**base, "media": SimpleUploadedFile("big.jpg", b"\xff" * 2048)}, 400, "over the"))
    cases.append(({**base, "media": SimpleUploadedFile("huge.jpg", b"\xff" * (2 * 2**20))}, 400, "the request is over"))
    for data, status, text in cases:
        r = client.post(f"{BASE}requests.{fmt}", {"api_key": "k-123", **data})
        assert r.status_code == status, (text, r.content)
        [(code, description)] = errors(r, fmt)
        assert code == status and text in description, description
    assert not Event.objects.exists() and not EventPhoto.objects.exists() and not Open311Request.objects.exists()


def test_csrf_exempt_jurisdiction_and_methods(o311, settings):
    client = Client(enforce_csrf_checks=True)
    assert post(client, **IN_A, service_code="0101", description="x").status_code == 201
    settings.OPEN311_JURISDICTION_ID = "nanshan.gov.cn"
    r = post(client, **IN_A, service_code="0101", description="x", jurisdiction_id="futian.gov.cn")
    assert r.status_code == 404 and "jurisdiction_id futian.gov.cn not found" in errors(r)[0][1]
    assert client.get(f"{BASE}services.json", {"jurisdiction_id": "nanshan.gov.cn"}).status_code == 200
    r = client.put(f"{BASE}requests.xml")
    assert r.status_code == 405 and errors(r, "xml")[0][0] == 405
    assert client.get(f"{BASE}requests/nope.json").status_code == 404


# ---------------------------------------------------------------- tokens, filters, paging


def test_token_maps_the_client_id_to_the_request_and_a_resend_is_the_same_request(client, o311):
    cid = str(uuid.uuid4())
    first = post(client, **IN_A, service_code="0101", description="x", client_id=cid)
    again = post(client, **IN_A, service_code="0101", description="x", client_id=cid)
    assert first.status_code == 201 and again.status_code == 200
    number = first.json()[0]["service_request_id"]
    assert again.json()[0]["service_request_id"] == number and Event.objects.count() == 1
    assert client.get(f"{BASE}tokens/{cid}.json").json() == [{"service_request_id": number, "token": cid}]
    root = xml(client.get(f"{BASE}tokens/{cid}.xml"))
    assert root.tag == "service_requests" and tags(root[0]) == ["service_request_id", "token"]
    assert root[0].findtext("service_request_id") == number
    for token in (str(uuid.uuid4()), "not-a-uuid"):
        r = client.get(f"{BASE}tokens/{token}.xml")
        assert r.status_code == 404 and errors(r, "xml")[0][0] == 404
    assert post(client, **IN_A, service_code="0101", description="x", client_id="nope").status_code == 400


def test_status_filter_paging_and_extended_status(client, o311, django_assert_max_num_queries):
    staff = o311["staff"]
    numbers = [post(client, **IN_A, service_code="0101", description=f"第{i}件").json()[0]["service_request_id"]
               for i in range(3)]
    done = Event.objects.get(number=numbers[0])
    services.act(done.pk, Action.START, staff["leader_a"])
    services.act(done.pk, Action.REPLY, staff["leader_a"], note="已调解，双方签字")
    services.act(done.pk, Action.VERIFY, staff["community"])
    # a point far outside every grid waits in triage (reported), and is then rejected
    far = post(client, lat="23.5", long="115.5", service_code="0101", description="远处").json()[0]["service_request_id"]
    got = {r["service_request_id"]: r for r in client.get(f"{BASE}requests.json", {"extensions": "true"}).json()}
    assert got[far]["extended_attributes"]["detailed_status"] == "RECEIVED" and got[far]["status"] == "open"
    services.act(Event.objects.get(number=far).pk, Action.REJECT, staff["centre"], note="不属于本辖区")

    def ids(**params):
        return [r["service_request_id"] for r in client.get(f"{BASE}requests.json", params).json()]

    with django_assert_max_num_queries(3):  # events with their joins and subqueries, photos; no N+1
        assert len(client.get(f"{BASE}requests.xml").content) > 0

    assert ids() == [far, *reversed(numbers)]  # newest first
    assert set(ids(status="closed")) == {numbers[0], far}
    assert ids(status="open") == [numbers[2], numbers[1]]
    assert set(ids(status="open,closed")) == set(ids())
    assert ids(page_size=2) == [far, numbers[2]] and ids(page_size=2, page=2) == [numbers[1], numbers[0]]
    assert ids(page_size=2, page=3) == []
    assert ids(service_request_id=f"{numbers[1]},{far}") == [far, numbers[1]]
    assert ids(service_code="0102,0103") == [] and len(ids(service_code="0101")) == 4
    assert ids(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00+08:00") == []

    extended = {r["service_request_id"]: r for r in client.get(f"{BASE}requests.json", {"extensions": "true"}).json()}
    closed = extended[numbers[0]]
    assert closed["status"] == "closed" and closed["status_notes"] == "已调解，双方签字"
    assert closed["extended_attributes"]["detailed_status"] == "PROCESSED"
    assert closed["extended_attributes"]["workflow_status"] == "closed"
    assert closed["updated_datetime"] == Event.objects.get(pk=done.pk).closed_at.astimezone(TZ).isoformat(timespec="seconds")
    assert extended[far]["extended_attributes"]["detailed_status"] == "REJECTED"
    assert extended[far]["status_notes"] == "不属于本辖区" and extended[far]["status"] == "closed"
    assert extended[numbers[1]]["extended_attributes"]["detailed_status"] == "IN_PROCESS"
    root = xml(client.get(f"{BASE}requests/{numbers[0]}.xml", {"extensions": "true"}))
    attrs = root[0].find("extended_attributes")
    assert tags(root[0]) == [*REQUEST_TAGS, "extended_attributes"]
    assert attrs.findtext("detailed_status") == "PROCESSED" and attrs.find("media_urls") is not None

    for params in ({"page_size": "0"}, {"page_size": "1001"}, {"page": "x"}, {"status": "pending"},
                   {"start_date": "yesterday"}, {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"}):
        r = client.get(f"{BASE}requests.xml", params)
        assert r.status_code == 400 and errors(r, "xml")[0][0] == 400, params


def test_only_open311_categories_are_readable(client, o311):
    number = post(client, **IN_A, service_code="0101", description="x").json()[0]["service_request_id"]
    Category.objects.filter(code="0101").update(open311=False)
    assert client.get(f"{BASE}requests.json").json() == []
    assert client.get(f"{BASE}requests/{number}.json").status_code == 404


def test_private_categories_are_not_offered_through_open311(client, db):
    codes = {s["service_code"] for s in client.get("/open311/v2/services.json").json()}
    assert "0101" in codes and not codes & {"0102", "06", "07"}
