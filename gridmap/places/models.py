"""Real housing and real units (实有房屋、实有单位): buildings, dwellings, rented dwellings,
organisations and city-management components. Located rows carry `location` (a point; for a
building or a line facility it is derived from the geometry by the database) and `grid`, both
set by database triggers (see gridmap/grids/geocoding.sql)."""
from django.conf import settings
from django.contrib.gis.db import models
import math

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridmap.core.crypto import EncryptedCharField
from gridmap.core.validators import validate_credit_code

METRES_PER_FLOOR = 3.0  # a storey's height where only a building's height is known (and on the 2.5D map)


class Located(models.Model):
    """Fields every geocoded register shares. `grid` is None when outside every grid (unassigned)."""

    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    grid = models.ForeignKey(
        "grids.Area", verbose_name=_("grid (网格)"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+", limit_choices_to={"level": "grid"},
    )

    class Meta:
        abstract = True


class BuildingUse(models.TextChoices):
    RESIDENTIAL = "residential", _("residential (住宅)")
    COMMERCIAL = "commercial", _("commercial (商业)")
    MIXED = "mixed", _("mixed (商住)")
    PUBLIC = "public", _("public (公共)")
    INDUSTRIAL = "industrial", _("industrial (工业)")


class Building(Located):
    """A building (楼栋) with its footprint; the unit of '房进格'."""

    code = models.CharField(_("building code (楼栋编码)"), max_length=40, unique=True)
    name = models.CharField(_("name / number (楼号)"), max_length=100, blank=True)  # most surveyed footprints have none
    address = models.CharField(_("standard address (标准地址)"), max_length=200, blank=True)
    footprint = models.MultiPolygonField(_("footprint"), srid=4326, null=True, blank=True)
    use = models.CharField(_("use"), max_length=12, choices=BuildingUse.choices, default=BuildingUse.RESIDENTIAL)
    floors_above = models.FloatField(
        _("floors above ground"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(300)],
        help_text=_("as recorded: 3.5 for three storeys and a half storey; empty when unknown"),
    )
    floors_below = models.PositiveSmallIntegerField(_("floors below ground"), default=0)
    units = models.PositiveSmallIntegerField(_("units / entrances (单元)"), default=1, validators=[MinValueValidator(1)])
    rooms_per_floor = models.PositiveSmallIntegerField(_("rooms per floor per unit"), default=2)
    height_m = models.FloatField(_("height (m)"), null=True, blank=True)
    year_built = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    property_manager = models.CharField(_("property manager (物业)"), max_length=100, blank=True)
    building_head = models.ForeignKey(
        "people.Person", verbose_name=_("building head (楼栋长)"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("building (楼栋)")
        verbose_name_plural = _("buildings (楼栋)")
        ordering = ["code"]

    def __str__(self):
        return self.label if self.label == self.code else f"{self.label} ({self.code})"

    @property
    def label(self) -> str:
        """What a building is called on screen: its name, else its address, else its code."""
        return self.name or self.address or self.code

    @property
    def whole_floors(self) -> int | None:
        """The storeys the floor table shows: a half storey counts as one (3.5 → 4); None when unknown."""
        return None if self.floors_above is None else math.ceil(self.floors_above)


class DwellingUse(models.TextChoices):
    SELF_OCCUPIED = "self", _("self-occupied (自住)")
    RENTED = "rented", _("rented (出租)")
    VACANT = "vacant", _("vacant (空置)")
    COMMERCIAL = "commercial", _("commercial (商用)")


class Dwelling(models.Model):
    """A dwelling (户室/房屋): one room number on one floor of one unit of a building."""

    building = models.ForeignKey(Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="dwellings")
    unit = models.PositiveSmallIntegerField(_("unit (单元)"), default=1)
    floor = models.SmallIntegerField(_("floor (层)"), help_text=_("negative below ground"))
    room = models.CharField(_("room number (室号)"), max_length=20)
    area_m2 = models.FloatField(_("floor area (m²)"), null=True, blank=True)
    use = models.CharField(_("use"), max_length=12, choices=DwellingUse.choices, default=DwellingUse.SELF_OCCUPIED)
    owner = models.ForeignKey(
        "people.Person", verbose_name=_("owner (产权人)"), null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_dwellings"
    )
    owner_name = models.CharField(_("owner name, if not registered here"), max_length=100, blank=True)
    grid = models.ForeignKey(
        "grids.Area", verbose_name=_("grid (网格)"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        verbose_name = _("dwelling (户室)")
        verbose_name_plural = _("dwellings (户室)")
        ordering = ["building", "unit", "floor", "room"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "room"], name="unique_room_in_unit")]

    def __str__(self):
        return f"{self.building.label} {self.unit}单元 {self.room}"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("registered (已登记)")
    PENDING = "pending", _("pending (待登记)")
    EXPIRED = "expired", _("expired (已过期)")


class RentedDwelling(models.Model):
    """A rented dwelling (出租屋) and its lease."""

    dwelling = models.OneToOneField(Dwelling, verbose_name=_("dwelling"), on_delete=models.CASCADE, related_name="rental")
    landlord = models.ForeignKey(
        "people.Person", verbose_name=_("landlord (房东)"), null=True, blank=True, on_delete=models.SET_NULL, related_name="let_dwellings"
    )
    landlord_name = models.CharField(_("landlord name, if not registered here"), max_length=100, blank=True)
    landlord_phone = EncryptedCharField(_("landlord phone"), max_length=20, blank=True)  # a private person's
    tenants = models.ManyToManyField("people.Person", verbose_name=_("tenants (承租人)"), blank=True, related_name="tenancies")
    lease_start = models.DateField(_("lease start"), null=True, blank=True)
    lease_end = models.DateField(_("lease end"), null=True, blank=True)
    agent = models.CharField(_("letting agent (中介)"), max_length=100, blank=True)
    status = models.CharField(_("registration status"), max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)

    class Meta:
        verbose_name = _("rented dwelling (出租屋)")
        verbose_name_plural = _("rented dwellings (出租屋)")
        constraints = [
            models.CheckConstraint(
                condition=Q(lease_end__isnull=True) | Q(lease_start__isnull=True) | Q(lease_end__gte=models.F("lease_start")),
                name="lease_ends_after_start",
            )
        ]

    def __str__(self):
        return str(self.dwelling)


class OrganisationType(models.TextChoices):
    ENTERPRISE = "enterprise", _("enterprise (企业)")
    SHOP = "shop", _("shop / individual business (个体工商户)")
    SCHOOL = "school", _("school (学校)")
    HOSPITAL = "hospital", _("hospital / clinic (医疗机构)")
    SOCIAL = "social", _("social organisation (社会组织)")
    PARTY = "party", _("party organisation (党组织)")
    GOVERNMENT = "government", _("government unit (机关事业单位)")


class RiskLevel(models.TextChoices):
    LOW = "low", _("low (低)")
    MEDIUM = "medium", _("medium (中)")
    HIGH = "high", _("high (高)")


class Organisation(Located):
    """An organisation or unit (单位/组织): the real units of '一标三实'."""

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code (统一社会信用代码)"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    kind = models.CharField(_("type"), max_length=12, choices=OrganisationType.choices)
    legal_representative = models.CharField(_("legal representative (法定代表人)"), max_length=60, blank=True)
    contact = models.CharField(_("contact person"), max_length=60, blank=True)
    # the unit's business phone, shown unmasked to every role like its address: kept in clear
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL, related_name="organisations")
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)

    class Meta:
        verbose_name = _("organisation (单位/组织)")
        verbose_name_plural = _("organisations (单位/组织)")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""), name="unique_credit_code")
        ]

    def __str__(self):
        return self.name


class Inspection(models.Model):
    """An inspection record (检查记录) of a rented dwelling or an organisation."""

    rented_dwelling = models.ForeignKey(RentedDwelling, null=True, blank=True, on_delete=models.CASCADE, related_name="inspections")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="inspections")
    inspected_at = models.DateTimeField(_("inspected at"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("inspector"), null=True, on_delete=models.SET_NULL, related_name="+")
    passed = models.BooleanField(_("passed"), default=True)
    findings = models.TextField(_("findings"), blank=True)

    class Meta:
        verbose_name = _("inspection (检查记录)")
        verbose_name_plural = _("inspections (检查记录)")
        ordering = ["-inspected_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rented_dwelling__isnull=True) ^ Q(organisation__isnull=True), name="inspection_of_one_thing"
            )
        ]


class FacilityType(models.TextChoices):
    HYDRANT = "hydrant", _("fire hydrant (消防栓)")
    MANHOLE = "manhole", _("manhole cover (井盖)")
    STREET_LIGHT = "street_light", _("street light (路灯)")
    CAMERA = "camera", _("camera (监控探头)")
    RUBBISH_BIN = "rubbish_bin", _("rubbish bin (垃圾桶)")
    SIGN = "sign", _("sign (标识牌)")
    OTHER = "other", _("other (其他)")


class FacilityStatus(models.TextChoices):
    NORMAL = "normal", _("normal (完好)")
    DAMAGED = "damaged", _("damaged (损坏)")
    MISSING = "missing", _("missing (丢失)")
    REMOVED = "removed", _("removed (废弃)")


class Facility(Located):
    """A city-management component (部件), point or line; its code follows CJ/T 214."""

    code = models.CharField(_("component code (部件编码)"), max_length=40, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=FacilityType.choices)
    geom = models.GeometryField(_("geometry (point or line)"), srid=4326)
    status = models.CharField(_("status"), max_length=10, choices=FacilityStatus.choices, default=FacilityStatus.NORMAL)
    owner_department = models.CharField(_("owner department (权属单位)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("facility (部件)")
        verbose_name_plural = _("facilities (部件)")
        ordering = ["code"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.code}"
