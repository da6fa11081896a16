from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import AccessLog, User
from .scoping import scope


class ScopedAdmin(LeafletGeoAdmin):
    """Admin over a register: map widgets, and only the rows of the user's area (selectors'
    `scope`), so a grid leader cannot open another grid's record by its URL."""

    scope_grid = "grid"
    scope_location: str | None = "location"

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.scope_grid, self.scope_location)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "area", "is_active"]
    list_filter = ["role", "is_active", "area__level"]
    search_fields = ["username", "first_name", "last_name", "area__name", "area__code"]
    autocomplete_fields = ["area"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("gridmap"), {"fields": ("role", "area", "phone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("gridmap"), {"fields": ("role", "area")}),)


class ReadOnly:
    """For records nobody edits by hand (logs, messages, history): they can only be viewed."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["at", "user", "model", "object_id", "what"]
    list_filter = ["model"]
    search_fields = ["user__username"]
    date_hierarchy = "at"


# Fields declared without a verbose_name show their bare English name in the admin ("User:",
# "Person"). Their Chinese labels are set here at run time: a migration's state is built from the
# declared `_verbose_name`, so this changes no migration. Move each into its model (and drop it
# here) with that app's next migration.
MISSING_FIELD_LABELS = {
    "core.AccessLog": {"user": _("viewed by"), "at": _("viewed at"), "model": _("record type"),
                       "object_id": _("record id"), "what": _("fields viewed")},
    "people.HouseholdMember": {"person": _("person")},
    "people.EmploymentRecord": {"person": _("person")},
    "people.WelfareRecord": {"person": _("person")},
    "people.SpecialGroupRecord": {"person": _("person")},
    "people.Visit": {"person": _("person visited"), "household": _("household visited"),
                     "building": _("building visited"), "organisation": _("organisation visited")},
    "events.Event": {"version": _("version")},
    "events.EventAction": {"event": _("event"), "seq": _("step"), "from_status": _("status before"),
                           "to_status": _("status after")},
    "events.EventPhoto": {"event": _("event"), "action": _("taken at step")},
    "events.Notification": {"user": _("recipient"), "event": _("event")},
    "events.Duty": {"area": _("area"), "user": _("on duty")},
    "events.Leave": {"user": _("on leave")},
}
for _label, _fields in MISSING_FIELD_LABELS.items():
    _model = apps.get_model(_label)
    for _name, _text in _fields.items():
        _field = _model._meta.get_field(_name)
        if _field._verbose_name is None:  # the model has since named it: its own label wins
            _field.verbose_name = _text
