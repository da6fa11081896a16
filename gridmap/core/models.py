"""Users bound to an area with a role, and the log of who looked at sensitive records."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import clock


class Role(models.TextChoices):
    CENTRE_ADMIN = "centre_admin", _("Centre administrator (中心管理员)")
    AREA_STAFF = "area_staff", _("Area staff (街道/社区工作人员)")
    GRID_LEADER = "grid_leader", _("Grid leader (网格长)")
    GRID_WORKER = "grid_worker", _("Grid worker / patroller (网格员/巡查员)")
    DEPARTMENT = "department", _("Department handler (职能部门)")
    LEADER = "leader", _("Leader, read only (领导)")
    AUDITOR = "auditor", _("Auditor (审计员)")


# Roles that work with named residents and so see ID numbers, phones and special-group records
# inside their area. Workers, departments and leaders see them masked.
SENSITIVE_ROLES = {Role.CENTRE_ADMIN, Role.AREA_STAFF, Role.GRID_LEADER}


# What each role may do, as (app, action) pairs; the admin and APIs ask `user.has_perm`.
# Field-level masking and area scoping come on top of this (see core/scoping.py).
_REGISTERS = ("places", "people")
_ALL_ACTIONS = ("view", "add", "change", "delete")
ROLE_PERMISSIONS: dict[str, set[tuple[str, str]]] = {
    Role.CENTRE_ADMIN: {(app, a) for app in ("core", "grids", *_REGISTERS) for a in _ALL_ACTIONS},
    Role.AREA_STAFF: {("grids", "view")} | {(app, a) for app in _REGISTERS for a in ("view", "add", "change")},
    Role.GRID_LEADER: {("grids", "view")} | {(app, a) for app in _REGISTERS for a in ("view", "add", "change")},
    Role.GRID_WORKER: {("grids", "view"), ("places", "view"), ("people", "view"), ("people", "add"), ("people", "change")},
    Role.DEPARTMENT: {("grids", "view"), ("places", "view")},
    Role.LEADER: {(app, "view") for app in ("grids", *_REGISTERS)},
}
# Events (事件): what the admin and API allow per role; workflow moves are further limited by
# events/workflow.py, and configuration (categories, calendar, departments, API keys) is
# edited by the centre only (events/admin.py).
_EVENT_PERMISSIONS = {
    Role.CENTRE_ADMIN: _ALL_ACTIONS,
    Role.AREA_STAFF: ("view", "add", "change"),
    Role.GRID_LEADER: ("view", "add", "change"),
    Role.GRID_WORKER: ("view", "add"),
    Role.DEPARTMENT: ("view", "change"),
    Role.LEADER: ("view",),
}
for _role, _actions in _EVENT_PERMISSIONS.items():
    ROLE_PERMISSIONS[_role] |= {("events", a) for a in _actions}
# The auditor (审计员) browses the sensitive-access log, read only, and nothing else: a pair may
# name one permission's whole codename instead of an action ("view_accesslog", not "view", which
# would open every core model, the user list included). The centre administrator keeps its view.
ROLE_PERMISSIONS[Role.AUDITOR] = {("core", "view_accesslog")}


class User(AbstractUser):
    """A gridmap user (用户): one role, bound to one area of the hierarchy."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.GRID_WORKER)
    area = models.ForeignKey(
        "grids.Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users", help_text=_("The part of the hierarchy this user sees. Empty only for centre administrators."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user (用户)")
        verbose_name_plural = _("users")

    def get_full_name(self) -> str:
        """Family name first, no space, as Chinese names are written (李敏秀, not 敏秀 李)."""
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def display_name(self) -> str:
        """How a staff member is named on screen: family + given name, else the username."""
        return self.get_full_name() or self.username

    def has_perm(self, perm, obj=None):
        if self.is_active and not self.is_superuser and "." in perm:
            app, codename = perm.split(".", 1)
            granted = ROLE_PERMISSIONS.get(self.role, ())
            if (app, codename.split("_", 1)[0]) in granted or (app, codename) in granted:
                return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        if self.is_active and any(app == app_label for app, _a in ROLE_PERMISSIONS.get(self.role, ())):
            return True
        return super().has_module_perms(app_label)

    @property
    def sees_sensitive(self) -> bool:
        return self.is_superuser or self.role in SENSITIVE_ROLES

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or (self.role in (Role.CENTRE_ADMIN, Role.LEADER) and self.area_id is None)


class AccessLog(models.Model):
    """One full view of a sensitive record (敏感信息查看记录): who, when, from where, which record
    and which fields. Append-only: the database refuses UPDATE and DELETE of its rows for every
    role (trigger in migration 0004). One row per record shown, so "who saw person X" is one
    indexed look-up (model, object_id); a list page writes its rows in one INSERT."""

    user = models.ForeignKey(
        User, verbose_name=_("viewed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Empty for a command run outside the web (an export)."),
    )
    at = models.DateTimeField(_("viewed at"), default=clock.now, editable=False, db_index=True)
    ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    model = models.CharField(_("record type"), max_length=60)
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    fields = models.CharField(_("fields viewed"), max_length=200, blank=True)
    what = models.CharField(_("where shown"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sensitive access log (敏感信息查看记录)")
        verbose_name_plural = _("sensitive access logs")
        indexes = [models.Index(fields=["model", "object_id"]), models.Index(fields=["user", "at"])]
