"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

Methods, field by field as the spec has them, each in `.json` and `.xml`:

- GET  discovery            the service discovery document
- GET  services             active categories offered through Open311 (Category.open311)
- GET  services/{code}      the service definition (no attributes: metadata is false)
- POST requests             a report (api_key required); lat/long, address_string or address_id
- GET  requests             filters: service_request_id (overrides the rest), service_code,
                            start_date, end_date (default and maximum span: 90 days), status
- GET  requests/{id}        one request
- GET  tokens/{token}       token → service_request_id (the token is the event's client id)

gridmap is a single jurisdiction: jurisdiction_id is optional and, when settings name one
(OPEN311_JURISDICTION_ID), any other value is a 404. The service is realtime: POST returns
the service_request_id (the event number) at once.

Extensions: `page`/`page_size` on GET requests (default 1, 1000; at most 1000), media upload
(multipart field `media`, checked like patrol photos), `client_id` on POST (a UUID the client
made up; a resend with it returns the first report, and tokens/{client_id} finds it), and
`extensions=true` on GET requests for `extended_attributes` (CitySDK style):
`detailed_status` (CitySDK's vocabulary, see DETAILED_STATUS), `workflow_status` (gridmap's own
state) and `media_urls`.

Reading needs no key (as the spec says), so only what is public is readable: events marked
public (reports from the public; internal patrol and grid-worker reports are not) of categories
offered through Open311. Nothing about the reporter is ever shown; `status_notes` is the latest
note written for the public (EventAction.public_note), never an internal note; and events of a
category that involves people (Category.involves_people, on it or a category above) are shown
only near their place: lat/long rounded to 3 decimals (about 100 m), no address or address_id.

POST is limited per API key (RATE_LIMITS["key"] a minute) and, for requests without a valid
key, per client address (RATE_LIMITS["ip"] a minute; settings.OPEN311_RATE_LIMITS overrides
both): over the limit is a 429 in the spec's error format, with Retry-After.
"""
import datetime as dt
import json
import math
import re
import uuid
from functools import wraps
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.core.validators import URLValidator, validate_email
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from gridmap.core import clock
from gridmap.core.validators import has_control_characters
from gridmap.places.models import Building

from . import selectors, services
from .calendar import TZ
from .models import ApiKey, Category, EventPhoto, HandlingLevel, LimitUnit, Urgency
from .photos import read_photo
from .workflow import FINAL_STATES, State

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# in XML a list is an element holding one child per item, named thus
XML_ITEM = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format",
            "media_urls": "media_url"}
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-06-01T00:00:00+08:00"  # when this endpoint's behaviour last changed

MAX_SPAN = dt.timedelta(days=90)  # the spec's default window and maximum span
MAX_PAGE_SIZE = 1000  # the spec's "first 1000 requests"
MAX_MEDIA = 3  # uploaded files per request
MAX_DESCRIPTION = 4000  # the spec's limit
COARSE_DECIMALS = 3  # lat/long of an event that involves people: about 100 m
RATE_LIMITS = {"key": 30, "ip": 10}  # POSTs a minute: per API key; per address without a valid key

# Extended status: CitySDK's `detailed_status` vocabulary (RECEIVED, IN_PROCESS, PROCESSED,
# ARCHIVED, REJECTED), the extension existing GeoReport clients already read (CitySDK, Klarschiff,
# the Helsinki/6Aika API). gridmap's phases map onto it one to one: received but not yet triaged;
# in the hands of someone (accepted, assigned, handling, paused, replied awaiting verification);
# done and verified; archived; not accepted. `workflow_status` carries the exact gridmap state.
DETAILED_STATUS = {
    State.REPORTED: "RECEIVED",
    State.ACCEPTED: "IN_PROCESS", State.ASSIGNED: "IN_PROCESS", State.HANDLING: "IN_PROCESS",
    State.WAITING: "IN_PROCESS", State.REPLIED: "IN_PROCESS",
    State.CLOSED: "PROCESSED", State.ARCHIVED: "ARCHIVED", State.REJECTED: "REJECTED",
}
CENTRE_NAME = "网格化服务管理中心"
LEVEL_NAMES = {HandlingLevel.GRID: "网格", HandlingLevel.COMMUNITY: "社区", HandlingLevel.STREET: "街道",
               HandlingLevel.DISTRICT: "区中心", HandlingLevel.DEPARTMENT: "职能部门"}  # who handles an event no area or department holds


class Open311Error(Exception):
    """An error answered in the spec's format: HTTP `status`, a list of (code, description)."""

    def __init__(self, status: int, *descriptions: str, headers: dict | None = None):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.errors = [(status, d) for d in descriptions]
        self.headers = headers or {}


# ---------------------------------------------------------------- rendering


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _xml_fill(element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        for item in value:
            _xml_fill(ET.SubElement(element, XML_ITEM.get(element.tag, "item")), item)
    else:
        element.text = _text(value)


def render(fmt: str, root: str, item: str | None, body, status: int = 200) -> HttpResponse:
    """`body` as JSON (the spec's "Spark convention": a list of objects, or one object), or as
    XML under `<root>` with each list item as `<item>`; UTF-8 with the XML declaration."""
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False).encode()
    else:
        element = ET.Element(root)
        if item is None:
            _xml_fill(element, body)
        else:
            for entry in body:
                _xml_fill(ET.SubElement(element, item), entry)
        content = XML_DECLARATION + ET.tostring(element, encoding="unicode", short_empty_elements=False).encode()
    return HttpResponse(content, status=status, content_type=CONTENT_TYPES[fmt])


def render_errors(fmt: str, error: Open311Error) -> HttpResponse:
    body = [{"code": code, "description": text} for code, text in error.errors]
    response = render(fmt, "errors", "error", body, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def open311_view(*methods):
    """A CSRF-exempt Open311 method: other HTTP methods get 405, an Open311Error its status,
    both in the spec's error format."""
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, fmt="xml", **kwargs):
            try:
                _refuse_control_characters(request, kwargs)
                if request.method not in methods:
                    response = render_errors(fmt, Open311Error(405, f"{request.method} is not supported here; use {' or '.join(methods)}"))
                    response["Allow"] = ", ".join(methods)
                    return response
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                return render_errors(fmt, error)
        return wrapped
    return decorate


def _refuse_control_characters(request, path_args: dict) -> None:
    """NUL and other control characters in an id of the path (404: no such id) or in an argument
    (400), refused before they reach PostgreSQL, which cannot store a NUL (a 500 otherwise)."""
    for name, value in path_args.items():
        if has_control_characters(value):
            raise Open311Error(404, f"{name} {value!r} not found: it contains a control character")
    _refuse_control_arguments(request.GET)


def _refuse_control_arguments(params) -> None:
    for name, values in params.lists():
        if has_control_characters(name) or any(map(has_control_characters, values)):
            raise Open311Error(400, f"{name!r} contains a control character (such as NUL); remove it")


def _param(params, name: str) -> str:
    """An optional argument: empty and absent are the same ("")."""
    return (params.get(name) or "").strip()


def _check_jurisdiction(params) -> None:
    wanted = getattr(settings, "OPEN311_JURISDICTION_ID", "")
    given = _param(params, "jurisdiction_id")
    if wanted and given and given != wanted:
        raise Open311Error(404, f"jurisdiction_id {given} not found (this endpoint serves {wanted})")


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C datetime in the server's zone, with its offset (e.g. 2025-06-03T09:30:00+08:00)."""
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None


def _parse_w3c(value: str, name: str) -> dt.datetime:
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value)  # an unescaped '+' in a query string arrives as ' '
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} {value!r} is not a W3C datetime such as 2025-06-01T00:00:00+08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


# ---------------------------------------------------------------- services


def _lineage(category: Category, by_id: dict) -> list[Category]:
    chain = [category]
    while chain[-1].parent_id and chain[-1].parent_id in by_id:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def _describe_limit(chain: list[Category]) -> str:
    for node in chain:
        limits = {t.urgency: t for t in node.time_limits.all()}
        if limits:
            limit = limits.get(Urgency.NORMAL) or next(iter(limits.values()))
            unit = "小时" if limit.unit == LimitUnit.HOURS else "个工作日"
            return f"，一般 {limit.amount} {unit}内办结"
    return ""


def _service(category: Category, by_id: dict) -> dict:
    chain = _lineage(category, by_id)
    group = chain[1] if len(chain) > 1 else category  # the parent; a top category groups itself
    level = next((c.handling_level for c in chain if c.handling_level), HandlingLevel.GRID)
    keywords = []
    for node in chain:  # names are "中文 English": both halves are good search words
        for word in [*node.name.split(" ", 1)]:
            if word not in keywords:
                keywords.append(word)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{' / '.join(c.name for c in reversed(chain))}（由{LEVEL_NAMES[level]}处置{_describe_limit(chain)}）",
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": group.name,
    }


def _offered() -> dict:
    categories = list(Category.objects.filter(active=True).prefetch_related("time_limits"))
    return {c.pk: c for c in categories}


@open311_view("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": fmt})).rsplit("/", 1)[0]
    body = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "OPEN311_CONTACT", "") or CENTRE_NAME,
        "key_service": "API keys are issued by the centre's administrators (Django admin → Open311 API keys).",
        "endpoints": [{
            "specification": SPEC_URL, "url": base, "changeset": CHANGESET, "type": "production",
            "formats": ["application/xml", "application/json"],
        }],
    }
    return render(fmt, "discovery", None, body)


@open311_view("GET")
def service_list(request, fmt):
    _check_jurisdiction(request.GET)
    by_id = _offered()
    body = [_service(c, by_id) for c in sorted(by_id.values(), key=lambda c: c.code) if c.open311]
    return render(fmt, "services", "service", body)


def _service_or_404(code: str) -> Category:
    category = Category.objects.filter(code=code, active=True, open311=True).first()
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    return category


@open311_view("GET")
def service_definition(request, code, fmt):
    _check_jurisdiction(request.GET)
    category = _service_or_404(code)
    return render(fmt, "service_definition", None, {"service_code": category.code, "attributes": []})


# ---------------------------------------------------------------- requests: reading


def people_categories() -> set[int]:
    """Ids of the categories that involve people, by their own flag or one above them."""
    rows = {pk: (parent, flag) for pk, parent, flag in Category.objects.values_list("pk", "parent_id", "involves_people")}

    def involves(pk) -> bool:
        seen = set()
        while pk in rows and pk not in seen:
            seen.add(pk)
            pk, flag = rows[pk]
            if flag:
                return True
        return False
    return {pk for pk in rows if involves(pk)}


def _agency(event) -> str:
    if event.department_id:
        return event.department.name
    return event.area.name if event.area_id else CENTRE_NAME


def _service_notice(event) -> str:
    if event.status == State.REPORTED:
        return f"已收到，由{_agency(event)}受理中"
    if event.status == State.REJECTED:
        return "不予受理"
    if event.status == State.CLOSED:
        return "已办结"
    if event.status == State.ARCHIVED:
        return "已办结归档"
    due = f"，预计 {event.due_at.astimezone(TZ):%Y-%m-%d %H:%M} 前办结" if event.due_at else ""
    return f"由{_agency(event)}办理{due}"


def _open311_info(event):
    try:
        return event.open311
    except ObjectDoesNotExist:  # not reported through Open311
        return None


def _media_urls(request, event) -> list[str]:
    info = _open311_info(event)
    urls = [info.media_url] if info and info.media_url else []
    urls += [request.build_absolute_uri(reverse("open311:media", args=[p.pk])) for p in event.report_photos]
    return urls


def _request(request, event, extensions: bool, people: set[int]) -> dict:
    closed = event.status in FINAL_STATES
    media = _media_urls(request, event)
    coarse = event.category_id in people  # near, never at, the place of people
    body = {
        "service_request_id": event.number,
        "status": "closed" if closed else "open",
        "status_notes": event.public_status_note or None,
        "service_name": event.category.name,
        "service_code": event.category.code,
        "description": event.description,
        "agency_responsible": _agency(event),
        "service_notice": _service_notice(event),
        "requested_datetime": w3c(event.reported_at),
        "updated_datetime": w3c(event.closed_at if closed and event.closed_at else (event.last_change or event.reported_at)),
        "expected_datetime": w3c(event.due_at),
        "address": None if coarse else event.address or (event.building.address if event.building_id else "") or None,
        "address_id": None if coarse else event.building_id,
        "zipcode": None,
        "lat": round(event.point.y, COARSE_DECIMALS) if coarse else event.point.y,
        "long": round(event.point.x, COARSE_DECIMALS) if coarse else event.point.x,
        "media_url": media[0] if media else None,
    }
    if extensions:
        body["extended_attributes"] = {
            "detailed_status": DETAILED_STATUS[event.status],
            "workflow_status": event.status,
            "media_urls": media,
        }
    return body


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _positive_int(params, name: str, default: int, most: int | None = None) -> int:
    raw = _param(params, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (most is not None and value > most):
        raise Open311Error(400, f"{name} must be a whole number from 1{f' to {most}' if most else ''}, not {raw!r}")
    return value


def _window(params) -> tuple[dt.datetime, dt.datetime]:
    start, end = _param(params, "start_date"), _param(params, "end_date")
    start = _parse_w3c(start, "start_date") if start else None
    end = _parse_w3c(end, "end_date") if end else None
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        return start, end
    if start:
        return start, start + MAX_SPAN
    end = end or clock.now()
    return end - MAX_SPAN, end


@open311_view("GET", "POST")
def request_list(request, fmt):
    if request.method == "POST":
        return post_request(request, fmt)
    params = request.GET
    _check_jurisdiction(params)
    qs = selectors.open311_events()
    ids = _split(_param(params, "service_request_id"))
    if ids:  # "This overrides all other arguments."
        qs = qs.filter(number__in=ids)
    else:
        codes = _split(_param(params, "service_code"))
        if codes:
            qs = qs.filter(category__code__in=codes)
        start, end = _window(params)
        qs = qs.filter(reported_at__gte=start, reported_at__lte=end)
        statuses = set(_split(_param(params, "status")))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, f"status must be open or closed (comma separated), not {', '.join(sorted(statuses))}")
        if statuses == {"open"}:
            qs = qs.exclude(status__in=FINAL_STATES)
        elif statuses == {"closed"}:
            qs = qs.filter(status__in=FINAL_STATES)
    page = _positive_int(params, "page", 1)
    size = _positive_int(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    events = list(qs.order_by("-reported_at", "-pk")[(page - 1) * size: page * size])
    extensions = _param(params, "extensions").lower() == "true"
    people = people_categories()
    return render(fmt, "service_requests", "request", [_request(request, e, extensions, people) for e in events])


@open311_view("GET")
def request_detail(request, request_id, fmt):
    _check_jurisdiction(request.GET)
    event = selectors.open311_events().filter(number=request_id).first()
    if event is None:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    extensions = _param(request.GET, "extensions").lower() == "true"
    return render(fmt, "service_requests", "request", [_request(request, event, extensions, people_categories())])


@open311_view("GET")
def token(request, token, fmt):
    _check_jurisdiction(request.GET)
    try:
        client_id = uuid.UUID(token)
    except ValueError:
        raise Open311Error(404, f"token {token} not found") from None
    number = selectors.open311_events().filter(client_id=client_id).values_list("number", flat=True).first()
    if number is None:
        raise Open311Error(404, f"token {token} not found")
    return render(fmt, "service_requests", "request", [{"service_request_id": number, "token": token}])


def media(request, pk):
    """A photo sent with an Open311-readable report (stored re-encoded, without EXIF)."""
    photo = EventPhoto.objects.filter(pk=pk, action__seq=1, event__in=selectors.open311_events().values("pk")).first()
    if photo is None:
        raise Http404("no such photo")
    return FileResponse(photo.image.open("rb"), content_type="image/jpeg")


# ---------------------------------------------------------------- requests: reporting


def _float(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} {raw!r} is not a number")
    return value


def _building_by_address(text: str) -> Building:
    """A building whose standard address is `text` (exactly, or else the only one containing it)."""
    text = " ".join(text.split())
    located = Building.objects.filter(location__isnull=False)
    found = list(located.filter(address__iexact=text)[:2]) or list(located.filter(address__icontains=text)[:2])
    if len(found) == 1:
        return found[0]
    how = "matches several addresses" if found else "matches no known address"
    raise Open311Error(400, f"address_string {text!r} {how}; send lat and long")


def _location(params, photos) -> tuple[float, float, str]:
    """(lon, lat, address text) from lat/long, address_id or address_string; else the first
    photo's GPS. Coordinates are WGS84 and checked for range."""
    lat_raw, lon_raw = _param(params, "lat"), _param(params, "long")
    address = _param(params, "address_string")
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            raise Open311Error(400, "lat and long must both be sent")
        lat, lon = _float(lat_raw, "lat"), _float(lon_raw, "long")
        errors = []
        if not -90 <= lat <= 90:
            errors.append(f"lat {lat_raw} is out of range (-90 to 90)")
        if not -180 <= lon <= 180:
            errors.append(f"long {lon_raw} is out of range (-180 to 180)")
        if errors:
            raise Open311Error(400, *errors)
        return lon, lat, address
    address_id = _param(params, "address_id")
    if address_id:
        building = Building.objects.filter(pk=int(address_id) if address_id.isdigit() else None, location__isnull=False).first()
        if building is None:
            raise Open311Error(400, f"address_id {address_id} is not a known address; send lat and long")
        return building.location.x, building.location.y, building.address or address
    if address:
        building = _building_by_address(address)
        return building.location.x, building.location.y, building.address
    exif = next((p["exif_point"] for p in photos if p["exif_point"]), None)
    if exif is not None:
        return exif.x, exif.y, ""
    raise Open311Error(400, "a location is required: lat and long, address_string or address_id")


def _name(first: str, last: str) -> str:
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"  # 姓 then 名, no space
    return " ".join(p for p in (first, last) if p)


def _limited(params, name: str, most: int) -> str:
    value = _param(params, name)
    if len(value) > most:
        raise Open311Error(400, f"{name} is longer than {most} characters")
    return value


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {m}" if field != "__all__" else m for field, msgs in exc.message_dict.items() for m in msgs]
    return list(exc.messages)


def _limit(kind: str, who, what: str) -> None:
    """Count one POST against `who`'s limit for this minute (a fixed window in the cache): 429
    with Retry-After when it is over."""
    limit = {**RATE_LIMITS, **getattr(settings, "OPEN311_RATE_LIMITS", {})}[kind]
    now = clock.now().timestamp()
    name = f"open311:post:{kind}:{who}:{int(now // 60)}"
    cache.add(name, 0, timeout=120)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, count := 1, timeout=120)
    if count > limit:
        wait = 60 - int(now % 60)
        raise Open311Error(429, f"too many {what}: at most {limit} a minute; try again in {wait} s",
                           headers={"Retry-After": str(wait)})


def post_request(request, fmt):
    body_limit = settings.EVENT_PHOTO_MAX_BYTES * MAX_MEDIA + 2**20
    if int(request.META.get("CONTENT_LENGTH") or 0) > body_limit:
        raise Open311Error(400, f"the request is over {body_limit / 2**20:.0f} MB (at most {MAX_MEDIA} photos of {settings.EVENT_PHOTO_MAX_BYTES / 2**20:.0f} MB)")
    try:
        params = request.POST
    except (RequestDataTooBig, TooManyFieldsSent) as exc:
        raise Open311Error(400, f"the request is too large: {exc}") from None
    _refuse_control_arguments(params)
    _check_jurisdiction(params)
    key = _param(params, "api_key") or _param(request.GET, "api_key")
    api_key = ApiKey.lookup(key)  # by the key's hash: only hashes are stored
    if api_key is None:
        _limit("ip", request.META.get("REMOTE_ADDR", ""), "requests without a valid api_key from this address")
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request." if key else "api_key was not provided")
    _limit("key", api_key.pk, "requests with this api_key")
    code = _param(params, "service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided")
    category = _service_or_404(code)
    description = params.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    phone = _limited(params, "phone", 20)
    account_id, device_id = _limited(params, "account_id", 100), _limited(params, "device_id", 100)
    name = _name(_limited(params, "first_name", 30), _limited(params, "last_name", 30))
    email, media_url = _param(params, "email"), _param(params, "media_url")
    client_id = _param(params, "client_id")
    try:
        if email:
            validate_email(email)
    except ValidationError:
        raise Open311Error(400, f"email {email!r} is not an e-mail address") from None
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            raise Open311Error(400, "media_url must be an http(s) URL of at most 500 characters") from None
    try:
        client_id = uuid.UUID(client_id) if client_id else None
    except ValueError:
        raise Open311Error(400, f"client_id {client_id!r} is not a UUID") from None
    uploads = request.FILES.getlist("media")
    if len(uploads) > MAX_MEDIA:
        raise Open311Error(400, f"at most {MAX_MEDIA} media files per request")
    try:
        photos = [read_photo(f, i) for i, f in enumerate(uploads, start=1)]
        lon, lat, address = _location(params, photos)
        result = services.report_open311(
            api_key=api_key, category=category, lon=lon, lat=lat,
            description=description or f"{category.name}（Open311 上报，未填写描述）",
            address=address[:200], reporter_name=name[:60], reporter_phone=phone, email=email,
            device_id=device_id, account_id=account_id, media_url=media_url, client_id=client_id,
            photos=photos,
        )
    except ValidationError as exc:
        raise Open311Error(400, *_messages(exc)) from None
    event = result.event
    body = [{"service_request_id": event.number, "service_notice": _service_notice(event), "account_id": account_id or None}]
    return render(fmt, "service_requests", "request", body, status=201 if result.created else 200)
