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


# Sign-in lockouts (django-axes, settings AXES_*): the centre unlocks a locked-out user here.
@admin.action(description=_("Unlock sign-in"), permissions=["change"])
def unlock_sign_in(modeladmin, request, queryset):
    from .auth import unlock

    users = list(queryset.values_list("username", flat=True))
    unlock(users)
    modeladmin.message_user(request, _("Sign-in unlocked: %(users)s") % {"users": ", ".join(users)})


UserAdmin.actions = (*(UserAdmin.actions or ()), unlock_sign_in)
