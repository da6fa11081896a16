from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from leaflet.admin import LeafletGeoAdmin

from .models import AccessLog, Role, User
from .scoping import scope
from .services import log_sensitive_ids, remove_two_step
from .two_factor import TwoStepAuthenticationForm


class ScopedChoices:
    """Related-record choices scoped like the lists: every ForeignKey and ManyToMany form field
    (select, autocomplete, filter_horizontal, in inlines too) offers and accepts only the rows the
    related model's own admin lists for the caller (its `get_queryset`, the scoped one), so an id
    of another area is "Select a valid choice", names no record and writes nothing; and every
    list filter over a relation offers only the related rows of the records the caller sees.
    Every admin and inline of gridmap mixes this in (tests/test_url_walk.py checks it); models
    without an admin (permissions, content types) are not area records and keep Django's choices.
    Pick records of a register with `autocomplete_fields` (results come from the related admin's
    scoped queryset and search), never `raw_id_fields`: the raw-id widget prints the name behind
    any id typed in, unscoped."""

    def related_choices(self, request, model):
        model_admin = self.admin_site._registry.get(model)
        return None if model_admin is None else model_admin.get_queryset(request)

    def _scoped_choices(self, db_field, request, kwargs) -> dict:
        if "queryset" not in kwargs:
            qs = self.related_choices(request, db_field.remote_field.model)
            if qs is not None:
                kwargs["queryset"] = qs
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._scoped_choices(db_field, request, kwargs))

    def get_list_filter(self, request):
        # a plain filter over a relation lists every related row (every grid's name, every
        # person…); RelatedOnlyFieldListFilter lists those of the rows this admin shows the caller
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and get_fields_from_path(self.model, entry)[-1].is_relation:
                entry = (entry, admin.RelatedOnlyFieldListFilter)
            filters.append(entry)
        return filters


class ScopedModelAdmin(ScopedChoices, admin.ModelAdmin):
    """A plain admin with scoped related-record choices."""


class ScopedTabularInline(ScopedChoices, admin.TabularInline):
    """An inline with scoped related-record choices."""


class ScopedAdmin(ScopedChoices, LeafletGeoAdmin):
    """Admin over a register: map widgets, and only the rows of the user's area (selectors'
    `scope`), so a grid leader cannot open another grid's record by its URL; related-record
    choices scoped the same way (ScopedChoices)."""

    scope_grid = "grid"
    scope_location: str | None = "location"

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.scope_grid, self.scope_location)


# Sign-in lockouts (django-axes, settings AXES_*): the centre unlocks a locked-out user here.
@admin.action(description=_("Unlock sign-in"), permissions=["change"])
def unlock_sign_in(modeladmin, request, queryset):
    from .auth import unlock

    users = list(queryset.values_list("username", flat=True))
    unlock(users)
    modeladmin.message_user(request, _("Sign-in unlocked: %(users)s") % {"users": ", ".join(users)})


# Two-step sign-in (core/two_factor.py): the sign-in form asks enrolled users for a code; the
# centre resets a lost phone here. django-otp's own device admins go: they list every user's
# secret and pick users by raw id, unscoped (the user list's action is the way in).
admin.site.login_form = TwoStepAuthenticationForm
admin.site.login_template = "admin/login_two_step.html"
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


@admin.action(description=_("Reset two-step sign-in"), permissions=["change"])
def reset_two_step(modeladmin, request, queryset):
    reset = [user for user in queryset if remove_two_step(user, by=request.user)]
    for user in reset:
        modeladmin.log_change(request, user, _("Reset two-step sign-in"))
    if reset:
        modeladmin.message_user(request, _("Two-step sign-in reset (the next sign-in asks for the password only): "
                                           "%(users)s") % {"users": ", ".join(u.get_username() for u in reset)})
    else:
        modeladmin.message_user(request, _("None of the selected users had two-step sign-in on."), messages.WARNING)


@admin.register(User)
class UserAdmin(ScopedChoices, BaseUserAdmin):
    actions = [unlock_sign_in, reset_two_step]
    list_display = ["username", "last_name", "first_name", "role", "area", "is_active"]
    list_filter = ["role", "is_active", "area__level"]
    search_fields = ["username", "first_name", "last_name", "area__name", "area__code"]
    autocomplete_fields = ["area"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("gridmap"), {"fields": ("role", "area", "phone")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("gridmap"), {"fields": ("role", "area")}),)

    def get_queryset(self, request):
        # the staff of the caller's subtree: also the users any user field of another admin offers
        return scope(super().get_queryset(request), request.user, grid="area", location=None)


class ReadOnly:
    """For records nobody edits by hand (logs, messages, history): they can only be viewed."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LogsSensitiveViews:
    """Writes the sensitive-access log for an admin that shows sensitive values in full: its list
    (a search too) writes one row per record on the page, in one INSERT; its change page one row.
    `logged_fields(request)` names what the caller sees in full ("" when masked: nothing logged);
    rows are logged against `log_model` / `log_id(obj)` (a person's welfare record: the person),
    so "who saw person X" is one look-up."""

    log_model = ""  # the record type of the rows; default the admin's model
    log_id_attr = "pk"

    def logged_fields(self, request, obj=None) -> str:
        return ""

    def _log(self, request, objs, what, obj=None):
        fields = self.logged_fields(request, obj)
        if fields:
            log_sensitive_ids(request.user, self.log_model or self.model._meta.label_lower,
                              [getattr(o, self.log_id_attr) for o in objs], what, fields=fields)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = (getattr(response, "context_data", None) or {}).get("cl") if response.status_code == 200 else None
        if cl is not None:
            self._log(request, cl.result_list, "admin search" if cl.query else "admin list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = (getattr(response, "context_data", None) or {}).get("original") if response.status_code == 200 else None
        if obj is not None:
            self._log(request, [obj], "admin change view", obj)
        return response


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnly, ScopedModelAdmin):
    """The sensitive-access log, read only: the auditor (审计员) and the centre browse it by user,
    record type, date and client address. A user bound to an area sees the rows of the users of
    that area's subtree; the whole district's viewers (and an auditor with no area) every row."""

    list_display = ["at", "user", "ip", "model", "object_id", "fields", "what"]
    list_filter = ["model", "at", "user", "ip"]
    search_fields = ["user__username", "=ip", "=object_id"]
    date_hierarchy = "at"
    list_select_related = ["user"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        user = request.user
        if user.sees_everything or (user.role == Role.AUDITOR and user.area_id is None):
            return qs
        return scope(qs, user, grid="user__area", location=None)
