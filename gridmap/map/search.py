"""The map's search box (GET /api/search/?q=…): one query string over areas, buildings, people,
organisations and events, scoped to the caller's area, at most MAX_RESULTS results grouped by kind.

Every lookup is an indexed one or runs over a small scoped table:
- area code, building code, person name, event number: prefix (LIKE 'q%') on the existing
  btree varchar_pattern_ops indexes; credit code: exact, on its unique index; ID number: exact,
  on the unique index of its keyed hash (the number itself is encrypted, gridmap.core.crypto);
- building name / address, organisation name, area name: substring (ILIKE '%q%') over the
  caller's scoped rows (hundreds to tens of thousands; no trigram index: pg_trgm is not installed,
  and the queries stay in single-digit milliseconds on the demo district).

Coordinates: a query that is a lon/lat pair ("113.9327, 22.5227", "113.9327 22.5227", latitude
first "22.5227,113.9327"; told apart by range, see parse_coordinates), optionally prefixed "gcj:" /
"gcj02:" when copied from a GCJ-02 map (Gaode, Tencent), gives one "point" result alone: the WGS84
point, and the primary-layer grid there with its leader if the caller may see that grid.

ID numbers: a person is found by ID only on an exact match of the whole 18-character resident ID
(the last character may be x/X), never by a part of it, whatever the role. Results always show
the ID masked: a list of names needs no full numbers, so a search by name writes no access-log
rows; the person panel shows (and logs) the full record for roles that may see it. A search by
the whole ID number that returns a person ties that full number to the person, whatever the
role: it writes one access-log row per person returned (fields "id_number", in one INSERT).
"""
import re

import numpy as np
from django.contrib.gis.db.models.functions import Envelope
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from rest_framework.exceptions import ValidationError

from gridmap.core.crypto import matches
from gridmap.core.geo import gcj02_to_wgs84
from gridmap.core.scoping import mask_id_number, scope
from gridmap.core.services import log_sensitive_views
from gridmap.core.validators import validate_no_control_characters
from gridmap.events.selectors import visible_events
from gridmap.events.workflow import State
from gridmap.grids.models import Level
from gridmap.grids.selectors import grid_at, visible_areas
from gridmap.people.models import Person
from gridmap.people.selectors import persons
from gridmap.places.models import Organisation
from gridmap.places.selectors import buildings

MAX_RESULTS = 20
MAX_QUERY = 64
KINDS = ("area", "building", "person", "organisation", "event")
RESIDENT_ID = re.compile(r"\d{17}[\dXx]")
CREDIT_CODE = re.compile(r"[0-9A-Za-z]{18}")
# A coordinate pair: two decimal numbers split by a comma (ASCII or full-width) and/or white space,
# optionally after "gcj:" / "gcj02:" / "gcj-02:" (a pair copied from a GCJ-02 map).
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
COORDINATES = re.compile(rf"(?:(?P<gcj>gcj-?(?:02)?)\s*[:：]\s*)?(?P<a>{_NUMBER})\s*(?:[,，]\s*|\s+)(?P<b>{_NUMBER})", re.I)
# Within China longitude is 73–136° E and latitude 3–54° N: the ranges do not overlap, so the
# order of a pair follows from its numbers.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def normalise(raw: str | None) -> str:
    """Trimmed, inner runs of white space collapsed, at most MAX_QUERY characters."""
    return " ".join((raw or "").split())[:MAX_QUERY]


def _point(geom) -> list[float] | None:
    return [round(geom.x, 7), round(geom.y, 7)] if geom is not None else None


def _bbox(geom) -> list[float] | None:
    return [round(v, 7) for v in geom.extent] if geom is not None else None


def _exact_first(field: str, value: str):
    return Case(When(**{field: value}, then=Value(0)), default=Value(1), output_field=IntegerField())


def parse_coordinates(q: str) -> tuple[float, float, bool] | None:
    """(lon, lat, gcj) for a query that is a coordinate pair inside China in either order, else
    None. A pair is lon, lat if the first number is a longitude and the second a latitude
    (CHINA_LON, CHINA_LAT), lat, lon the other way round; a pair that fits both orders or neither
    (91, 200; 2.35, 48.85) is not a coordinate. `gcj`: the numbers are GCJ-02 (not yet converted)."""
    m = COORDINATES.fullmatch(q.strip())
    if not m:
        return None
    a, b = float(m["a"]), float(m["b"])
    within = lambda v, r: r[0] <= v <= r[1]  # noqa: E731
    lon_lat = within(a, CHINA_LON) and within(b, CHINA_LAT)
    lat_lon = within(a, CHINA_LAT) and within(b, CHINA_LON)
    if lon_lat == lat_lon:
        return None
    lon, lat = (a, b) if lon_lat else (b, a)
    return lon, lat, m["gcj"] is not None


def find_point(user, lon: float, lat: float, gcj: bool) -> dict:
    """The "point" result of a coordinate query: the WGS84 point (converted with gridmap.core.geo
    when the pair is GCJ-02), and the primary-layer grid there with its leader when the caller
    may see that grid; "outside your area" when the point is not in the caller's area."""
    given = f"{lon:.6f}, {lat:.6f}"
    if gcj:
        lon, lat = (float(v) for v in gcj02_to_wgs84(np.array([[lon, lat]]))[0])
    grid = grid_at(lon, lat)
    if grid is not None and visible_areas(user).filter(pk=grid.pk).exists():
        where = [grid.name, grid.code, f"{_('Leader')} {grid.leader.display_name}" if grid.leader_id else None]
    elif grid is None and _in_area(user, lon, lat):
        where = [_("outside every grid")]
    else:
        where = [_("outside your area")]  # never name a grid the caller may not see
    if gcj:
        where.append(_("converted from GCJ-02 {coords}").format(coords=given))
    label = f"{lon:.6f}, {lat:.6f}"
    return {"kind": "point", "id": label.replace(" ", ""), "label": label, "sublabel": " · ".join(filter(None, where)),
            "point": [round(lon, 7), round(lat, 7)], "bbox": None, "open": {}}


def _in_area(user, lon: float, lat: float) -> bool:
    if user.sees_everything:
        return True
    boundary = user.area.boundary if user.area_id else None
    return boundary is not None and boundary.intersects(Point(lon, lat, srid=4326))


# --- one finder per kind: (user, q) → result dicts, at most MAX_RESULTS -------------------------

def find_areas(user, q: str) -> list[dict]:
    qs = (
        visible_areas(user)
        .filter(Q(code__startswith=q) | Q(name__icontains=q))
        .annotate(exact=_exact_first("code", q), env=Envelope("boundary"))
        .order_by("exact", Length("name"), "code")
        .values("id", "code", "name", "level", "env")[:MAX_RESULTS]
    )
    levels = dict(Level.choices)
    return [
        {"kind": "area", "id": a["id"], "label": a["name"], "sublabel": f"{levels.get(a['level'], a['level'])} · {a['code']}",
         "bbox": _bbox(a["env"]), "point": None, "open": {"area": a["id"]}}
        for a in qs
    ]


def find_buildings(user, q: str) -> list[dict]:
    qs = (
        buildings(user)
        .filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(address__icontains=q))
        .annotate(exact=_exact_first("code", q), env=Envelope("footprint"))
        .order_by("exact", Length("name"), "code")
        .values("id", "code", "name", "address", "location", "env", "grid__name")[:MAX_RESULTS]
    )
    return [
        {"kind": "building", "id": b["id"], "label": b["name"] or b["address"] or b["code"],  # most footprints are unnamed
         "sublabel": " · ".join(filter(None, [b["address"], b["code"], b["grid__name"]])),
         "point": _point(b["location"]), "bbox": _bbox(b["env"]), "open": {"building": b["id"]}}
        for b in qs
    ]


def find_persons(user, q: str) -> list[dict]:
    """By the whole resident ID (exact), else by name prefix. Never by a part of an ID number."""
    by_id = RESIDENT_ID.fullmatch(q) is not None
    if by_id:
        match = matches(Person, "id_number", q)
    elif any(c.isdigit() for c in q):
        return []  # names hold no digits: a digit string is an ID fragment, never searched
    else:
        match = Q(name__startswith=q)
    people = list(
        persons(user).filter(match)
        .select_related("dwelling__building", "grid")
        .only("id", "name", "id_number", "residence_type", "dwelling__room", "dwelling__unit",
              "dwelling__building__id", "dwelling__building__name", "dwelling__building__code",
              "dwelling__building__location", "grid__name")
        .order_by("name", "id")[:MAX_RESULTS]  # name order: a whole name before longer ones, and LIMIT stops early
    )
    if by_id and people:
        log_sensitive_views(user, people, "search by ID number", fields="id_number")
    results = []
    for p in people:
        d = p.dwelling
        b = d.building if d else None
        where = f"{b.name or b.code} {d.room}" if b else None
        results.append({
            "kind": "person", "id": p.pk, "label": p.name,
            "sublabel": " · ".join(filter(None, [
                mask_id_number(p.id_number), p.get_residence_type_display(), where])),
            "point": _point(b.location) if b else None, "bbox": None,
            "open": {"person": p.pk, **({"building": b.pk} if b else {})},
        })
    return results


def find_organisations(user, q: str) -> list[dict]:
    match = Q(name__icontains=q)
    if CREDIT_CODE.fullmatch(q):
        match |= Q(credit_code=q.upper())
    qs = (
        scope(Organisation.objects.all(), user)
        .filter(match)
        .order_by(Length("name"), "name")
        .values("id", "name", "credit_code", "address", "location", "building_id", "building__location")[:MAX_RESULTS]
    )
    return [
        {"kind": "organisation", "id": o["id"], "label": o["name"],
         "sublabel": " · ".join(filter(None, [o["address"], o["credit_code"]])),
         "point": _point(o["location"] or o["building__location"]), "bbox": None,
         "open": {"building": o["building_id"]} if o["building_id"] else {}}
        for o in qs
    ]


def find_events(user, q: str) -> list[dict]:
    """By event number: exact, or a prefix of at least 6 characters (the date part)."""
    number = q.upper()
    if len(number) < 6 or " " in number:
        return []
    qs = (
        visible_events(user)
        .filter(number__startswith=number)
        .annotate(exact=_exact_first("number", number))
        .order_by("exact", "-number")
        .values("id", "number", "address", "status", "category__name", "point")[:MAX_RESULTS]
    )
    states = dict(State.choices)
    return [
        {"kind": "event", "id": e["id"], "label": e["number"],
         "sublabel": " · ".join(filter(None, [e["category__name"], str(states.get(e["status"], e["status"])), e["address"]])),
         "point": _point(e["point"]), "bbox": None, "open": {"event": e["id"], "url": f"/?event={e['id']}"}}
        for e in qs
    ]


FINDERS = {"area": find_areas, "building": find_buildings, "person": find_persons,
           "organisation": find_organisations, "event": find_events}


def _share(found: dict[str, list], limit: int) -> dict[str, list]:
    """At most `limit` results in all, shared round-robin so that every kind with hits shows."""
    taken = {kind: 0 for kind in found}
    left = limit
    while left:
        progressed = False
        for kind, rows in found.items():
            if left and taken[kind] < len(rows):
                taken[kind] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return {kind: rows[:taken[kind]] for kind, rows in found.items()}


def search(user, raw: str | None, limit: int = MAX_RESULTS) -> dict:
    """{"query", "results": [...], "groups": [{"kind", "label", "count"}]}: results grouped by kind
    in KINDS order (a coordinate query: one "point" result, see find_point), each with kind, id,
    label, sublabel, point ([lon, lat]) and/or bbox
    ([w, s, e, n]) to fly to, and `open` (what the map opens: building / person / event / area)."""
    try:  # a NUL would reach PostgreSQL and fail there (a 500): refuse it here, a 400 in the API
        validate_no_control_characters(raw)
    except DjangoValidationError as exc:
        raise ValidationError({"q": exc.messages}) from None
    q = normalise(raw)
    if not q or not user.is_authenticated:
        return {"query": q, "results": [], "groups": []}
    labels = kind_labels()
    coords = parse_coordinates(q)
    if coords is not None:  # a coordinate is not a name: its point alone
        return {"query": q, "results": [find_point(user, *coords)],
                "groups": [{"kind": "point", "label": labels["point"], "count": 1}]}
    found = {kind: FINDERS[kind](user, q) for kind in KINDS}
    shared = _share({k: v for k, v in found.items() if v}, min(limit, MAX_RESULTS))
    return {
        "query": q,
        "results": [r for kind in KINDS for r in shared.get(kind, [])],
        "groups": [{"kind": kind, "label": labels[kind], "count": len(shared[kind])} for kind in KINDS if kind in shared],
    }


def kind_labels() -> dict[str, str]:
    return {"point": pgettext("search group", "Coordinates"), "area": pgettext("search group", "Areas"), "building": pgettext("search group", "Buildings"),
            "person": pgettext("search group", "People"), "organisation": pgettext("search group", "Organisations"),
            "event": pgettext("search group", "Events")}


def page_text() -> dict:
    """Labels of the search box (web/static/gridmap/search.js)."""
    return {"searchNone": _("Nothing found in your area"), "searchFailed": _("Search failed")}
