from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gridmap.core import geo
from gridmap.core.crypto import matches
from gridmap.core.admin import LogsSensitiveViews, ScopedAdmin, ScopedModelAdmin, ScopedTabularInline
from gridmap.core.scoping import mask_id_number, mask_phone

from . import selectors
from .models import (
    EmploymentRecord, Household, HouseholdMember, Person, SpecialGroupRecord, Visit, WelfareRecord,
)

SENSITIVE_PERSON_FIELDS = ["id_number", "phone"]


class EmploymentInline(ScopedTabularInline):
    model = EmploymentRecord
    fk_name = "person"
    fields = ["status", "employer", "occupation", "start", "end"]
    extra = 0


class WelfareInline(ScopedTabularInline):
    model = WelfareRecord
    fields = ["kind", "category", "grade", "monthly_amount", "start", "end"]
    extra = 0

    def get_queryset(self, request):
        return selectors.welfare_records(request.user)


class SpecialGroupInline(ScopedTabularInline):
    model = SpecialGroupRecord
    fields = ["group", "risk_level", "visit_every_days", "responsible", "start", "end", "sealed"]
    extra = 0

    def get_queryset(self, request):
        return selectors.special_group_records(request.user)


@admin.register(Person)
class PersonAdmin(LogsSensitiveViews, ScopedAdmin):
    """The list shows full ID numbers and phones to the roles that see them: each page (a search
    by ID number too) logs one access row per person shown; the change page one row, with the
    welfare and special-group records of its inlines."""

    scope_location = selectors.PERSON_LOCATION
    list_display = ["name", "shown_id_number", "sex", "birth_date", "residence_type", "shown_phone", "grid"]
    list_filter = ["residence_type", "sex", "party_member", "grid__parent", "grid"]
    search_fields = ["name"]  # and the whole ID number or phone, by keyed hash (get_search_results)
    autocomplete_fields = ["dwelling"]
    readonly_fields = ["grid"]
    list_select_related = ["grid"]

    @admin.display(description=_("ID number (证件号码)"))
    def shown_id_number(self, obj):
        return obj.id_number if self._sensitive else mask_id_number(obj.id_number)

    @admin.display(description=_("phone"))
    def shown_phone(self, obj):
        return obj.phone if self._sensitive else mask_phone(obj.phone)

    _sensitive = False

    def get_queryset(self, request):
        self._sensitive = request.user.sees_sensitive
        return super().get_queryset(request)

    def get_inlines(self, request, obj):
        inlines = [EmploymentInline, WelfareInline]
        return inlines + [SpecialGroupInline] if request.user.sees_sensitive else inlines

    def get_exclude(self, request, obj=None):
        return [] if request.user.sees_sensitive else SENSITIVE_PERSON_FIELDS

    def get_readonly_fields(self, request, obj=None):
        extra = [] if request.user.sees_sensitive else ["shown_id_number", "shown_phone"]
        return [*self.readonly_fields, *extra]

    def get_search_results(self, request, queryset, search_term):
        """A name, or, for the roles that see them (a search by them would reveal them to a role
        that sees them masked), the whole ID number or phone: exact, through their digests."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and request.user.sees_sensitive:
            found |= queryset.filter(matches(Person, "id_number", term) | matches(Person, "phone", term))
        return found, duplicates

    def logged_fields(self, request, obj=None):
        if not request.user.sees_sensitive:
            return ""  # masked: nothing shown in full, nothing logged
        return "id_number,phone" if obj is None else "id_number,phone,welfare,special_groups"


class MemberInline(ScopedTabularInline):
    model = HouseholdMember
    fields = ["person", "relation"]
    autocomplete_fields = ["person"]
    extra = 0


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    scope_location = "dwelling__building__location"
    list_display = ["number", "dwelling", "head", "kind", "grid"]
    list_filter = ["kind", "grid"]
    search_fields = ["number", "head__name"]
    autocomplete_fields = ["dwelling", "head"]
    readonly_fields = ["grid"]
    list_select_related = ["dwelling__building", "head", "grid"]
    inlines = [MemberInline]


@admin.register(Visit)
class VisitAdmin(ScopedAdmin):
    form = geo.checked_form(location="point")
    list_display = ["visited_at", "worker", "person", "household", "building", "organisation", "grid"]
    list_filter = ["grid"]
    search_fields = ["person__name", "household__number", "findings"]
    autocomplete_fields = ["person", "household", "building", "organisation"]  # worker: a select of the area's staff
    readonly_fields = ["grid"]
    date_hierarchy = "visited_at"


@admin.register(SpecialGroupRecord)
class SpecialGroupRecordAdmin(LogsSensitiveViews, ScopedModelAdmin):
    list_display = ["person", "group", "risk_level", "visit_every_days", "responsible", "start", "end"]
    list_filter = ["group", "risk_level"]
    autocomplete_fields = ["person"]

    log_model, log_id_attr = "people.person", "person_id"  # logged against the person: "who saw X's record"

    def logged_fields(self, request, obj=None):
        return "special_groups" if request.user.sees_sensitive else ""

    def get_queryset(self, request):
        return selectors.special_group_records(request.user)

    # only the roles that may see special-group records write them (selectors.special_group_records)
    def has_add_permission(self, request):
        return request.user.sees_sensitive and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.sees_sensitive and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.sees_sensitive and super().has_delete_permission(request, obj)


@admin.register(WelfareRecord)
class WelfareRecordAdmin(LogsSensitiveViews, ScopedModelAdmin):
    list_display = ["person", "kind", "category", "grade", "monthly_amount", "start", "end"]
    list_filter = ["kind"]
    autocomplete_fields = ["person"]
    log_model, log_id_attr = "people.person", "person_id"

    def logged_fields(self, request, obj=None):
        # the roles that see every kind (disability grades are health data); a worker's list,
        # without them, is not logged, as on the person card (people/selectors.person_cards)
        return "welfare" if request.user.sees_sensitive else ""

    def get_queryset(self, request):
        return selectors.welfare_records(request.user)
