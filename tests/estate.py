"""Helpers for building residents on real PostGIS (ID numbers, people, households); the `estate`
and `users` fixtures that use them live in tests/conftest.py."""
import datetime as dt

from gridmap.core import clock
from gridmap.core.validators import id_check_char
from gridmap.people.models import Household, HouseholdMember, Person

_serial = iter(range(100, 999))


def citizen_id(birth: str, sex: str = "M") -> str:
    """A valid GB 11643 number for the birth date (YYYYMMDD): odd 17th digit for men."""
    n = next(_serial)
    n = n if (n % 2 == 1) == (sex == "M") else n + 1
    first17 = f"440305{birth}{n:03d}"
    return first17 + id_check_char(first17)


def born(age: int) -> dt.date:
    """A birth date that makes someone `age` today, half a year from either birthday, so the
    tags that depend on age (elderly, minors) hold whatever day the suite runs."""
    today = clock.today()
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - age, day=28)
    return birthday - dt.timedelta(days=182)


def person(dwelling, name, age=40, sex="M", **kw):
    birth = born(age)
    return Person.objects.create(id_number=citizen_id(f"{birth:%Y%m%d}", sex), name=name, sex=sex, birth_date=birth,
                                 dwelling=dwelling, phone="13812345678", **kw)


def household(number, dwelling, *people_relations):
    h = Household.objects.create(number=number, dwelling=dwelling)
    for p, relation in people_relations:
        HouseholdMember.objects.create(household=h, person=p, relation=relation)
        if relation == "head":
            h.head = p
            h.save()
    return h
