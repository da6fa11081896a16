"""Real population (实有人口): persons, households and the dated records that describe them
(employment, welfare, special groups), and visits. A person's grid comes from their dwelling's
building, set by the database (see gridmap/grids/geocoding.sql)."""
from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from gridmap.core.crypto import DigestField, EncryptedCharField, matches, normalise_id_number, normalise_phone
from gridmap.core.validators import parse_citizen_id
from gridmap.places.models import RiskLevel


class IdType(models.TextChoices):
    RESIDENT = "resident", _("resident ID card (居民身份证)")
    PASSPORT = "passport", _("passport (护照)")
    HK_MACAO_TW = "hmt", _("HK/Macao/Taiwan permit (港澳台通行证)")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("registered resident (户籍人口)")
    FLOATING = "floating", _("floating population (流动人口)")
    OVERSEAS = "overseas", _("overseas (境外人员)")


class Sex(models.TextChoices):
    MALE = "M", _("male (男)")
    FEMALE = "F", _("female (女)")


def _grid_field():
    return models.ForeignKey(
        "grids.Area", verbose_name=_("grid (网格)"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )


class Person(models.Model):
    """A person of the actual population (实有人口). For a resident ID card the number is checked
    against GB 11643 and birth date and sex are taken from it. The ID number and the phone are
    encrypted at rest; exact lookups use their keyed hashes (gridmap.core.crypto.matches)."""

    id_type = models.CharField(_("ID type"), max_length=10, choices=IdType.choices, default=IdType.RESIDENT)
    id_number = EncryptedCharField(_("ID number (证件号码)"), max_length=30)
    id_number_digest = DigestField(_("ID number lookup hash"), of="id_number", normalise=normalise_id_number, unique=True)
    name = models.CharField(_("name (姓名)"), max_length=60, db_index=True)
    # blank: for a resident ID card both come from the number (see clean)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), blank=True)
    ethnicity = models.CharField(_("ethnicity (民族)"), max_length=20, default="汉族")
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True)
    phone_digest = DigestField(_("phone lookup hash"), of="phone", normalise=normalise_phone, db_index=True)
    registered_residence = models.CharField(_("registered residence (户籍地)"), max_length=200, blank=True)
    residence_type = models.CharField(_("residence type"), max_length=12, choices=ResidenceType.choices, default=ResidenceType.REGISTERED)
    # floating population (流动人口)
    origin = models.CharField(_("place of origin (来源地)"), max_length=200, blank=True)
    stay_reason = models.CharField(_("reason for stay (暂住事由)"), max_length=60, blank=True)
    arrived_on = models.DateField(_("arrived on"), null=True, blank=True)
    stay_until = models.DateField(_("stay until"), null=True, blank=True)
    dwelling = models.ForeignKey(
        "places.Dwelling", verbose_name=_("actual residence (现住房屋)"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="residents",
    )
    party_member = models.BooleanField(_("party member (党员)"), default=False)
    volunteer = models.BooleanField(_("volunteer (志愿者)"), default=False)
    grid = _grid_field()

    class Meta:
        verbose_name = _("person (实有人口)")
        verbose_name_plural = _("persons (实有人口)")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stay_until__isnull=True) | Q(arrived_on__isnull=True) | Q(stay_until__gte=models.F("arrived_on")),
                name="stay_ends_after_arrival",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.id_type == IdType.RESIDENT:
            cid = parse_citizen_id(self.id_number)
            self.id_number = cid.number
            if self.birth_date and self.birth_date != cid.birth_date:
                raise ValidationError({"birth_date": _("Birth date differs from the one in the ID number (GB 11643 digits 7-14)")})
            if self.sex and self.sex != cid.sex:
                raise ValidationError({"sex": _("Sex differs from the one in the ID number (GB 11643 digit 17)")})
            self.birth_date, self.sex = cid.birth_date, cid.sex
        missing = {f: _("Required unless the ID number gives it") for f in ("sex", "birth_date") if not getattr(self, f)}
        if missing:
            raise ValidationError(missing)

    def validate_unique(self, exclude=None):
        """The ID number is unique through its digest, which forms never carry: checked here, so
        a second person with the same number is a form error, not a database error."""
        super().validate_unique(exclude)
        if exclude and "id_number" in exclude:
            return
        if Person.objects.filter(matches(Person, "id_number", self.id_number)).exclude(pk=self.pk).exists():
            f = self._meta.get_field("id_number")
            raise ValidationError({"id_number": f.error_messages["unique"] % {
                "model_name": capfirst(self._meta.verbose_name), "field_label": capfirst(f.verbose_name)}})


class HouseholdType(models.TextChoices):
    REGISTERED = "registered", _("registered (户籍户)")
    FLOATING = "floating", _("floating (流动户)")
    MIXED = "mixed", _("mixed (人户混合)")


class Household(models.Model):
    """A household (户) living in one dwelling."""

    number = models.CharField(_("household number (户号)"), max_length=30, unique=True)
    dwelling = models.ForeignKey("places.Dwelling", verbose_name=_("dwelling"), null=True, blank=True, on_delete=models.SET_NULL, related_name="households")
    head = models.ForeignKey(Person, verbose_name=_("head (户主)"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("household type"), max_length=12, choices=HouseholdType.choices, default=HouseholdType.REGISTERED)
    grid = _grid_field()

    class Meta:
        verbose_name = _("household (户)")
        verbose_name_plural = _("households (户)")
        ordering = ["number"]

    def __str__(self):
        return self.number


class Relation(models.TextChoices):
    HEAD = "head", _("head (户主)")
    SPOUSE = "spouse", _("spouse (配偶)")
    CHILD = "child", _("child (子女)")
    PARENT = "parent", _("parent (父母)")
    GRANDCHILD = "grandchild", _("grandchild (孙子女)")
    GRANDPARENT = "grandparent", _("grandparent (祖父母)")
    SIBLING = "sibling", _("sibling (兄弟姐妹)")
    CHILD_IN_LAW = "child_in_law", _("child-in-law (儿媳/女婿)")
    OTHER = "other", _("other (其他)")


class HouseholdMember(models.Model):
    """Membership of a person in a household, with the relation to the head (与户主关系)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.OneToOneField(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="membership")
    relation = models.CharField(_("relation to head"), max_length=14, choices=Relation.choices)

    class Meta:
        verbose_name = _("household member (家庭成员)")
        verbose_name_plural = _("household members")
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(relation="head"), name="one_head_per_household")
        ]


class Dated(models.Model):
    """A record that holds from `start` to `end` (open when empty), so history stays."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ["person", "-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="%(class)s_end_after_start")
        ]


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", _("employed (在业)")
    SELF_EMPLOYED = "self", _("self-employed (个体)")
    UNEMPLOYED = "unemployed", _("unemployed (失业)")
    RETIRED = "retired", _("retired (离退休)")
    STUDENT = "student", _("student (在校)")
    NONE = "none", _("not working (无业)")


class EmploymentRecord(Dated):
    """Employment (就业情况) over a period."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="employment")
    status = models.CharField(_("status"), max_length=12, choices=EmploymentStatus.choices)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    organisation = models.ForeignKey("places.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="employees_records")
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)

    class Meta(Dated.Meta):
        verbose_name = _("employment record (就业情况)")
        verbose_name_plural = _("employment records")


class WelfareKind(models.TextChoices):
    DIBAO = "dibao", _("minimum living allowance (低保)")
    TEKUN = "tekun", _("extreme poverty support (特困/五保)")
    TEMPORARY = "temporary", _("temporary relief (临时救助)")
    DISABILITY = "disability", _("disability (残疾)")
    ELDERLY_80 = "elderly80", _("aged 80+ allowance (高龄80+)")
    ELDERLY_90 = "elderly90", _("aged 90+ allowance (高龄90+)")
    LEFT_BEHIND_CHILD = "left_behind", _("left-behind child (留守儿童)")
    EMPTY_NEST = "empty_nest", _("elderly living alone (空巢老人)")
    PREFERENTIAL = "preferential", _("preferential care (优抚对象)")


# Health data: seen only by roles that see sensitive fields.
SENSITIVE_WELFARE = {WelfareKind.DISABILITY}


class WelfareRecord(Dated):
    """Welfare or care status (民政/关爱对象) over a period; disability carries category and grade."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="welfare")
    kind = models.CharField(_("kind"), max_length=14, choices=WelfareKind.choices)
    category = models.CharField(_("category (e.g. disability type)"), max_length=40, blank=True)
    grade = models.PositiveSmallIntegerField(_("grade (1-4)"), null=True, blank=True)
    monthly_amount = models.DecimalField(_("monthly amount (元)"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta(Dated.Meta):
        verbose_name = _("welfare record (民政/关爱)")
        verbose_name_plural = _("welfare records")


class SpecialGroup(models.TextChoices):
    RELEASED = "released", _("released prisoner (刑满释放人员)")
    CORRECTION = "correction", _("community correction (社区矫正人员)")
    DRUG = "drug", _("drug user (吸毒人员)")
    MENTAL = "mental", _("severe mental disorder (严重精神障碍患者)")
    YOUTH = "youth", _("at-risk youth (重点青少年)")
    PETITIONER = "petitioner", _("key petitioner (重点上访人员)")


class SpecialGroupRecord(Dated):
    """Membership of a special group (特殊人群) with its care plan; always sensitive.
    A minor's minor-offence record may be sealed (封存): then only the sealing role sees it."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="special_groups")
    group = models.CharField(_("group"), max_length=12, choices=SpecialGroup.choices)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    visit_every_days = models.PositiveSmallIntegerField(_("visit every (days)"), default=30)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible worker"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sealed = models.BooleanField(_("sealed (封存)"), default=False)

    class Meta(Dated.Meta):
        verbose_name = _("special-group record (特殊人群)")
        verbose_name_plural = _("special-group records")


class Visit(models.Model):
    """A visit (走访) by a worker to a person, household, building or organisation."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("worker"), on_delete=models.PROTECT, related_name="visits")
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    location = models.PointField(_("GPS location"), srid=4326, null=True, blank=True)
    person = models.ForeignKey(Person, verbose_name=_("person visited"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    household = models.ForeignKey(Household, verbose_name=_("household visited"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    building = models.ForeignKey("places.Building", verbose_name=_("building visited"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    organisation = models.ForeignKey("places.Organisation", verbose_name=_("organisation visited"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    findings = models.TextField(_("findings"), blank=True)
    grid = _grid_field()

    class Meta:
        verbose_name = _("visit (走访)")
        verbose_name_plural = _("visits (走访)")
        ordering = ["-visited_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(household__isnull=False) | Q(building__isnull=False) | Q(organisation__isnull=False),
                name="visit_has_subject",
            )
        ]
