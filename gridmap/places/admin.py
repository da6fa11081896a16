from django.contrib import admin

from gridmap.core import geo
from gridmap.core.admin import ScopedAdmin, ScopedTabularInline

from .models import Building, Dwelling, Facility, Inspection, Organisation, RentedDwelling


class DwellingInline(ScopedTabularInline):
    model = Dwelling
    fields = ["unit", "floor", "room", "area_m2", "use"]
    extra = 0
    show_change_link = True


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    form = geo.checked_form(footprint="footprint")
    list_display = ["code", "label", "address", "use", "floors_above", "units", "grid"]
    list_filter = ["use", "grid__parent", "grid"]
    search_fields = ["code", "name", "address"]
    readonly_fields = ["location", "grid"]
    autocomplete_fields = ["building_head"]
    inlines = [DwellingInline]

    @admin.display(description=Building._meta.get_field("name").verbose_name, ordering="name")
    def label(self, obj):
        """The name, else the address, else the code (most surveyed footprints have no name)."""
        return obj.label


@admin.register(Dwelling)
class DwellingAdmin(ScopedAdmin):
    scope_location = "building__location"
    list_display = ["__str__", "building", "unit", "floor", "room", "use", "area_m2", "grid"]
    list_filter = ["use", "grid"]
    search_fields = ["building__name", "building__code", "room", "owner_name"]
    list_select_related = ["building", "grid"]
    autocomplete_fields = ["building", "owner"]
    readonly_fields = ["grid"]


class InspectionInline(ScopedTabularInline):
    model = Inspection
    fields = ["inspected_at", "inspector", "passed", "findings"]
    extra = 0


@admin.register(RentedDwelling)
class RentedDwellingAdmin(ScopedAdmin):
    scope_grid = "dwelling__grid"
    scope_location = "dwelling__building__location"
    list_display = ["dwelling", "landlord_name", "lease_start", "lease_end", "agent", "status"]
    list_filter = ["status", "dwelling__grid"]
    search_fields = ["dwelling__building__name", "landlord_name", "agent"]
    autocomplete_fields = ["dwelling", "landlord", "tenants"]
    inlines = [InspectionInline]


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdmin):
    form = geo.checked_form(location="point")
    list_display = ["name", "credit_code", "kind", "legal_representative", "employees", "risk_level", "grid"]
    list_filter = ["kind", "risk_level", "grid"]
    search_fields = ["name", "credit_code", "address", "legal_representative"]
    readonly_fields = ["grid"]
    autocomplete_fields = ["building"]
    inlines = [InspectionInline]


@admin.register(Facility)
class FacilityAdmin(ScopedAdmin):
    form = geo.checked_form(geom="line")
    list_display = ["code", "kind", "status", "owner_department", "grid"]
    list_filter = ["kind", "status", "grid"]
    search_fields = ["code", "owner_department"]
    readonly_fields = ["location", "grid"]
