"""The assessment schemes in the admin: the centre sets the weights per level (each level's three
adding up to 100, else the form says so), the report target, the signing time and the yellow-card
line; a scheme with a later "effective from" takes over from that month on."""
from django.contrib import admin

from gridmap.events.admin import is_centre

from .models import AssessmentScheme, AssessmentWeights


class CentreOnly:
    """Only the centre sees and edits schemes (the assessment page shows the one in force to its readers)."""

    def has_module_permission(self, request):
        return is_centre(request.user)

    def has_view_permission(self, request, obj=None):
        return is_centre(request.user)

    def has_add_permission(self, request, *args):
        return is_centre(request.user)

    def has_change_permission(self, request, obj=None):
        return is_centre(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_centre(request.user)


class WeightsInline(CentreOnly, admin.TabularInline):
    model = AssessmentWeights
    fields = ["unit", "results", "skills", "satisfaction"]
    extra = 0


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(CentreOnly, admin.ModelAdmin):
    list_display = ["name", "effective_from", "report_target", "sign_within_hours", "yellow_card_below"]
    fields = ["name", "effective_from", "report_target", "sign_within_hours", "yellow_card_below", "note"]
    inlines = [WeightsInline]
