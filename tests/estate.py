"""Helpers for building residents on real PostGIS (ID numbers, people, households); the `estate`
and `users` fixtures that use them live in tests/conftest.py."""
import datetime as dt

from gridmap.core.validators import id_check_char
from gridmap.people.models import Household, HouseholdMember, Person

_serial = iter(range(100, 999))


def citizen_id(birth: str, sex: str = "M") -> str:
    """A valid GB 11643 number for the birth date (YYYYMMDD): odd 17th digit for men."""
    n = next(_serial)
    n = n if (n % 2 == 1) == (sex == "M") else n + 1
    first17 = f"440305{birth}{n:03d}"
    return first17 + id_check_char(first17)


def person(dwelling, name, birth="19850101", sex="M", **kw):
    return Person.objects.create(id_number=citizen_id(birth, sex), name=name, sex=sex,
                                 birth_date=dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
                                 dwelling=dwelling, phone="13812345678", **kw)


def household(number, dwelling, *people_relations):
    h = Household.objects.create(number=number, dwelling=dwelling)
    for p, relation in people_relations:
        HouseholdMember.objects.create(household=h, person=p, relation=relation)
        if relation == "head":
            h.head = p
            h.save()
    return h
