"""Helpers for building residents on real PostGIS (ID numbers, people, households); the `estate`
and `users` fixtures that use them live in tests/conftest.py."""
import datetime as dt
import itertools

from gridmap.core import clock
from gridmap.core.validators import id_check_char
from gridmap.people.models import Household, HouseholdMember, Person

# Even serials, one per resident: +1 for a man (odd 17th digit). They wrap after 449 residents,
# across the whole run; each test's database starts empty, so numbers stay unique within it.
_serial = itertools.cycle(range(100, 998, 2))


def citizen_id(birth: str, sex: str = "M") -> str:
    """A valid GB 11643 number for the birth date (YYYYMMDD): odd 17th digit for men."""
    n = next(_serial) + (sex == "M")
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
