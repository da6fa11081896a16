"""The map's reads over the area tree: the levels and grid layers the page offers, and each
level's areas as a GeoJSON layer, now or as of a date. Scoped like every area read (grids.selectors.visible_areas)."""
import datetime as dt

from django.db.models import CharField, Exists, F, OuterRef, Value
from django.db.models.functions import Coalesce, Concat, NullIf

from gridmap.core import clock
from gridmap.core.geojson import EMPTY, feature_collection
from gridmap.grids.models import LEVEL_ORDER, Area, GridLayer, Level
from gridmap.grids.selectors import areas_as_of, visible_areas


def visible_levels(user) -> list[str]:
    """The levels of the hierarchy at and below the user's area (all for the centre)."""
    if not user.is_authenticated:
        return []
    if user.sees_everything:
        return [str(level) for level in LEVEL_ORDER]
    if user.area_id is None:
        return []
    return [str(level) for level in LEVEL_ORDER[LEVEL_ORDER.index(user.area.level):]]


def _leader(prefix: str = ""):
    return Coalesce(
        NullIf(Concat(F(f"{prefix}leader__last_name"), F(f"{prefix}leader__first_name"), output_field=CharField()), Value("")),
        F(f"{prefix}leader__username"),
    )


def area_layer(user, level: str, layer_code: str | None = None) -> str:
    """One level of the visible area tree as GeoJSON, with what the map draws. Grids come from
    the primary layer unless another layer's code is given."""
    qs = visible_areas(user).filter(level=level, boundary__isnull=False)
    if level == Level.GRID:
        qs = qs.filter(layer__code=layer_code) if layer_code else qs.filter(layer__is_primary=True)
    return feature_collection(
        qs, "boundary",
        {"id": "id", "code": "code", "name": "name", "level": "level", "leader": _leader()},
    )


def area_layer_as_of(user, level: str, layer_code: str | None, day: dt.date) -> str:
    """One level of the visible area tree as it was drawn at the end of `day` (the map as of a
    date): the boundary version of each area in force then, with its number, and the area's
    leader of today. A grid retired since is drawn; one drawn later is not."""
    layer = GridLayer.objects.filter(code=layer_code).first() if layer_code else None
    if layer_code and layer is None:
        return EMPTY
    qs = areas_as_of(clock.end_of_day(day), level, layer).filter(area__in=visible_areas(user))
    return feature_collection(
        qs, "geom",
        {"id": "area_id", "code": "area__code", "name": "area__name", "level": "area__level",
         "leader": _leader("area__"), "version": "version"},
    )


# Outline colours of the grid layers other than the primary one (map overlays): a layer keeps
# its colour for every user and when layers are added (its place among all such layers in the
# order they were created). Saturated and drawn dashed without fill, apart from the primary
# grids' fill palette (web/static/gridmap/map.js).
LAYER_COLOURS = ["#d500f9", "#00bfa5", "#ff6d00", "#c51162", "#304ffe", "#64dd17"]


def other_grid_layers(user) -> list[dict]:
    """The grid layers other than the primary one that hold at least one grid (with a boundary)
    visible to `user`, in the order they were created, each as {"code", "name", "colour", "own"}
    for the map's layer switcher; `own` when the user's own area is a grid of that layer. One
    query."""
    visible = visible_areas(user, Area.objects.filter(level=Level.GRID, layer=OuterRef("pk"), boundary__isnull=False))
    layers = GridLayer.objects.filter(is_primary=False).order_by("pk").annotate(shown=Exists(visible))
    own = user.area.layer_id if getattr(user, "area_id", None) else None
    return [
        {"code": layer.code, "name": layer.name, "colour": LAYER_COLOURS[i % len(LAYER_COLOURS)], "own": layer.pk == own}
        for i, layer in enumerate(layers) if layer.shown
    ]
