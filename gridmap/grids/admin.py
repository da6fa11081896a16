from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from gridmap.core.admin import ScopedChoices, ScopedModelAdmin, ScopedTabularInline

from . import selectors, services
from .models import Area, AreaBoundary, GridLayer, Level, Redraw


@admin.register(GridLayer)
class GridLayerAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "is_primary"]


class AreaBoundaryInline(ScopedTabularInline):
    model = AreaBoundary
    fields = ["version", "valid_from", "valid_to", "author", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AreaForm(forms.ModelForm):
    """A boundary is checked here as `services.set_boundary` checks it (limits, validity, no overlap
    with the layer's other grids), so a bad one is a form error on the field, never a 500."""

    def clean_boundary(self):
        value = self.cleaned_data.get("boundary")
        return None if value is None else services.as_multipolygon(value)

    def clean(self):
        cleaned = super().clean()
        boundary = cleaned.get("boundary")
        if boundary is not None and cleaned.get("level") == Level.GRID and cleaned.get("layer") is not None:
            probe = Area(pk=self.instance.pk, code=cleaned.get("code") or self.instance.code,
                         level=Level.GRID, layer=cleaned["layer"])
            try:
                services.check_no_overlap(probe, boundary)
            except ValidationError as exc:
                self.add_error("boundary", exc)
        return cleaned


@admin.register(Area)
class AreaAdmin(ScopedChoices, LeafletGeoAdmin):
    form = AreaForm
    list_display = ["code", "name", "level", "layer", "parent", "leader"]
    list_filter = ["level", "layer"]
    search_fields = ["code", "name", "leader__username", "leader__last_name"]
    autocomplete_fields = ["parent", "leader", "workers"]
    inlines = [AreaBoundaryInline]

    def get_queryset(self, request):
        # An area's own subtree is its scope: the `grid` of an area is the area itself.
        return selectors.visible_areas(request.user, super().get_queryset(request).select_related("layer", "parent", "leader"))

    def save_model(self, request, obj, form, change):
        # A boundary edited here becomes a new version and re-places what moved.
        new_boundary = form.cleaned_data.get("boundary")
        if change and "boundary" in form.changed_data and new_boundary is not None:
            obj.boundary = Area.objects.get(pk=obj.pk).boundary
            super().save_model(request, obj, form, change)
            services.set_boundary(obj, new_boundary, author=request.user, reason="edited in admin")
        else:
            super().save_model(request, obj, form, change)
            if new_boundary is not None and not change:
                obj.boundary = None
                services.set_boundary(obj, new_boundary, author=request.user, reason="created in admin")


class RedrawVersionInline(ScopedTabularInline):
    model = AreaBoundary
    fields = ["area", "version", "valid_from", "valid_to"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("boundary versions written")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Redraw)
class RedrawAdmin(ScopedModelAdmin):
    """The record of committed boundary changes (split, merge, redraw, import…), read only: made
    by the editor (services.commit_redraw), never by hand. A user sees the changes that touched a
    grid of their area."""

    list_display = ["committed_at", "operation", "author", "reason", "effective_from"]
    list_filter = ["operation"]
    search_fields = ["reason", "versions__area__code"]
    date_hierarchy = "committed_at"
    fields = ["operation", "author", "committed_at", "effective_from", "reason", "moved"]
    readonly_fields = fields
    inlines = [RedrawVersionInline]

    def get_queryset(self, request):
        touched = AreaBoundary.objects.filter(redraw=OuterRef("pk"), area__in=selectors.visible_areas(request.user))
        return super().get_queryset(request).select_related("author").filter(Exists(touched))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
