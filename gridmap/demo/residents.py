"""Households and their people for the demo's dwellings (人进户、户进房), with the records a grid
worker keeps on them: employment, welfare, special groups, leases. Shares are rough published
figures for a Shenzhen inner district: most rented rooms in urban villages (城中村) hold
floating workers; owners in estates are mostly registered residents."""
import datetime as dt
import random
from dataclasses import dataclass, field

from gridmap.people.models import (
    EmploymentRecord, EmploymentStatus, Household, HouseholdMember, HouseholdType, Person, Relation,
    ResidenceType, SpecialGroup, SpecialGroupRecord, WelfareKind, WelfareRecord,
)
from gridmap.places.models import (
    Dwelling, DwellingUse, RegistrationStatus, RentedDwelling, RiskLevel,
)

from .identities import ETHNICITIES, ORIGINS, IdNumbers, mobile, person_name

# Household shapes: single, couple, couple + children, three generations, elderly couple,
# elderly alone (空巢), flat-share. Weights per (estate kind, self-occupied or rented).
SHAPES = ["single", "couple", "family", "three_gen", "old_couple", "old_alone", "share"]
SHAPE_WEIGHTS = {
    ("estate", "self"): [8, 15, 40, 20, 10, 7, 0],
    ("old", "self"): [8, 12, 30, 15, 20, 15, 0],
    ("village", "self"): [0, 10, 35, 40, 10, 5, 0],
    ("estate", "rented"): [25, 25, 30, 5, 0, 0, 15],
    ("old", "rented"): [30, 25, 30, 5, 0, 0, 10],
    ("village", "rented"): [40, 25, 20, 2, 0, 0, 13],
}
STAY_REASONS = ["务工"] * 14 + ["经商"] * 3 + ["投靠亲友"] * 2 + ["求学"]
OCCUPATIONS = ["软件工程师", "销售", "快递员", "外卖骑手", "厨师", "保安", "教师", "护士", "会计", "电工",
               "装修工", "司机", "店员", "保洁员", "文员", "设计师", "美发师", "生产线工人"]
EMPLOYERS = ["深圳市鹏海科技有限公司", "深圳市湾区物流有限公司", "深圳市南岭餐饮管理有限公司",
             "深圳市星河电子有限公司", "深圳市安居物业管理有限公司", "深圳市顺达快递有限公司"]
DISABILITIES = ["视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾", "精神残疾"]
AGENTS = ["链家", "中原地产", "乐有家", "我爱我家"]
# Shenzhen's 2023 minimum living allowance (低保) is 1,365 元 a person and month.
DIBAO_MONTHLY = 1365
# Shares that give the demo's rates: about 2% of people in 低保 households, about 6% disabled
# (the 2006 national survey: 6.3%, rising steeply with age), about 30% floating.
DIBAO_HOUSEHOLDS = 0.03  # of registered and mixed households
DISABILITY_BY_AGE = [(18, 0.015), (60, 0.045), (80, 0.13), (200, 0.3)]  # (below age, share)


def _years_ago(today: dt.date, years: int, rnd: random.Random) -> dt.date:
    return today - dt.timedelta(days=int(years * 365.25) + rnd.randrange(365))


def _anniversary(born: dt.date, years: int) -> dt.date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born 29 February
        return born.replace(year=born.year + years, day=28)


@dataclass
class Residents:
    """What `settle` produced, in insertion order; object links become ids on save."""

    persons: list[Person] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    members: list[HouseholdMember] = field(default_factory=list)
    rentals: list[RentedDwelling] = field(default_factory=list)
    tenants: list[tuple[RentedDwelling, Person]] = field(default_factory=list)
    owners: list[tuple[Dwelling, Person]] = field(default_factory=list)
    heads: list[tuple[Household, Person]] = field(default_factory=list)
    employment: list[EmploymentRecord] = field(default_factory=list)
    welfare: list[WelfareRecord] = field(default_factory=list)
    special: list[SpecialGroupRecord] = field(default_factory=list)


class Settler:
    """Fills dwellings with households, one grid at a time."""

    def __init__(self, rnd: random.Random, today: dt.date, county: str, out: Residents):
        self.rnd, self.today, self.county, self.out = rnd, today, county, out
        self.ids = IdNumbers(rnd)

    # --- one household ---------------------------------------------------------------
    def _shape(self, kind: str, use: str) -> list[tuple[str, int, str]]:
        """(relation, age, sex) of each member, head first."""
        r = self.rnd
        shape = r.choices(SHAPES, SHAPE_WEIGHTS[(kind, use)])[0]
        sex = r.choice("MF")
        other = "F" if sex == "M" else "M"
        if shape == "single":
            return [(Relation.HEAD, r.randint(20, 45), sex)]
        if shape == "share":
            return [(Relation.HEAD, r.randint(19, 35), sex)] + [(Relation.OTHER, r.randint(19, 35), sex) for _ in range(r.randint(1, 2))]
        if shape == "old_alone":
            return [(Relation.HEAD, r.randint(65, 96), sex)]
        if shape == "old_couple":
            age = r.randint(60, 90)
            return [(Relation.HEAD, age, "M"), (Relation.SPOUSE, age - r.randint(0, 5), "F")]
        age = r.randint(26, 50)
        members = [(Relation.HEAD, age, sex), (Relation.SPOUSE, max(20, age + r.randint(-5, 3)), other)]
        if shape == "couple":
            return members
        for _ in range(r.choices([1, 2, 3], [55, 40, 5])[0]):
            members.append((Relation.CHILD, r.randint(0, max(0, age - 22)), r.choice("MF")))
        if shape == "three_gen":
            for parent_sex in r.sample("MF", r.randint(1, 2)):
                members.append((Relation.PARENT, min(97, age + r.randint(24, 34)), parent_sex))
        return members

    def _person(self, age: int, sex: str, surname: str | None, floating: bool, origin: tuple[str, str]) -> Person:
        r = self.rnd
        born = _years_ago(self.today, age, r)
        family, given = person_name(r, sex)
        region, place = origin if floating else (self.county, "")
        person = Person(
            id_number=self.ids.issue(region, born, sex), name=(surname or family) + given, sex=sex,
            birth_date=born, ethnicity=r.choice(ETHNICITIES) if floating else "汉族",
            phone=mobile(r) if age >= 16 else "", residence_type=ResidenceType.FLOATING if floating else ResidenceType.REGISTERED,
            registered_residence=place or "本区", party_member=age >= 18 and r.random() < 0.08,
            volunteer=age >= 16 and r.random() < 0.05,
        )
        if floating:
            person.origin = place
            person.stay_reason = "投靠亲友" if age < 16 or age >= 60 else r.choice(STAY_REASONS)
            person.arrived_on = self.today - dt.timedelta(days=r.randint(20, 3000))
            # residence permits run one to three years; some have lapsed and await renewal
            person.stay_until = person.arrived_on + dt.timedelta(days=r.choice([365, 730, 1095]))
        return person

    def household(self, dwelling: Dwelling, kind: str, number: str) -> list[Person]:
        """One household living in `dwelling`; returns its members, head first."""
        r = self.rnd
        use = "rented" if dwelling.use == DwellingUse.RENTED else "self"
        floating_share = {"rented": 0.65, "self": 0.05}[use]
        floating = r.random() < floating_share
        mixed = not floating and r.random() < 0.1
        origin = r.choice(ORIGINS)
        members = []
        for i, (relation, age, sex) in enumerate(self._shape(kind, use)):
            is_floating = floating or (mixed and i > 0 and relation in (Relation.SPOUSE, Relation.PARENT))
            kin = relation in (Relation.HEAD, Relation.CHILD) or (relation == Relation.PARENT and sex == "M")
            surname = members[0].name[0] if members and kin else None
            person = self._person(age, sex, surname, is_floating, origin)
            person.dwelling = dwelling
            members.append(person)
            self.out.persons.append(person)
            self._records(person, age)
            self.out.members.append(HouseholdMember(person=person, relation=relation))
        household = Household(
            number=number, dwelling=dwelling,
            kind=HouseholdType.FLOATING if floating else HouseholdType.MIXED if mixed else HouseholdType.REGISTERED,
        )
        self.out.households.append(household)
        self.out.heads.append((household, members[0]))
        for member in self.out.members[-len(members):]:
            member.household = household
        if len(members) == 1 and (self.today - members[0].birth_date).days > 65 * 365:
            self._welfare(members[0], WelfareKind.EMPTY_NEST, _anniversary(members[0].birth_date, 65))
        if not floating and r.random() < DIBAO_HOUSEHOLDS:
            # the household is granted (低保户); every registered member is a recipient (保障对象)
            start = self.today - dt.timedelta(days=r.randint(60, 2000))
            for person in members:
                if person.residence_type == ResidenceType.REGISTERED:
                    self._welfare(person, WelfareKind.DIBAO, start, monthly_amount=DIBAO_MONTHLY)
        return members

    # --- records a worker keeps ----------------------------------------------------------
    def _welfare(self, person: Person, kind: str, start: dt.date, **extra) -> None:
        self.out.welfare.append(WelfareRecord(person=person, kind=kind, start=start, **extra))

    def _records(self, person: Person, age: int) -> None:
        r = self.rnd
        born = person.birth_date
        retire_at = 60 if person.sex == "M" else 55
        if 6 <= age <= 22 and (age < 18 or r.random() < 0.6):
            self.out.employment.append(EmploymentRecord(person=person, status=EmploymentStatus.STUDENT, start=_anniversary(born, 6)))
        elif age >= retire_at:
            self.out.employment.append(EmploymentRecord(person=person, status=EmploymentStatus.RETIRED, start=_anniversary(born, retire_at)))
        elif age >= 18:
            status = r.choices(
                [EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED, EmploymentStatus.UNEMPLOYED, EmploymentStatus.NONE],
                [75, 8, 5, 12])[0]
            working = status in (EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED)
            self.out.employment.append(EmploymentRecord(
                person=person, status=status, start=self.today - dt.timedelta(days=r.randint(30, 365 * min(age - 17, 20))),
                employer=r.choice(EMPLOYERS) if status == EmploymentStatus.EMPLOYED else "",
                occupation=r.choice(OCCUPATIONS) if working else "",
            ))
        if age >= 80:
            self._welfare(person, WelfareKind.ELDERLY_80, _anniversary(born, 80))
        if age >= 90:
            self._welfare(person, WelfareKind.ELDERLY_90, _anniversary(born, 90))
        if r.random() < next(share for upto, share in DISABILITY_BY_AGE if age < upto):
            self._welfare(person, WelfareKind.DISABILITY, self.today - dt.timedelta(days=r.randint(100, 365 * max(1, age))),
                          category=r.choice(DISABILITIES), grade=r.randint(1, 4))
        if age >= 60 and person.sex == "M" and r.random() < 0.02:
            self._welfare(person, WelfareKind.PREFERENTIAL, _anniversary(born, 60), note="退役军人")
        if age >= 14 and r.random() < 0.006:
            self._special(person, age)

    def _special(self, person: Person, age: int) -> None:
        r = self.rnd
        group = SpecialGroup.YOUTH if age < 25 else r.choice(
            [SpecialGroup.RELEASED, SpecialGroup.CORRECTION, SpecialGroup.DRUG, SpecialGroup.MENTAL, SpecialGroup.PETITIONER])
        risk = r.choices([RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH], [60, 30, 10])[0]
        self.out.special.append(SpecialGroupRecord(
            person=person, group=group, risk_level=risk,
            start=self.today - dt.timedelta(days=r.randint(30, 1500)),
            visit_every_days={RiskLevel.LOW: 30, RiskLevel.MEDIUM: 14, RiskLevel.HIGH: 7}[risk],
            sealed=group == SpecialGroup.YOUTH and age < 18,
        ))

    # --- leases ------------------------------------------------------------------------
    def lease(self, dwelling: Dwelling, tenants: list[Person], landlord: Person | None) -> RentedDwelling:
        r = self.rnd
        start = self.today - dt.timedelta(days=r.randint(10, 700))
        status = r.choices([RegistrationStatus.REGISTERED, RegistrationStatus.PENDING, RegistrationStatus.EXPIRED], [75, 15, 10])[0]
        rental = RentedDwelling(
            dwelling=dwelling, landlord=landlord,
            landlord_name="" if landlord else "".join(person_name(r, r.choice("MF"))),
            landlord_phone=landlord.phone if landlord else mobile(r),
            lease_start=start, lease_end=start + dt.timedelta(days=365 * r.choice([1, 1, 2])),
            agent=r.choice(AGENTS) if r.random() < 0.3 else "", status=status,
            registered_on=start + dt.timedelta(days=r.randint(0, 30)) if status != RegistrationStatus.PENDING else None,
        )
        self.out.rentals.append(rental)
        self.out.tenants += [(rental, t) for t in tenants if (self.today - t.birth_date).days >= 18 * 365]
        return rental
