"""Scoping everywhere, proven (issue 11): every URL pattern of the resolver — pages, REST API,
admin (lists, change pages, history, autocomplete), tiles, search, Open311 — walked with the ids
and codes of grid B's records, as a user of every role based in grid A and as anonymous; no
response may carry anything of grid B. Admin add forms posted with B's ids give a form error
that names no record and write nothing; autocomplete offers nothing of B.

The walk takes its patterns from the resolver, so a new endpoint is covered without anyone
adding it here; a pattern whose parameters cannot be filled fails the test unless it is in
UNFILLABLE with a reason. Run with `-s` to see the figures (patterns walked, requests made).
"""
import itertools
import json
import math
import re
import time

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import LineString, Point
from django.db.models import ForeignKey, ManyToManyField, OneToOneField
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from gridmap.core import clock
from gridmap.core.admin import ScopedChoices
from gridmap.core.models import Role
from gridmap.events.models import Department, Duty, Event, EventPhoto, Leave, Notification
from gridmap.grids.models import AreaBoundary, Redraw
from gridmap.people.models import Household, HouseholdMember, Person, SpecialGroupRecord, Visit, WelfareRecord
from gridmap.places.models import Building, Dwelling, Facility, Organisation, RentedDwelling

from .estate import citizen_id

# Patterns the walk does not fill, each with its reason (the pattern as the walk names it).
UNFILLABLE = {
    "admin/(?P<url>.*)$": "the admin's catch-all: any path; walked once with a made-up path instead",
}
# The walk must see at least this many patterns (189 when issue 11 was filed).
PATTERN_FLOOR = 150
B_PERSON_NAME = "钱外格"  # the estate's resident of grid B


# --- two areas' worth of data -----------------------------------------------------------------

@pytest.fixture
def leader_a(staff):
    """The estate's grid A leader is the staff's (one user named leader_a)."""
    return staff["leader_a"]


@pytest.fixture
def world(tree, staff, estate, report, make_user):
    """Grid B's records with distinctive markers, and one user of every role based in grid A."""
    other = estate["other"]
    Building.objects.filter(pk=other.pk).update(code="BLDG-B-9173", name="乙区秘密楼", address="乙区秘密路9号")
    person_b = estate["people"]["other"]
    dwelling_b = estate["other_dwelling"]
    Dwelling.objects.filter(pk=dwelling_b.pk).update(owner_name="乙区业主")
    Household.objects.filter(number="HB").update(number="HH-B-5521")
    household_b = Household.objects.get(number="HH-B-5521")
    leader_b = staff["leader_b"]
    leader_b.last_name, leader_b.first_name = "乙区", "组长"
    leader_b.save()
    org_b = Organisation.objects.create(name="乙区机密公司", kind="enterprise", location=Point(113.975, 22.56, srid=4326),
                                        legal_representative="乙区法人", address="乙区机密路1号", building_id=other.pk)
    fac_b = Facility.objects.create(code="FAC-B-7781", kind="manhole", geom=Point(113.976, 22.56, srid=4326),
                                    owner_department="乙区权属单位")
    visit_b = Visit.objects.create(worker=leader_b, person=person_b, household=household_b, visited_at=clock.now(),
                                   findings="乙区走访记录", grid=tree["b"])
    special_b = SpecialGroupRecord.objects.create(person=person_b, group="released", start="2025-01-01", note="乙区重点人员")
    welfare_b = WelfareRecord.objects.create(person=person_b, kind="dibao", start="2024-01-01", note="乙区低保备注")
    rental_b = RentedDwelling.objects.create(dwelling=dwelling_b, landlord_name="乙区房东", landlord_phone="13900002222",
                                             status="registered", lease_start="2025-01-01", lease_end="2026-12-31")
    rental_b.tenants.add(person_b)
    event_b = report(lon=113.9702, lat=22.5501, reporter=leader_b, description="乙区事件描述：楼道漏水")
    photo_b = EventPhoto.objects.filter(event=event_b).first()
    notification_b = Notification.objects.filter(event=event_b).first() or Notification.objects.create(
        user=leader_b, kind="assigned", text="乙区事件描述", event=event_b)
    duty_b = Duty.objects.create(day=clock.today(), area=tree["b"], user=leader_b)
    leave_b = Leave.objects.create(user=leader_b, start=clock.today(), end=clock.today(), deputy=leader_b)
    other.refresh_from_db()
    person_b.refresh_from_db()
    for placed in (other, org_b, fac_b):
        placed.refresh_from_db()
        assert placed.grid_id == tree["b"].pk, placed
    market = Department.objects.get(code="market")
    dept_a = make_user("dept_a", Role.DEPARTMENT, tree["a"])
    market.handlers.add(dept_a)
    users_a = {
        "grid worker": staff["worker_a"],
        "grid leader": staff["leader_a"],
        "area staff": make_user("staff_a", Role.AREA_STAFF, tree["a"]),
        "department": dept_a,
        "leader": make_user("boss_a", Role.LEADER, tree["a"]),
        "centre admin": make_user("centre_a", Role.CENTRE_ADMIN, tree["a"]),
        "anonymous": None,
    }
    markers = [B_PERSON_NAME, person_b.id_number, "BLDG-B-9173", "乙区秘密楼", "乙区秘密路", "乙区业主", "HH-B-5521",
               "乙区机密公司", "乙区法人", "FAC-B-7781", "乙区权属单位", "乙区走访记录", "乙区重点人员", "乙区低保备注",
               "乙区房东", "13900002222", "乙区事件描述", event_b.number, "乙区组长", "乙区边界调整"]
    # a boundary change of grid B (the admin's record of committed changes)
    redraw_b = Redraw.objects.create(operation="reshape", committed_at=clock.now(), effective_from=clock.now(),
                                     reason="乙区边界调整")
    AreaBoundary.objects.filter(area=tree["b"]).update(redraw=redraw_b)
    # the object of area B for each model (the admin's object_id); config models: any row
    objects_b = {
        Person: person_b, Household: household_b, Building: other, Dwelling: dwelling_b, Organisation: org_b,
        Facility: fac_b, Visit: visit_b, SpecialGroupRecord: special_b, WelfareRecord: welfare_b, RentedDwelling: rental_b,
        Event: event_b, Notification: notification_b, Duty: duty_b, Leave: leave_b, type(leader_b): leader_b,
        type(tree["b"]): tree["b"], Redraw: redraw_b,
    }
    return {"users": users_a, "markers": markers, "objects": objects_b, "person": person_b, "building": other,
            "dwelling": dwelling_b, "household": household_b, "org": org_b, "event": event_b, "photo": photo_b,
            "notification": notification_b, "leader_b": leader_b, "estate": estate, "tree": tree}


# --- the walk ---------------------------------------------------------------------------------

def walk_patterns(patterns=None, prefix="", namespace=""):
    """(route, namespaced name, URLPattern) for every pattern of the resolver, recursively."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk_patterns(p.url_patterns, route, ns)
        else:
            assert isinstance(p, URLPattern)
            yield route, (namespace + p.name) if p.name else None, p


PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?P<rx>[^)]*)\)")


def params_of(route: str) -> list[str]:
    return [m.group("name") or m.group("rname") for m in PARAM.finditer(route)]


def fill(route: str, values: dict) -> str:
    """The route with its parameters replaced by `values`, regex anchors and escapes removed."""
    def one(m):
        return str(values[m.group("name") or m.group("rname")])
    url = PARAM.sub(one, route)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".")
    return "/" + url


def b_tile(world, z):
    b = world["building"]
    lon, lat = b.footprint.centroid.coords
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return {"z": z, "x": int((lon + 180) / 360 * n), "y": int(y)}


def fillings(route, name, pattern, world) -> list[dict] | None:
    """Every set of parameter values to walk `route` with (B's objects), None when unknown."""
    params = params_of(route)
    if not params:
        return [{}]
    model_admin = getattr(pattern.callback, "model_admin", None)
    objects = world["objects"]
    if model_admin is not None and len(params) == 1:  # object_id, or the user admin's password page's id
        model = model_admin.model
        obj = objects.get(model) or model._default_manager.order_by("pk").first()
        return [{params[0]: obj.pk if obj else 0}]
    if name == "admin:app_list":
        return [{"app_label": label} for label in sorted({m._meta.app_label for m in admin.site._registry})]
    if name == "admin:view_on_site":
        return [{"content_type_id": ContentType.objects.get_for_model(model).pk, "object_id": obj.pk}
                for model, obj in objects.items()]
    by_name = {
        "events:detail": {"pk": world["event"].pk}, "events:actions": {"pk": world["event"].pk},
        "events:assignees": {"pk": world["event"].pk},
        "events:photo": {"pk": world["event"].pk, "photo_pk": world["photo"].pk if world["photo"] else 1},
        "events:inbox-read-one": {"pk": world["notification"].pk},
        "people:person": {"pk": world["person"].pk}, "people:person-page": {"pk": world["person"].pk},
        "people:building-floors": {"pk": world["building"].pk}, "people:dwelling": {"pk": world["dwelling"].pk},
        "admin:auth_user_password_change": {"id": world["leader_b"].pk},
        "events:category": {"code": "0101"},
        "open311:service": {"code": "0101"},
        "open311:request": {"request_id": world["event"].number},
        "open311:token": {"token": world["event"].number},
        "open311:media": {"pk": world["photo"].pk if world["photo"] else 1},
        "grids:editor-history": {"grid": world["tree"]["b"].pk},
    }
    if name == "map:building-tile":
        base = [b_tile(world, z) for z in (15, 16, 17)]
    elif name in by_name:
        base = [by_name[name]]
    elif params == ["fmt"]:
        base = [{}]
    else:
        return None
    fmts = ["json", "xml"] if "fmt" in params else [None]
    out = []
    for values, fmt in itertools.product(base, fmts):
        values = dict(values, **({"fmt": fmt} if fmt else {}))
        if set(values) != set(params):
            return None
        out.append(values)
    return out


# query strings every parameterless pattern is also walked with: a box over grid B, and search
# terms that match B's records (prefixes of the markers, so an echoed term is no marker)
QUERIES = [
    {"bbox": "113.95,22.50,114.00,22.60", "zoom": "17", "level": "grid", "q": "钱外", "term": "钱外",
     "area": "440305005001002", "extensions": "true"},
    {"q": "乙区", "term": "乙区", "bbox": "113.96,22.54,113.98,22.56", "zoom": "12"},
    {"q": "BLDG-B", "term": "HH-B", "status": "reported"},
]
ALLOWED_STATUS = {200, 301, 302, 303, 307, 308, 400, 403, 404, 405}


def client_for(user):
    c = Client(raise_request_exception=False)
    if user is not None:
        c.force_login(user)
    return c


def spellings(marker: str) -> list[bytes]:
    """A marker as UTF-8, as JSON writes it with ensure_ascii, and as HTML/XML character references."""
    return [marker.encode(), json.dumps(marker)[1:-1].encode(), json.dumps(marker)[1:-1].upper().replace("\\U", "\\u").encode(),
            "".join(c if c.isascii() else f"&#{ord(c)};" for c in marker).encode(),
            "".join(c if c.isascii() else f"&#x{ord(c):x};" for c in marker).encode()]


def leaks(response, markers) -> list[str]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    body += response.get("Location", "").encode()
    return [m for m in markers if any(s in body for s in spellings(m))]


@pytest.mark.django_db
def test_every_url_pattern_as_every_role_of_grid_a_shows_nothing_of_grid_b(world, capsys):
    started = time.monotonic()
    walked, unfilled, urls = [], [], []
    for route, name, pattern in walk_patterns():
        if route in UNFILLABLE:
            continue
        values = fillings(route, name, pattern, world)
        if values is None:
            unfilled.append(f"{route} ({name})")
            continue
        walked.append(route)
        for v in values:
            url = fill(route, v)
            urls.append(url)
            if set(v) <= {"fmt"} and not url.endswith(("/add/", "/logout/", "/password_change/", "/password_change/done/")):
                urls += [url + "?" + "&".join(f"{k}={val}" for k, val in q.items()) for q in QUERIES]
    urls.append("/admin/no/such/page/")
    assert not unfilled, f"patterns the walk cannot fill (give them values or an UNFILLABLE reason): {unfilled}"
    assert len(walked) >= PATTERN_FLOOR, len(walked)

    found, requests = [], 0
    for role, user in world["users"].items():
        c = client_for(user)
        for url in urls:
            r = c.get(url)
            requests += 1
            if r.status_code not in ALLOWED_STATUS:
                found.append(f"{role} GET {url}: {r.status_code}")
                continue
            # a value the caller typed into the URL (an Open311 request id) may be echoed: not a leak
            leaked = leaks(r, [m for m in world["markers"] if m not in url])
            if leaked:
                found.append(f"{role} GET {url}: {r.status_code} shows {leaked}")
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\nURL walk: {len(walked)} URL patterns walked ({len(UNFILLABLE)} allowlisted), {len(urls)} URLs, "
              f"{len(world['users'])} callers, {requests} GET requests in {seconds:.1f} s")
    assert not found, "\n".join(found[:60])


def test_the_walk_would_see_grid_b_as_its_own_leader(world):
    """The control: the same ids shown to grid B's leader do come back, so the walk's fillings hit."""
    c = client_for(world["leader_b"])
    p, b, e = world["person"], world["building"], world["event"]
    for url, marker in [(f"/admin/people/person/{p.pk}/change/", B_PERSON_NAME), (f"/api/persons/{p.pk}/", B_PERSON_NAME),
                        (f"/admin/places/building/{b.pk}/change/", "BLDG-B-9173"), (f"/api/events/{e.pk}/", e.number),
                        (f"/admin/people/visit/{world['objects'][Visit].pk}/change/", "乙区走访记录"), (f"/api/buildings/{b.pk}/floors/", "BLDG-B-9173")]:
        r = c.get(url)
        assert r.status_code == 200 and marker.encode() in r.content, url


# --- admin add forms with B's ids -------------------------------------------------------------

def management(model, user):
    """The inline formsets' management form data of `model`'s add page, no rows."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    data = {}
    for inline in model_admin.get_inline_instances(request):
        prefix = inline.get_formset(request).get_default_prefix()
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def add_forms(world, side):
    """(model, POST data) of add forms whose related ids are `side`'s ("a" or "b") records."""
    estate = world["estate"]
    if side == "a":
        person, building = estate["people"]["young"], estate["building"]
        dwelling, household = estate["dwellings"]["1-101"], Household.objects.get(number="H7")
        org = Organisation.objects.create(name="甲区公司", kind="enterprise", location=Point(113.92, 22.55, srid=4326))
    else:
        person, building, dwelling, household, org = (world["person"], world["building"], world["dwelling"],
                                                      world["household"], world["org"])
    today = clock.today().isoformat()
    return [
        (Visit, {"visited_at_0": today, "visited_at_1": "10:00:00", "person": person.pk, "household": household.pk,
                 "building": building.pk, "organisation": org.pk, "findings": "走访", "worker": ""}),
        (SpecialGroupRecord, {"person": person.pk, "group": "released", "risk_level": "low", "visit_every_days": "30",
                              "start": today}),
        (WelfareRecord, {"person": person.pk, "kind": "dibao", "start": today}),
        (Household, {"number": f"HX-{side}", "kind": "registered", "dwelling": dwelling.pk, "head": person.pk}),
        (Dwelling, {"building": building.pk, "unit": "1", "floor": "9", "room": f"9-{side}", "use": "self",
                    "owner": person.pk}),
        (Organisation, {"name": f"新公司{side}", "kind": "enterprise", "building": building.pk, "risk_level": "low"}),
        # Building (building_head) is left out: its add form needs a drawn footprint; the walk and
        # the autocomplete test cover its person choice
        (Person, {"name": f"新人{side}", "id_type": "resident", "ethnicity": "汉族", "id_number": citizen_id("19900101"), "birth_date": "1990-01-01",
                  "sex": "M", "residence_type": "registered", "dwelling": dwelling.pk}),
    ]


WRITERS = ["grid leader", "grid worker", "area staff"]


def admin_add_url(model):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/"


@pytest.mark.django_db
def test_admin_add_forms_with_ids_of_grid_b_give_a_form_error_and_write_nothing(world):
    fails = []
    # the control: the same forms with grid A's ids are taken from grid A's leader, so the
    # refusals below are the ids' doing, not a form the test got wrong
    for model, data in add_forms(world, "a"):
        if model is Visit:
            data["worker"] = world["users"]["grid leader"].pk
        before = model.objects.count()
        r = client_for(world["users"]["grid leader"]).post(admin_add_url(model), {**data, **management(model, world["users"]["grid leader"])})
        if r.status_code != 302 or model.objects.count() != before + 1:
            errors = re.findall(rb'<ul class="errorlist[^>]*>(.*?)</ul>', r.content)
            fails.append(f"control {model.__name__}: {r.status_code} {errors[:3]}")
    assert not fails, fails
    for role in WRITERS:
        user = world["users"][role]
        c = client_for(user)
        for model, data in add_forms(world, "b"):
            if model is Visit:
                data["worker"] = user.pk
            counts = {m: m.objects.count() for m in (model, Visit, Household, HouseholdMember, Dwelling, Person, SpecialGroupRecord)}
            r = c.post(admin_add_url(model), {**data, **management(model, user)})
            if r.status_code == 200:
                if b"errorlist" not in r.content:
                    fails.append(f"{role} POST {admin_add_url(model)}: 200 without a form error")
            elif r.status_code != 403:
                fails.append(f"{role} POST {admin_add_url(model)}: {r.status_code}")
            leaked = leaks(r, world["markers"])
            if leaked:
                fails.append(f"{role} POST {admin_add_url(model)} shows {leaked}")
            after = {m: m.objects.count() for m in counts}
            if after != counts:
                fails.append(f"{role} POST {admin_add_url(model)} wrote {[m.__name__ for m in counts if after[m] != counts[m]]}")
    assert not fails, "\n".join(fails)


@pytest.mark.django_db
def test_a_household_member_of_grid_b_cannot_be_added_inline(world):
    user = world["users"]["grid leader"]
    household_a = Household.objects.get(number="H7")
    data = {"number": "H7", "kind": household_a.kind, "dwelling": household_a.dwelling_id, "head": household_a.head_id,
            **management(Household, user)}
    data.update({"members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0", "members-0-person": world["person"].pk,
                 "members-0-relation": "other"})
    # the existing member row of H7 must be in the formset as an initial form
    member = household_a.members.get()
    data.update({"members-TOTAL_FORMS": "2", "members-INITIAL_FORMS": "1", "members-0-id": member.pk,
                 "members-0-household": household_a.pk, "members-0-person": member.person_id,
                 "members-0-relation": member.relation, "members-1-household": household_a.pk,
                 "members-1-person": world["person"].pk, "members-1-relation": "other"})
    r = client_for(user).post(f"/admin/people/household/{household_a.pk}/change/", data)
    assert r.status_code == 200 and b"errorlist" in r.content
    assert not leaks(r, world["markers"])
    assert not HouseholdMember.objects.filter(household=household_a, person=world["person"]).exists()


# --- autocomplete -----------------------------------------------------------------------------

def autocomplete_sources():
    """(app_label, model_name, field_name) of every autocomplete field of every admin and inline."""
    out = set()
    for model, model_admin in admin.site._registry.items():
        for source in [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]:
            for field in source.autocomplete_fields:
                out.add((source.model._meta.app_label, source.model._meta.model_name, field))
    return sorted(out)


@pytest.mark.django_db
def test_autocomplete_offers_nothing_of_grid_b(world):
    sources = autocomplete_sources()
    assert ("people", "visit", "person") in sources and ("places", "renteddwelling", "tenants") in sources
    fails, hits = [], 0
    for role, user in world["users"].items():
        c = client_for(user)
        for app_label, model_name, field in sources:
            for term in ["", "钱外", "乙区", "B-"]:
                r = c.get("/admin/autocomplete/", {"app_label": app_label, "model_name": model_name, "field_name": field, "term": term})
                if r.status_code not in (200, 302, 403, 404):
                    fails.append(f"{role} {app_label}.{model_name}.{field} {term!r}: {r.status_code}")
                leaked = leaks(r, world["markers"])
                if leaked:
                    fails.append(f"{role} {app_label}.{model_name}.{field} {term!r}: {leaked}")
                hits += r.status_code == 200
    assert not fails, "\n".join(fails)
    assert hits  # some roles do use autocomplete
    # the control: grid B's leader finds B's person by the same term
    r = client_for(world["leader_b"]).get("/admin/autocomplete/", {"app_label": "people", "model_name": "visit",
                                                                   "field_name": "person", "term": "钱外"})
    assert leaks(r, [B_PERSON_NAME])


# --- every admin scopes its related-record choices --------------------------------------------

def test_every_admin_and_inline_scopes_its_related_choices_and_none_uses_raw_ids():
    """A new admin or inline with a relation must mix in ScopedChoices (core/admin.py) and pick
    records by autocomplete: raw-id widgets print the name behind any id, unscoped."""
    missing, raw = [], []
    for model, model_admin in admin.site._registry.items():
        for source in [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]:
            relations = [f for f in source.model._meta.get_fields() if isinstance(f, (ForeignKey, ManyToManyField, OneToOneField))]
            if relations and not isinstance(source, ScopedChoices) and source.model._meta.app_label.startswith(("core", "grids", "places", "people", "events")):
                missing.append(type(source).__qualname__)
            if source.raw_id_fields:
                raw.append(type(source).__qualname__)
    assert not missing, missing
    assert not raw, raw
    assert apps.get_app_config("people")
