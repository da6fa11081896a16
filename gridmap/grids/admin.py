from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from . import selectors, services
from .models import Area, AreaBoundary, GridLayer


@admin.register(GridLayer)
class GridLayerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_primary"]


class AreaBoundaryInline(admin.TabularInline):
    model = AreaBoundary
    fields = ["version", "valid_from", "valid_to", "author", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Area)
class AreaAdmin(LeafletGeoAdmin):
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
