"""Reads over the population registers, always scoped to the caller's area, and the floor table
(楼盘表) that tags a building's dwellings by who lives there."""
import datetime as dt

from django.db.models import Case, CharField, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from gridmap.core import clock
from gridmap.core.models import Role
from gridmap.core.scoping import mask_id_number, mask_phone, scope
from gridmap.core.services import log_sensitive_views
from gridmap.places.models import Building, Dwelling, DwellingUse, RentedDwelling
from gridmap.places.selectors import building_card, buildings, dwellings

from .models import SENSITIVE_WELFARE
from .models import EmploymentRecord, Household, HouseholdMember, Person, Relation, ResidenceType, SpecialGroupRecord, Visit
from .models import WelfareKind, WelfareRecord

# Persons are placed through their dwelling; an unplaced person has no point of their own.
PERSON_LOCATION = "dwelling__building__location"
# How many visits and events a card lists (the newest).
RECENT = 10


def persons(user) -> QuerySet[Person]:
    return scope(Person.objects.all(), user, location=PERSON_LOCATION)


def households(user) -> QuerySet[Household]:
    return scope(Household.objects.all(), user, location="dwelling__building__location")


def visits(user) -> QuerySet[Visit]:
    return scope(Visit.objects.all(), user)


def special_group_records(user) -> QuerySet[SpecialGroupRecord]:
    """Special-group records: only for roles that see sensitive data. Sealed records (封存, a
    minor's minor offence) only for the sealing role, the centre administrator."""
    if not user.is_authenticated or not user.sees_sensitive:
        return SpecialGroupRecord.objects.none()
    qs = scope(SpecialGroupRecord.objects.all(), user, grid="person__grid", location=None)
    return qs if user.is_superuser or user.role == Role.CENTRE_ADMIN else qs.filter(sealed=False)


def welfare_records(user) -> QuerySet[WelfareRecord]:
    qs = scope(WelfareRecord.objects.all(), user, grid="person__grid", location=None)
    return qs if user.sees_sensitive else qs.exclude(kind__in=SENSITIVE_WELFARE)


# --- cards: what a caller may see of people, masked or logged -----------------------------------

def current(today: dt.date) -> Q:
    """A dated record that still holds on `today`."""
    return Q(end__isnull=True) | Q(end__gte=today)


def age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _employment(r: EmploymentRecord) -> dict:
    return {"id": r.pk, "status": r.status, "status_label": r.get_status_display(), "employer": r.employer,
            "occupation": r.occupation, "start": r.start, "end": r.end}


def _welfare(r: WelfareRecord) -> dict:
    return {"id": r.pk, "kind": r.kind, "kind_label": r.get_kind_display(), "category": r.category, "grade": r.grade,
            "monthly_amount": r.monthly_amount, "start": r.start, "end": r.end, "note": r.note}


def _special(r: SpecialGroupRecord) -> dict:
    return {"id": r.pk, "group": r.group, "group_label": r.get_group_display(), "risk_level": r.risk_level,
            "risk_label": r.get_risk_level_display(), "visit_every_days": r.visit_every_days,
            "responsible": r.responsible and r.responsible.display_name, "sealed": r.sealed, "start": r.start, "end": r.end, "note": r.note}


def person_cards(user, people: list[Person], *, what: str, today: dt.date | None = None,
                 current_only: bool = False) -> list[dict]:
    """Cards for persons the caller may see (the caller has scoped them), records fetched in
    one query per kind. ID numbers and phones are masked unless the role sees sensitive data;
    a full view writes one AccessLog row per person; a masked one writes none. Special-group
    records are [] for roles that may not see them (see special_group_records)."""
    today = today or clock.today()
    ids = [p.pk for p in people]
    when = current(today) if current_only else Q()
    by_person: dict[int, dict[str, list]] = {pk: {"employment": [], "welfare": [], "special_groups": []} for pk in ids}
    for r in EmploymentRecord.objects.filter(when, person_id__in=ids).order_by("-start"):
        by_person[r.person_id]["employment"].append(_employment(r))
    for r in welfare_records(user).filter(when, person_id__in=ids).order_by("-start"):
        by_person[r.person_id]["welfare"].append(_welfare(r))
    for r in special_group_records(user).filter(when, person_id__in=ids).select_related("responsible").order_by("-start"):
        by_person[r.person_id]["special_groups"].append(_special(r))
    full = user.sees_sensitive
    cards = []
    for p in people:
        records = by_person[p.pk]
        jobs = [e for e in records["employment"] if e["end"] is None or e["end"] >= today]
        cards.append({
            "id": p.pk, "name": p.name, "sex": p.sex, "sex_label": p.get_sex_display(),
            "birth_date": p.birth_date, "age": age(p.birth_date, today),
            "residence_type": p.residence_type, "residence_label": p.get_residence_type_display(),
            "grid": p.grid.code if p.grid_id else None,
            "id_number": p.id_number if full else mask_id_number(p.id_number),
            "phone": p.phone if full else mask_phone(p.phone),
            "masked": not full,
            "employment_now": jobs[0] if jobs else None,
            **records,
        })
        if current_only:
            del cards[-1]["employment"]  # the current one is employment_now
    if full and people:
        log_sensitive_views(user, people, what)
    return cards


def person_card(user, pk: int, history: bool = False, today: dt.date | None = None) -> dict:
    """One person as the caller may see them; a full view of sensitive fields is logged once.
    With history: every dated record, the household and dwelling, and recent visits and events.
    Raises Person.DoesNotExist outside the caller's area."""
    today = today or clock.today()
    person = persons(user).select_related("dwelling__building", "grid").get(pk=pk)
    card = person_cards(user, [person], what="person record" if history else "person card", today=today)[0]
    if not history:
        return card
    card.update({
        "id_type": person.id_type, "ethnicity": person.ethnicity, "registered_residence": person.registered_residence,
        "origin": person.origin, "stay_reason": person.stay_reason, "arrived_on": person.arrived_on,
        "stay_until": person.stay_until, "party_member": person.party_member, "volunteer": person.volunteer,
        "dwelling": _dwelling_ref(person.dwelling), "household": None,
    })
    membership = HouseholdMember.objects.filter(person=person).select_related("household").first()
    household_id = None
    if membership is not None:
        household = membership.household
        household_id = household.pk
        visible = persons(user).filter(membership__household=household)
        card["household"] = {
            "id": household.pk, "number": household.number, "kind_label": household.get_kind_display(),
            "relation": membership.relation, "relation_label": membership.get_relation_display(),
            "members": [
                {"id": p.pk, "name": p.name, "relation_label": p.membership.get_relation_display()}
                for p in visible.select_related("membership").order_by(_relation_order("membership__relation"), "birth_date")
            ],
        }
    about = Q(person=person) | (Q(household_id=household_id) if household_id else Q(pk__in=[]))
    card["visits"] = _visits(user, about)
    card["events"] = _events(user, Q(involved_persons=person))
    return card


def _relation_order(field: str):
    return Case(*(When(**{field: value}, then=Value(i)) for i, value in enumerate(Relation.values)),
                default=Value(len(Relation.values)), output_field=IntegerField())


def _dwelling_ref(d) -> dict | None:
    if d is None:
        return None
    b = d.building
    return {"id": d.pk, "unit": d.unit, "floor": d.floor, "room": d.room,
            "building": {"id": b.pk, "code": b.code, "name": b.name, "label": b.label, "address": b.address}}


def _visits(user, about: Q) -> list[dict]:
    return [
        {"id": v.pk, "visited_at": v.visited_at, "worker": v.worker and v.worker.display_name, "findings": v.findings,
         "person": v.person_id, "household": v.household_id}
        for v in visits(user).filter(about).select_related("worker").order_by("-visited_at")[:RECENT]
    ]


# Events sit above people (they are reported about persons and buildings), so people does not
# import them: the events app lends its reader here at start-up (events/apps.py), as it lends
# grids its boundary follower. reader(user, about: Q, limit) → the newest linked events the user sees.
EVENT_READERS: dict = {}


def _events(user, about: Q) -> list[dict]:
    """Recent events linked to the record that the caller may see (read-only)."""
    reader = EVENT_READERS.get("recent")
    return reader(user, about, RECENT) if reader else []


def dwelling_card(user, pk: int, today: dt.date | None = None) -> dict:
    """A dwelling with its rental, its households and their members (current records), and
    recent visits and linked events. Raises Dwelling.DoesNotExist outside the caller's area."""
    today = today or clock.today()
    dwelling = dwellings(user).select_related("building", "owner").get(pk=pk)
    full = user.sees_sensitive
    rental = None
    rented = RentedDwelling.objects.filter(dwelling=dwelling).select_related("landlord").first()
    if rented is not None:
        rental = {
            "landlord": rented.landlord.name if rented.landlord else rented.landlord_name,
            "landlord_phone": rented.landlord_phone if full else mask_phone(rented.landlord_phone),
            "tenants": list(rented.tenants.values_list("name", flat=True)),
            "lease_start": rented.lease_start, "lease_end": rented.lease_end, "agent": rented.agent,
            "status": rented.status, "status_label": rented.get_status_display(), "registered_on": rented.registered_on,
        }
    homes = list(households(user).filter(dwelling=dwelling).select_related("head").order_by("number"))
    members = list(
        persons(user).filter(membership__household__in=homes).select_related("membership", "grid")
        .order_by(_relation_order("membership__relation"), "birth_date")
    )
    others = list(persons(user).filter(dwelling=dwelling).exclude(membership__household__in=homes).select_related("grid").order_by("name"))
    cards = person_cards(user, members + others, what=f"dwelling {dwelling.pk}", today=today, current_only=True)
    card_of = {c["id"]: c for c in cards}
    by_home: dict[int, list] = {h.pk: [] for h in homes}
    for p in members:
        m = p.membership
        by_home[m.household_id].append({**card_of[p.pk], "relation": m.relation, "relation_label": m.get_relation_display()})
    ids = [c["id"] for c in cards]
    b = dwelling.building
    return {
        "dwelling": {
            **_dwelling_ref(dwelling), "use": dwelling.use, "use_label": dwelling.get_use_display(), "area_m2": dwelling.area_m2,
            "owner": dwelling.owner.name if dwelling.owner else dwelling.owner_name,
        },
        "building": {"id": b.pk, "code": b.code, "name": b.name, "label": b.label},
        "rental": rental,
        "households": [
            {"id": h.pk, "number": h.number, "kind": h.kind, "kind_label": h.get_kind_display(),
             "head": h.head.name if h.head else None, "members": by_home[h.pk]}
            for h in homes
        ],
        "other_residents": [card_of[p.pk] for p in others],
        "visits": _visits(user, Q(household__in=homes) | Q(person_id__in=ids)),
        "events": _events(user, Q(involved_persons__in=ids) | Q(building_id=b.pk)),
        "sensitive": full,
    }


# --- the floor table (楼盘表): building → floors × units → dwellings with their tags -------------

def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _count(qs: QuerySet, fk: str = "dwelling"):
    """A correlated COUNT(*) of `qs` rows per dwelling, 0 when none."""
    counted = qs.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def tagged_dwellings(user, building: Building, today: dt.date | None = None) -> QuerySet[Dwelling]:
    """The building's dwellings, each annotated in SQL (one statement) with its tags:
    n_households, n_residents, n_floating (流动人口 living there), has_welfare (a current welfare
    record the caller may see), elderly_alone ('record': a current 空巢老人 record; 'alone60': the
    only resident is aged 60 or more) and, for roles that see sensitive data only, has_special (a current
    special-group record the caller may see, sealed ones only for the sealing role)."""
    today = today or clock.today()
    holds = current(today)
    residents = Person.objects.filter(dwelling=OuterRef("pk"))
    welfare = welfare_records(user).filter(holds, person__dwelling=OuterRef("pk"))
    qs = (
        Dwelling.objects.filter(building=building)
        .annotate(
            n_households=_count(Household.objects.all()),
            n_residents=_count(Person.objects.all()),
            n_floating=_count(Person.objects.filter(residence_type=ResidenceType.FLOATING)),
            has_welfare=Exists(welfare),
            elderly_alone=Case(
                When(Exists(welfare.filter(kind=WelfareKind.EMPTY_NEST)), then=Value("record")),
                When(Q(n_residents=1) & Exists(residents.filter(birth_date__lte=years_before(today, 60))), then=Value("alone60")),
                default=Value(None), output_field=CharField(),
            ),
        )
        .order_by("-floor", "unit", "room")
    )
    if user.sees_sensitive:
        qs = qs.annotate(has_special=Exists(special_group_records(user).filter(holds, person__dwelling=OuterRef("pk"))))
    return qs


TAGS = ("floating", "special", "welfare", "elderly_alone")


def floor_table(user, pk: int, today: dt.date | None = None) -> dict:
    """A building's card and its floor table (楼盘表), top floor first; cells are floor × unit
    and hold the dwellings with their tags, plus totals for the legend. Two queries. When the
    floors above ground are unknown, only the floors dwellings are on (and those below ground) are
    listed and `floors_note` says why; else it is None. Raises Building.DoesNotExist outside the
    caller's area."""
    building = buildings(user).select_related("grid__leader", "building_head").get(pk=pk)
    rows = list(tagged_dwellings(user, building, today).values(
        "id", "unit", "floor", "room", "use", "area_m2", "n_households", "n_residents", "n_floating",
        "has_welfare", "elderly_alone", *(["has_special"] if user.sees_sensitive else []),
    ))
    labels = dict(DwellingUse.choices)
    # Declared floors (no floor 0; a half storey is a floor: 3.5 → 4; none when unknown) and units,
    # plus any a dwelling is recorded on.
    floors = set(range(1, (building.whole_floors or 0) + 1)) | set(range(-building.floors_below, 0)) | {r["floor"] for r in rows}
    units = sorted(set(range(1, building.units + 1)) | {r["unit"] for r in rows})
    cells = {(f, u): [] for f in floors for u in units}
    totals = {"dwellings": len(rows), **{use: 0 for use in DwellingUse.values},
              "households": 0, "residents": 0, "floating_residents": 0,
              **{tag: 0 for tag in TAGS if tag != "special" or user.sees_sensitive}}
    for r in rows:
        cell = {
            "id": r["id"], "room": r["room"], "use": r["use"], "use_label": labels.get(r["use"], r["use"]),
            "area_m2": r["area_m2"], "households": r["n_households"], "residents": r["n_residents"],
            "floating": r["n_floating"], "welfare": r["has_welfare"], "elderly_alone": r["elderly_alone"],
            **({"special": r["has_special"]} if user.sees_sensitive else {}),
        }
        tags = [t for t in TAGS if cell.get(t)]
        cells[(r["floor"], r["unit"])].append({**cell, "tags": tags})
        totals[r["use"]] = totals.get(r["use"], 0) + 1
        totals["households"] += r["n_households"]
        totals["residents"] += r["n_residents"]
        totals["floating_residents"] += r["n_floating"]
        for t in tags:
            totals[t] += 1
    return {
        "building": building_card(building),
        "units": units,
        "floors": [
            {"floor": f, "label": f"{f}F" if f > 0 else f"B{-f}", "cells": [{"unit": u, "dwellings": cells[(f, u)]} for u in units]}
            for f in sorted(floors, reverse=True)
        ],
        "totals": totals,
        "sensitive": user.sees_sensitive,
        "floors_note": None if building.floors_above is not None else _(
            "The number of floors is not recorded: the table shows only the floors dwellings are on."),
    }
