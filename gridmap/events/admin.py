"""Events in the admin: configuration edited by the centre (category tree with time limits,
working-day calendar, departments, duty roster and leave, Open311 keys) and the events themselves,
scoped to the user's area and read-only: the action log is immutable, and a status changes only
through services.act (the admin actions below call it)."""

import contextvars

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_lazy as _
from leaflet.admin import LeafletAdminWidget, LeafletGeoAdmin

from gridmap.core import clock
from gridmap.core.admin import ReadOnly, ScopedChoices, ScopedModelAdmin, ScopedTabularInline
from gridmap.core.models import Role

from . import calendar, selectors, services
from .models import (ApiKey, CalendarDay, CalendarYear, Category, Department, Duty, Event, EventAction, EventPhoto, Leave,
                     Notification, TimeLimit)
from .workflow import Action

CLOCK_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
CLOCK_LABELS = {"green": _("in time (绿)"), "yellow": _("warning (黄)"), "red": _("overdue (红)")}


def is_centre(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.CENTRE_ADMIN)


def warn_missing_calendar(request) -> None:
    """The banner: tell the centre, on the admin pages it starts from, which year deadlines need
    has no holiday arrangement (calendar.missing_years), until the year is entered."""
    if not is_centre(request.user):
        return
    missing = calendar.missing_years()
    if missing:
        messages.warning(request, gettext(
            "The working-day calendar has no holiday arrangement for %(years)s: deadlines over it count "
            "weekends only and are marked provisional. Enter the year with manage.py import_calendar "
            "FILE.csv, or enter its days under calendar days and then add it under calendar years.")
            % {"years": ", ".join(map(str, missing))})


_admin_index = admin.site.index


def _index_with_calendar_warning(request, extra_context=None):
    warn_missing_calendar(request)
    return _admin_index(request, extra_context)


admin.site.index = _index_with_calendar_warning  # the page the centre lands on after signing in


class CalendarWarning:
    """A changelist that shows the banner."""

    def changelist_view(self, request, extra_context=None):
        warn_missing_calendar(request)
        return super().changelist_view(request, extra_context)


def handles_rosters(user) -> bool:
    return user.is_active and (user.is_superuser or user.role in (Role.CENTRE_ADMIN, Role.AREA_STAFF, Role.GRID_LEADER))


class CentreEditable:
    """Configuration: everyone with the app's view permission reads it, only the centre edits it."""

    def has_add_permission(self, request, *args):
        return is_centre(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return is_centre(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_centre(request.user) and super().has_delete_permission(request, obj)


# --- configuration ----------------------------------------------------------------------------

class TimeLimitInline(CentreEditable, ScopedTabularInline):
    model = TimeLimit
    fields = ["urgency", "amount", "unit", "warn_at"]
    extra = 0


@admin.register(Category)
class CategoryAdmin(CentreEditable, ScopedModelAdmin):
    """The category tree (事件类型): codes nest (01 → 0101), so ordering by code lists the tree."""

    list_display = ["tree_name", "code", "parent", "handling_level", "department", "limits", "open311", "active"]
    list_display_links = ["tree_name"]
    list_editable = ["open311", "active"]
    list_filter = ["active", "open311", "handling_level", "department", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "department"]
    fields = ["code", "name", "parent", "handling_level", "department", "open311", "active", "effective"]
    readonly_fields = ["effective"]
    inlines = [TimeLimitInline]
    ordering = ["code"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("time_limits")

    @admin.display(description=_("name"), ordering="code")
    def tree_name(self, obj):
        depth = sum(1 for _ in obj.lineage()) - 1 if obj.parent_id else 0
        return format_html("{}{}", mark_safe("&emsp;" * (depth - 1) + "&emsp;└ " if depth else ""), obj.name)

    @admin.display(description=_("time limits"))
    def limits(self, obj):
        own = sorted(obj.time_limits.all(), key=lambda t: ["normal", "urgent", "critical"].index(t.urgency))
        return ", ".join(f"{t.urgency} {t.amount} {t.get_unit_display()}" for t in own) or "—"

    @admin.display(description=_("in effect (inherited where empty)"))
    def effective(self, obj):
        if obj.pk is None:
            return "—"
        limits = []
        for urgency in ("normal", "urgent", "critical"):
            t = selectors.time_limit(obj, urgency)
            if t is not None:
                limits.append(f"{urgency}: {t.amount} {t.get_unit_display()}, warn at {t.warn_at:.0%}")
        dept = obj.effective_department()
        return f"level {obj.effective_level()}" + (f", department {dept}" if dept else "") + "; " + ("; ".join(limits) or "no time limit")


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = CalendarDay.objects.dates("date", "year")
        return [(d.year, d.year) for d in years]

    def queryset(self, request, queryset):
        return queryset.filter(date__year=self.value()) if self.value() else queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWarning, CentreEditable, ScopedModelAdmin):
    """Local overrides of the chinesecalendar package, and the days of years the centre entered:
    holidays on weekdays and make-up working days on weekends."""

    list_display = ["date", "weekday", "is_workday", "name"]
    list_filter = [YearFilter, "is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["date"]
    list_per_page = 200

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWarning, CentreEditable, ScopedModelAdmin):
    """Years whose holiday arrangement the centre entered in full (manage.py import_calendar adds
    one; after typing a year's days under calendar days, add its year here)."""

    list_display = ["year", "source", "entered_by", "entered_at", "days"]
    fields = ["year", "source", "entered_by", "entered_at"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by, obj.entered_at = request.user, clock.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("calendar days"))
    def days(self, obj):
        return CalendarDay.objects.filter(date__year=obj.year).count()


@admin.register(Department)
class DepartmentAdmin(CentreEditable, ScopedModelAdmin):
    list_display = ["code", "name", "handler_names"]
    search_fields = ["code", "name"]
    filter_horizontal = ["handlers"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("handlers")

    @admin.display(description=_("handlers"))
    def handler_names(self, obj):
        return ", ".join(u.display_name for u in obj.handlers.all())


class RosterAdmin(ScopedModelAdmin):
    """Duty and leave: kept by the centre, area staff and grid leaders, for their own subtree (the
    areas and users they pick: ScopedChoices, the subtree's)."""

    area_path = "area__path"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.sees_everything:
            return qs
        if user.area_id is None:
            return qs.none()
        return qs.filter(**{f"{self.area_path}__startswith": user.area.path})

    def has_add_permission(self, request):
        return handles_rosters(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return handles_rosters(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return handles_rosters(request.user) and super().has_delete_permission(request, obj)


@admin.register(Duty)
class DutyAdmin(RosterAdmin):
    list_display = ["day", "area", "user"]
    list_filter = ["area__level"]
    date_hierarchy = "day"
    search_fields = ["area__name", "area__code", "user__username", "user__last_name"]
    list_select_related = ["area", "user"]
    autocomplete_fields = ["area"]
    ordering = ["-day"]


@admin.register(Leave)
class LeaveAdmin(RosterAdmin):
    area_path = "user__area__path"
    list_display = ["user", "start", "end", "deputy"]
    date_hierarchy = "start"
    search_fields = ["user__username", "user__last_name", "deputy__username"]
    list_select_related = ["user", "deputy"]
    ordering = ["-start"]


@admin.register(ApiKey)
class ApiKeyAdmin(CentreEditable, admin.ModelAdmin):
    """Open311 API keys (接口密钥): the key is generated on creation and shown once, in the
    message after saving, to hand over; only its hash and prefix are kept, so no one (the centre
    included) can read it afterwards. A lost key is replaced by a new one."""

    list_display = ["name", "masked_key", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "prefix"]
    actions = ["activate", "deactivate"]

    def get_fields(self, request, obj=None):
        return ["name", "active"] if obj is None else ["name", "masked_key", "active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["masked_key", "created_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.key:
            self.message_user(request, format_html(
                "{} <code>{}</code> {}", _("API key for this client:"), obj.key,
                _("Copy it now: it is shown only this once.")), messages.SUCCESS)

    @admin.display(description=_("key"))
    def masked_key(self, obj):
        return f"{obj.prefix}…" if obj.prefix else "…"

    @admin.action(description=_("Activate the selected keys"), permissions=["change"])
    def activate(self, request, queryset):
        n = queryset.update(active=True)
        self.message_user(request, _("%d key(s) activated") % n)

    @admin.action(description=_("Deactivate the selected keys"), permissions=["change"])
    def deactivate(self, request, queryset):
        n = queryset.update(active=False)
        self.message_user(request, _("%d key(s) deactivated") % n)


# --- events -----------------------------------------------------------------------------------

class ReadOnlyInline(ReadOnly, ScopedTabularInline):
    extra = 0
    can_delete = False


class EventActionInline(ReadOnlyInline):
    """The timeline (处置记录): append-only, so nothing here can be added, changed or removed."""

    model = EventAction
    fields = ["seq", "at", "action", "from_status", "to_status", "actor", "assignee", "note", "point"]
    readonly_fields = fields
    ordering = ["seq"]
    verbose_name_plural = _("timeline (处置记录)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "assignee")


class EventPhotoInline(ReadOnlyInline):
    model = EventPhoto
    fields = ["thumbnail", "action", "taken_at", "exif_point"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def thumbnail(self, obj):
        if not obj.image:
            return "—"
        return format_html('<a href="{0}" target="_blank"><img src="{0}" alt="" style="max-height:120px"></a>', obj.image.url)


class ClockFilter(admin.SimpleListFilter):
    """The clock (green / yellow / red, as selectors.clock_status: frozen while paused and at the
    close), and every event that was ever overdue."""

    title = _("overdue")
    parameter_name = "clock"

    def lookups(self, request, model_admin):
        return [("red", _("overdue now (红)")), ("yellow", _("warning (黄)")), ("green", _("in time (绿)")),
                ("ever", _("was overdue at some point"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "ever":
            return queryset.filter(ever_overdue=True)
        if value not in ("red", "yellow", "green"):
            return queryset
        return selectors.with_clock(queryset.filter(due_at__isnull=False)).filter(clock=value)


class ReadOnlyPointWidget(LeafletAdminWidget):
    modifiable = False


# The request's CSP nonce while an event's change page renders: the read-only map (EventAdmin.map,
# a read-only field, which gets no request) writes its widget's inline scripts with it.
_csp_nonce = contextvars.ContextVar("event_admin_csp_nonce", default=None)


@admin.register(Event)
class EventAdmin(CalendarWarning, ScopedChoices, LeafletGeoAdmin):
    """Events (事件) of the user's area, read-only: the workflow moves them (services.act)."""

    list_display = ["number", "category", "status", "clock", "grid", "level", "assignee", "due", "reported_at"]
    list_filter = ["status", ("category", admin.RelatedOnlyFieldListFilter), "level", "channel", ClockFilter, "urgency", "outside_grid",
                   "due_provisional"]
    search_fields = ["number", "address", "description"]
    list_select_related = ["category", "grid", "assignee"]
    date_hierarchy = "reported_at"
    fieldsets = [
        (None, {"fields": ["number", "category", "urgency", "status", "clock", "description", "address"]}),
        (_("where"), {"fields": ["map", "accuracy_m", "grid", "outside_grid", "building"]}),
        (_("handling"), {"fields": ["level", "area", "department", "assignee", "due_at", "due_provisional", "warn_at", "paused_at",
                                    "warned", "ever_overdue", "escalations", "closed_at", "satisfaction", "version"]}),
        (_("report"), {"fields": ["channel", "reported_at", "reporter", "reporter_name", "reporter_phone", "client_id", "duplicates"]}),
    ]
    inlines = [EventActionInline, EventPhotoInline]
    actions = ["remind", "escalate", "archive"]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.visible_events(request.user).select_related("category", "grid", "assignee", "area", "department", "reporter", "building")

    def get_readonly_fields(self, request, obj=None):
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    # reports come in through the patrol page, the API and Open311; the log is never rewritten
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # the list's workflow actions need it; a single event is never edited in a form
        return obj is None and super().has_change_permission(request)

    @property
    def media(self):
        return super().media + ReadOnlyPointWidget().media

    def changeform_view(self, request, *args, **kwargs):
        token = _csp_nonce.set(getattr(request, "csp_nonce", None))
        try:
            response = super().changeform_view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # now, while the nonce is set (the map below reads it)
            return response
        finally:
            _csp_nonce.reset(token)

    @admin.display(description=_("clock"))
    def clock(self, obj):
        if obj.due_at is None:
            return "—"
        colour = selectors.clock_status(obj)
        return format_html('<span title="{1}" style="display:inline-block;width:.9em;height:.9em;border-radius:50%;'
                           'background:{0};vertical-align:middle"></span> {1}', CLOCK_COLOURS[colour], CLOCK_LABELS[colour])

    @admin.display(description=_("due at"), ordering="due_at")
    def due(self, obj):
        if obj.due_at is None:
            return "—"
        shown = date_format(localtime(obj.due_at), "SHORT_DATETIME_FORMAT")
        if obj.due_provisional:
            return format_html('{} <span title="{}">⚠ {}</span>', shown, _("counted over a year with no holiday arrangement: weekends only"),
                               _("provisional"))
        return shown

    @admin.display(description=_("location"))
    def map(self, obj):
        if obj is None or obj.point is None:
            return "—"
        widget = ReadOnlyPointWidget(attrs={"geom_type": "POINT"})
        widget.csp_nonce = _csp_nonce.get()
        return widget.render("event_point", obj.point, {"id": "event_point"})

    @admin.display(description=_("possible duplicates"))
    def duplicates(self, obj):
        return ", ".join(e.number for e in obj.possible_duplicates.all()) or "—"

    def _act(self, request, queryset, action, note=""):
        done, refused = 0, []
        for event in queryset.select_related(None).only("pk", "number"):
            try:
                services.act(event.pk, action, request.user, note=note)
                done += 1
            except (services.Conflict, PermissionDenied, ValidationError, Event.DoesNotExist) as exc:
                refused.append(f"{event.number}: {exc}")
        if done:
            self.message_user(request, _("%(action)s: %(n)d event(s)") % {"action": Action(action).label, "n": done}, messages.SUCCESS)
        for line in refused[:20]:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=_("Remind the handlers (催办)"), permissions=["change"])
    def remind(self, request, queryset):
        self._act(request, queryset, Action.REMIND)

    @admin.action(description=_("Escalate one level (上报上级)"), permissions=["change"])
    def escalate(self, request, queryset):
        self._act(request, queryset, Action.ESCALATE, note=f"由 {request.user.display_name} 在管理后台上报上级")

    @admin.action(description=_("Archive closed or rejected events (归档)"), permissions=["change"])
    def archive(self, request, queryset):
        self._act(request, queryset, Action.ARCHIVE)


@admin.register(Notification)
class NotificationAdmin(ReadOnly, ScopedModelAdmin):
    """The in-app messages: read-only; each user sees their own, the centre sees all."""

    list_display = ["created_at", "user", "kind", "text", "event", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "user__username", "event__number"]
    list_select_related = ["user", "event"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.sees_everything else qs.filter(user=request.user)

