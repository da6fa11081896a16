"""Events (事件) and their life: categories with time limits, the working-day calendar,
events with an append-only action log, photos, notifications, duty and leave, Open311 keys.
The allowed moves are in workflow.py; every change goes through services.py."""
import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridmap.core.crypto import EncryptedCharField

from .workflow import Action, State


class HandlingLevel(models.TextChoices):
    GRID = "grid", _("grid (网格)")
    COMMUNITY = "community", _("community (社区)")
    STREET = "street", _("street (街道)")
    DISTRICT = "district", _("district centre (区中心)")
    DEPARTMENT = "department", _("department (职能部门)")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal (一般)")
    URGENT = "urgent", _("urgent (紧急)")
    CRITICAL = "critical", _("critical (特急)")


class LimitUnit(models.TextChoices):
    HOURS = "hours", _("hours (小时)")
    WORKDAYS = "workdays", _("working days (工作日)")


class Department(models.Model):
    """A functional department (职能部门) that events can be handed to."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    handlers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("handlers"), blank=True, related_name="departments")

    class Meta:
        verbose_name = _("department (职能部门)")
        verbose_name_plural = _("departments (职能部门)")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """An event category (事件类型), a node of an editable tree; children inherit what they leave empty."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    handling_level = models.CharField(_("handled by default at"), max_length=12, choices=HandlingLevel.choices, blank=True)
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    open311 = models.BooleanField(_("offered through Open311"), default=True)
    involves_people = models.BooleanField(
        _("involves people"), default=False,
        help_text=_("its events are about people (disputes, special population, petitions): Open311 shows them only near, "
                    "never at, their place; applies to every category below this one too"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("event category (事件类型)")
        verbose_name_plural = _("event categories (事件类型)")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def lineage(self):
        """This category, then its ancestors up to the root."""
        node = self
        while node is not None:
            yield node
            node = node.parent

    def effective_level(self) -> str:
        return next((c.handling_level for c in self.lineage() if c.handling_level), HandlingLevel.GRID)

    def effective_department(self):
        return next((c.department for c in self.lineage() if c.department_id), None)

    def effective_involves_people(self) -> bool:
        """This category or one above it involves people."""
        return any(c.involves_people for c in self.lineage())


class TimeLimit(models.Model):
    """How long a category may take at one urgency (处置时限), and when to warn (预警)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="time_limits")
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=10, choices=LimitUnit.choices)
    warn_at = models.FloatField(_("warn when this share of the time is used"), default=0.8)

    class Meta:
        verbose_name = _("time limit (处置时限)")
        verbose_name_plural = _("time limits")
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="one_limit_per_urgency"),
            models.CheckConstraint(condition=Q(warn_at__gt=0) & Q(warn_at__lt=1), name="warn_share_between_0_and_1"),
        ]

    def __str__(self):
        return f"{self.category} {self.urgency}: {self.amount} {self.unit}"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week (节假日/调休): a holiday on a weekday, or a
    make-up working day on a weekend. Edited as data as the State Council publishes each year."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("calendar day (节假日/调休)")
        verbose_name_plural = _("calendar days (节假日/调休)")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"


class CalendarYear(models.Model):
    """A year whose holiday arrangement the centre has entered in full (manage.py import_calendar,
    or the CalendarDay rows typed in the admin and then this record added). A year is known when
    the chinesecalendar package covers it or it has this record; deadlines over an unknown year
    count weekends only and are marked provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("e.g. the notice or the file it was entered from"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("calendar year (年度节假日安排)")
        verbose_name_plural = _("calendar years (年度节假日安排)")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class Channel(models.TextChoices):
    PATROL = "patrol", _("patrol app (巡查上报)")
    GRID_WORKER = "grid_worker", _("grid worker (网格员上报)")
    HOTLINE = "hotline", _("citizen hotline (热线)")
    WEB = "web", _("web (网站)")
    OPEN311 = "open311", _("Open311 API")


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("very satisfied (非常满意)")
    SATISFIED = "satisfied", _("satisfied (满意)")
    AVERAGE = "average", _("average (一般)")
    DISSATISFIED = "dissatisfied", _("dissatisfied (不满意)")


class Event(models.Model):
    """An event (事件): something reported at a point, routed to a grid and worked to a close.
    `grid` is fixed at report time and kept when boundaries change later; `area` is where it is
    handled now (a boundary change may move an open one to the new grid, logged on the event)."""

    number = models.CharField(_("number (事件编号)"), max_length=32, unique=True)
    client_id = models.UUIDField(_("client id"), unique=True, default=uuid.uuid4, help_text=_("sent by the client; a resend with the same id is the same report"))
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="events")
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    point = models.PointField(_("location"), srid=4326)
    accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    description = models.TextField(_("description"))
    channel = models.CharField(_("source channel"), max_length=12, choices=Channel.choices)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reporter"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_events")
    reporter_name = models.CharField(_("reporter name"), max_length=60, blank=True)
    reporter_phone = EncryptedCharField(_("reporter phone"), max_length=20, blank=True)  # often a resident's own
    public = models.BooleanField(
        _("public"), default=False,
        help_text=_("shown through Open311: reports from the public (hotline, web, Open311) are, internal patrol and grid-worker reports are not"))
    involved_persons = models.ManyToManyField("people.Person", verbose_name=_("people involved"), blank=True, related_name="events")
    involved_organisations = models.ManyToManyField("places.Organisation", verbose_name=_("organisations involved"), blank=True, related_name="events")
    building = models.ForeignKey("places.Building", verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    # where it was at report time; never re-placed
    grid = models.ForeignKey("grids.Area", verbose_name=_("grid at report time"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outside_grid = models.BooleanField(_("outside every grid"), default=False, help_text=_("routed to the nearest grid or to triage"))
    # where it is handled now
    status = models.CharField(_("status"), max_length=10, choices=State.choices, default=State.REPORTED, db_index=True)
    level = models.CharField(_("handling level"), max_length=12, choices=HandlingLevel.choices, default=HandlingLevel.GRID)
    area = models.ForeignKey("grids.Area", verbose_name=_("handling area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text=_("empty: the district centre"))
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_events")
    # the clock
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    due_provisional = models.BooleanField(_("due time provisional"), default=False, help_text=_("counted over a year with no holiday arrangement: weekends only"))
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    warned = models.BooleanField(_("warning raised"), default=False)
    ever_overdue = models.BooleanField(_("was overdue"), default=False)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    # the log's figures the leaders' statistics read for every event, kept on the row by the
    # workflow (services.act) so a million events are counted without joining their log
    decided_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    returns = models.PositiveSmallIntegerField(_("returns to the handler (退回)"), default=0)
    reopenings = models.PositiveSmallIntegerField(_("reopenings (重新办理)"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True)
    possible_duplicates = models.ManyToManyField("self", verbose_name=_("possible duplicates"), blank=True, symmetrical=False, related_name="+")
    version = models.PositiveIntegerField(_("version"), default=0, help_text=_("bumped by every action"))

    class Meta:
        verbose_name = _("event (事件)")
        verbose_name_plural = _("events (事件)")
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["status", "due_at"]), models.Index(fields=["assignee", "status"]),
            # the leaders' statistics (analytics.dashboards) read a period's events from the index
            # alone: a fifth of the table's width per event to scan (migration 0012)
            models.Index(fields=["reported_at"], name="event_period_figures_idx",
                         include=["grid", "category", "status", "channel", "satisfaction", "level", "due_at", "closed_at",
                                  "decided_at", "ever_overdue", "returns", "reopenings"]),
        ]

    def __str__(self):
        return f"{self.number} {self.category.name}"


class EventAction(models.Model):
    """One step of an event's life (处置记录): append-only; (event, seq) is unique, so two
    concurrent writers cannot both append the same step."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="actions")
    seq = models.PositiveIntegerField(_("step"))
    action = models.CharField(_("action"), max_length=14, choices=Action.choices)
    from_status = models.CharField(_("status before"), max_length=10, choices=State.choices, blank=True)
    to_status = models.CharField(_("status after"), max_length=10, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text=_("empty: the system"))
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True, help_text=_("internal: never shown outside"))
    public_note = models.TextField(_("note for the public"), blank=True, help_text=_("shown to the reporter and through Open311"))
    point = models.PointField(_("where"), srid=4326, null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("event action (处置记录)")
        verbose_name_plural = _("event actions")
        ordering = ["event", "seq"]
        constraints = [models.UniqueConstraint(fields=["event", "seq"], name="one_action_per_step")]


def photo_path(instance, filename):
    return f"events/{instance.event.reported_at:%Y/%m}/{instance.event.number}/{uuid.uuid4().hex}.jpg"


class EventPhoto(models.Model):
    """A photo of an event (照片), stored re-encoded without EXIF."""

    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="photos")
    action = models.ForeignKey(EventAction, verbose_name=_("taken at step"), null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    image = models.ImageField(_("image"), upload_to=photo_path)
    exif_point = models.PointField(_("GPS from EXIF"), srid=4326, null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)

    class Meta:
        verbose_name = _("event photo (照片)")
        verbose_name_plural = _("event photos")


class Notification(models.Model):
    """An in-app message (消息) to one user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(Event, verbose_name=_("event"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20)
    text = models.CharField(_("text"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification (消息)")
        verbose_name_plural = _("notifications (消息)")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]


class Duty(models.Model):
    """A duty roster entry (值班): who is on duty for an area on a day."""

    area = models.ForeignKey("grids.Area", verbose_name=_("area"), on_delete=models.CASCADE, related_name="duties")
    day = models.DateField(_("day"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("on duty"), on_delete=models.CASCADE, related_name="duties")

    class Meta:
        verbose_name = _("duty (值班)")
        verbose_name_plural = _("duty roster (值班表)")
        constraints = [models.UniqueConstraint(fields=["area", "day"], name="one_on_duty_per_area_day")]


class Leave(models.Model):
    """A leave (请假) with the deputy who takes the events meanwhile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("on leave"), on_delete=models.CASCADE, related_name="leaves")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("deputy (代理人)"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("leave (请假)")
        verbose_name_plural = _("leaves (请假)")
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="leave_ends_after_start")]


class EventCounter(models.Model):
    """The last number given out per prefix and day; bumped atomically for readable numbers."""

    prefix = models.CharField(max_length=20)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="one_counter_per_prefix_day")]


class ApiKey(models.Model):
    """An Open311 API key (接口密钥) for an outside client. Only its SHA-256 hash and a short
    prefix (to tell keys apart) are stored: the key itself is known once, right after creation
    (`key` on that instance), and never again."""

    PREFIX_LENGTH = 6

    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key prefix"), max_length=PREFIX_LENGTH, blank=True, editable=False,
                              help_text=_("the first characters of the key, to tell keys apart"))
    name = models.CharField(_("client name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 API key (接口密钥)")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self):
        return self.name

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def prefix_of(cls, key: str) -> str:
        return key[:min(cls.PREFIX_LENGTH, len(key) // 4)]  # a short key gives away less

    @property
    def key(self) -> str | None:
        """The key in clear: only on the instance that set it (None once read back)."""
        return getattr(self, "_key", None)

    @key.setter
    def key(self, value: str) -> None:
        self._key = value or None
        if value:
            self.key_hash, self.prefix = self.hash(value), self.prefix_of(value)

    @classmethod
    def lookup(cls, key: str):
        """The active key `key` is, or None."""
        return cls.objects.filter(key_hash=cls.hash(key), active=True).first() if key else None

    def save(self, *args, **kwargs):
        # A key is never empty, however it is created (admin, shell, a script): 256 random bits.
        if not self.key_hash:
            self.key = secrets.token_urlsafe(32)
        super().save(*args, **kwargs)


class Open311Request(models.Model):
    """What an Open311 (GeoReport v2) client sent with a report beyond the event itself:
    which key it came with and the submitter's account, device, e-mail and media link.
    The media link is stored as text only (this server may sit on an intranet: no fetching)."""

    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="open311")
    api_key = models.ForeignKey(ApiKey, verbose_name=_("API key"), on_delete=models.PROTECT, related_name="requests")
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Open311 request (Open311 上报)")
        verbose_name_plural = _("Open311 requests")

    def __str__(self):
        return f"{self.event.number} via {self.api_key}"
