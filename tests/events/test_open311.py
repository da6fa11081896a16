"""Open311 GeoReport v2 at /open311/v2/, in JSON and XML, checked against the spec's examples
(http://wiki.open311.org/GeoReport_v2): element names, the error format, W3C datetimes."""
import io
import re
import uuid
from xml.etree import ElementTree as ET

import hashlib

import pytest
from django.core.cache import cache
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


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no POSTs counted (the counters live in the cache)."""
    cache.clear()
    yield
    cache.clear()


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


def post(client, fmt="json", *, meta=None, **data):
    return client.post(f"{BASE}requests.{fmt}", {"api_key": "k-123", **data}, **(meta or {}))


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
    assert got["status_notes"] is None  # the routing step's note is internal
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
    # a damaged street component: not about people, so its address is shown
    r = post(client, service_code="0404", description="井盖松动", address_string=" 南山区科技园路1号 ")
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
    services.act(done.pk, Action.REPLY, staff["leader_a"], note="已调解，另一方电话 13912345678", public_note="已调解，双方签字")
    services.act(done.pk, Action.VERIFY, staff["community"])
    # a point far outside every grid waits in triage (reported), and is then rejected
    far = post(client, lat="23.5", long="115.5", service_code="0101", description="远处").json()[0]["service_request_id"]
    got = {r["service_request_id"]: r for r in client.get(f"{BASE}requests.json", {"extensions": "true"}).json()}
    assert got[far]["extended_attributes"]["detailed_status"] == "RECEIVED" and got[far]["status"] == "open"
    services.act(Event.objects.get(number=far).pk, Action.REJECT, staff["centre"], note="报告人情绪不稳", public_note="不属于本辖区")

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


# ---------------------------------------------------------------- only what is public


def test_internal_reports_and_internal_notes_are_never_published(client, o311, report, dispute):
    """A grid worker's patrol report is internal: not in the list, not by id, not by token,
    not its photos; an internal note never becomes status_notes, a note for the public does."""
    streetlight = Category.objects.get(code="0404")
    patrol = [report(), report(category=streetlight, description="路灯不亮")]
    hotline = services.report_event(reporter=None, category=dispute, lon=113.92, lat=22.55, description="楼上漏水",
                                    channel="hotline").event
    assert [e.public for e in patrol] == [False, False] and hotline.public
    services.act(hotline.pk, Action.START, o311["staff"]["leader_a"], note="当事人王某，电话 13912345678")
    internal = "13912345678"

    def listed():
        r = client.get(f"{BASE}requests.json", {"extensions": "true"})
        assert internal.encode() not in r.content
        return {x["service_request_id"]: x for x in r.json()}

    assert set(listed()) == {hotline.number} and listed()[hotline.number]["status_notes"] is None
    assert internal.encode() not in client.get(f"{BASE}requests.xml").content
    for event in patrol:
        for fmt in ("json", "xml"):
            assert client.get(f"{BASE}requests/{event.number}.{fmt}").status_code == 404
            assert client.get(f"{BASE}tokens/{event.client_id}.{fmt}").status_code == 404
        assert client.get(f"{BASE}requests.json", {"service_request_id": event.number}).json() == []
    [got] = client.get(f"{BASE}requests/{hotline.number}.json").json()
    assert got["status_notes"] is None and internal not in str(got)
    assert client.get(f"{BASE}tokens/{hotline.client_id}.json").json() == [
        {"service_request_id": hotline.number, "token": str(hotline.client_id)}]

    services.act(hotline.pk, Action.REPLY, o311["staff"]["leader_a"], note="王某同意赔偿，电话 13912345678",
                 public_note="已上门协调，双方达成一致")
    services.act(hotline.pk, Action.REMIND, o311["staff"]["centre"], note="再核实一次")  # no public note: the last stays
    for r in (client.get(f"{BASE}requests/{hotline.number}.json"), client.get(f"{BASE}requests.json")):
        assert r.json()[0]["status_notes"] == "已上门协调，双方达成一致" and internal.encode() not in r.content
    root = xml(client.get(f"{BASE}requests/{hotline.number}.xml"))
    assert root[0].findtext("status_notes") == "已上门协调，双方达成一致"
    # an internal report made public by the centre is then shown
    Event.objects.filter(pk=patrol[1].pk).update(public=True)
    assert set(listed()) == {hotline.number, patrol[1].number}


def test_public_flag_defaults_by_channel(o311, dispute):
    made = {channel: services.report_event(reporter=None, category=dispute, lon=113.92, lat=22.55, description="x",
                                           channel=channel).event
            for channel in ("patrol", "grid_worker", "hotline", "web", "open311")}
    assert {c: e.public for c, e in made.items()} == {
        "patrol": False, "grid_worker": False, "hotline": True, "web": True, "open311": True}
    kept = services.report_event(reporter=None, category=dispute, lon=113.92, lat=22.55, description="x",
                                 channel="hotline", public=False).event
    assert not kept.public


def test_people_categories_are_shown_only_near_their_place(client, o311):
    building = Building.objects.create(code="B1", name="1栋", address="南山区科技园路1号3栋",
                                       footprint=rect(113.92, 22.55, 113.9205, 22.5505))
    exact = {"lat": "22.550234", "long": "113.920187"}
    dispute_no = post(client, **exact, service_code="0101", description="邻居噪音").json()[0]["service_request_id"]
    lamp_no = post(client, **exact, service_code="0404", description="路灯不亮").json()[0]["service_request_id"]
    assert Event.objects.get(number=dispute_no).building == building  # the exact place is kept inside
    assert Category.objects.get(code="0101").effective_involves_people()  # from 01 above it
    assert not Category.objects.get(code="0404").effective_involves_people()
    got = {r["service_request_id"]: r for r in client.get(f"{BASE}requests.json").json()}
    near = got[dispute_no]
    assert (near["lat"], near["long"]) == (22.55, 113.92) and near["address"] is None and near["address_id"] is None
    [by_id] = client.get(f"{BASE}requests/{dispute_no}.json").json()
    assert (by_id["lat"], by_id["long"], by_id["address"], by_id["address_id"]) == (22.55, 113.92, None, None)
    root = xml(client.get(f"{BASE}requests/{dispute_no}.xml"))
    assert root[0].findtext("lat") == "22.55" and root[0].findtext("address") == ""
    assert b"22.550234" not in client.get(f"{BASE}requests.xml", {"service_request_id": dispute_no}).content
    lamp = got[lamp_no]
    assert (lamp["lat"], lamp["long"]) == (22.550234, 113.920187)
    assert lamp["address"] == building.address and lamp["address_id"] == building.pk
    # a category flagged as involving people coarsens its own events and those below it
    Category.objects.filter(code="04").update(involves_people=True)
    [lamp] = client.get(f"{BASE}requests/{lamp_no}.json").json()
    assert (lamp["lat"], lamp["long"], lamp["address"]) == (22.55, 113.92, None)


def test_api_keys_are_stored_hashed(client, o311):
    stored = ApiKey.objects.get(pk=o311["key"].pk)
    assert stored.key is None and stored.key_hash == hashlib.sha256(b"k-123").hexdigest()
    assert "k-123" not in (stored.key_hash, stored.prefix) and stored.prefix == "k"
    assert ApiKey.lookup("k-123") == stored and ApiKey.lookup("k-1234") is None and ApiKey.lookup("") is None
    assert post(client, **IN_A, service_code="0101", description="x").status_code == 201
    r = post(client, **IN_A, service_code="0101", description="x", api_key=stored.key_hash)  # the hash is no key
    assert r.status_code == 403 and "Invalid api_key" in errors(r)[0][1]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posts_are_rate_limited_per_key_and_per_address(client, o311, settings, fmt):
    settings.OPEN311_RATE_LIMITS = {"key": 3, "ip": 2}
    for _ in range(3):
        assert post(client, fmt, **IN_A, service_code="0404", description="x").status_code == 201
    r = post(client, fmt, **IN_A, service_code="0404", description="x")
    [(code, text)] = errors(r, fmt)
    assert r.status_code == 429 and code == 429 and "at most 3 a minute" in text and 0 < int(r["Retry-After"]) <= 60
    assert Event.objects.count() == 3
    # another key is counted on its own
    ApiKey.objects.create(key="k-456", name="second app")
    assert post(client, fmt, **IN_A, service_code="0404", description="x", api_key="k-456").status_code == 201
    # without a valid key: per address
    wrong = {**IN_A, "service_code": "0404", "description": "x", "api_key": "guess"}
    for _ in range(2):
        assert post(client, fmt, **wrong, meta={"REMOTE_ADDR": "198.51.100.7"}).status_code == 403
    r = post(client, fmt, **wrong, meta={"REMOTE_ADDR": "198.51.100.7"})
    assert r.status_code == 429 and errors(r, fmt)[0][0] == 429
    assert post(client, fmt, **wrong, meta={"REMOTE_ADDR": "198.51.100.8"}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_existing_keys_and_flags_the_people_categories():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("events", "0006_field_labels")], [("events", "0007_open311_public_only")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        old.get_model("events", "ApiKey").objects.create(key="plain-key-of-an-old-client-0123456789", name="old app")
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        key = ApiKey.objects.get(name="old app")
        assert key.key_hash == hashlib.sha256(b"plain-key-of-an-old-client-0123456789").hexdigest() and key.prefix == "plain-"
        assert ApiKey.lookup("plain-key-of-an-old-client-0123456789") == key
        assert set(Category.objects.filter(involves_people=True).values_list("code", flat=True)) == {"01", "06", "07"}
    finally:
        # back to the latest schema: the tests after this one run on it (0011 added columns)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
