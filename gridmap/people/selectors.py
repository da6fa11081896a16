"""Reads over the population registers, always scoped to the caller's area."""
from django.db.models import QuerySet

from gridmap.core.models import Role
from gridmap.core.scoping import mask_id_number, mask_phone, scope
from gridmap.core.services import log_sensitive_view

from .models import Household, Person, SpecialGroupRecord, Visit, WelfareRecord
from .models import SENSITIVE_WELFARE

# Persons are placed through their dwelling; an unplaced person has no point of their own.
PERSON_LOCATION = "dwelling__building__location"


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


def person_card(user, pk: int) -> dict:
    """One person as the caller may see them; a full view of sensitive fields is logged."""
    person = persons(user).select_related("dwelling__building", "grid").get(pk=pk)
    card = {
        "id": person.pk, "name": person.name, "sex": person.sex, "birth_date": person.birth_date,
        "residence_type": person.residence_type, "grid": person.grid and person.grid.code,
        "id_number": person.id_number, "phone": person.phone,
        "special_groups": list(special_group_records(user).filter(person=person).values("group", "risk_level", "start", "end")),
        "welfare": list(welfare_records(user).filter(person=person).values("kind", "category", "grade", "start", "end")),
    }
    if user.sees_sensitive:
        log_sensitive_view(user, person, "person card")
    else:
        card["id_number"] = mask_id_number(person.id_number)
        card["phone"] = mask_phone(person.phone)
    return card
