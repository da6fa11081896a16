"""Reads over the area tree: subtrees, point-in-grid look-ups, unassigned records, map layers."""
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, NullIf

from gridmap.core.geojson import feature_collection
from gridmap.core.scoping import scope

from .models import LEVEL_ORDER, Area, GridLayer, Level


def primary_layer() -> GridLayer | None:
    return GridLayer.objects.filter(is_primary=True).first()


def subtree(area: Area) -> QuerySet[Area]:
    """The area and everything below it."""
    return Area.objects.filter(path__startswith=area.path)


def visible_areas(user, qs: QuerySet[Area] | None = None) -> QuerySet[Area]:
    """The areas `user` may see: the subtree of their own area (an area's scope is itself and
    everything below it), all of them for the centre, none without an area."""
    return scope(Area.objects.all() if qs is None else qs, user, grid="", location=None)


def visible_levels(user) -> list[str]:
    """The levels of the hierarchy at and below the user's area (all for the centre)."""
    if not user.is_authenticated:
        return []
    if user.sees_everything:
        return [str(level) for level in LEVEL_ORDER]
    if user.area_id is None:
        return []
    return [str(level) for level in LEVEL_ORDER[LEVEL_ORDER.index(user.area.level):]]


def visible_extent(user) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the user's area, or of everything for the centre."""
    return visible_areas(user).filter(boundary__isnull=False).aggregate(e=Extent("boundary"))["e"]


def area_layer(user, level: str, layer_code: str | None = None) -> str:
    """One level of the visible area tree as GeoJSON, with what the map draws. Grids come from
    the primary layer unless another layer's code is given."""
    qs = visible_areas(user).filter(level=level, boundary__isnull=False)
    if level == Level.GRID:
        qs = qs.filter(layer__code=layer_code) if layer_code else qs.filter(layer__is_primary=True)
    leader = Coalesce(
        NullIf(Concat(F("leader__last_name"), F("leader__first_name"), output_field=CharField()), Value("")),
        F("leader__username"),
    )
    return feature_collection(
        qs, "boundary",
        {"id": "id", "code": "code", "name": "name", "level": "level", "leader": leader},
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


def grids(layer: GridLayer | None = None) -> QuerySet[Area]:
    return Area.objects.filter(level=Level.GRID, layer=layer or primary_layer())


def grid_at(lon: float, lat: float) -> Area | None:
    """The primary-layer grid of a point, by the same rule the database triggers use."""
    with connection.cursor() as cur:
        cur.execute("SELECT gridmap_grid_at(ST_SetSRID(ST_MakePoint(%s, %s), 4326))", [lon, lat])
        (grid_id,) = cur.fetchone()
    return Area.objects.filter(pk=grid_id).first() if grid_id else None


def grids_at(lon: float, lat: float) -> dict[str, Area]:
    """The grid of a point in every layer (layer code → grid), lowest code on shared edges."""
    found = {}
    for grid in (
        Area.objects.filter(level=Level.GRID, boundary__intersects=Point(lon, lat, srid=4326))
        .select_related("layer")
        .order_by("layer_id", "code")
    ):
        found.setdefault(grid.layer.code, grid)
    return found


def unassigned(model) -> QuerySet:
    """Located records outside every grid: the community's or centre's queue."""
    qs = model.objects.filter(grid__isnull=True)
    if any(f.name == "location" for f in model._meta.get_fields()):
        qs = qs.filter(location__isnull=False)
    return qs
