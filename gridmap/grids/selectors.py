"""Reads over the area tree: subtrees, point-in-grid look-ups, unassigned records."""
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import QuerySet

from .models import Area, GridLayer, Level


def primary_layer() -> GridLayer | None:
    return GridLayer.objects.filter(is_primary=True).first()


def subtree(area: Area) -> QuerySet[Area]:
    """The area and everything below it."""
    return Area.objects.filter(path__startswith=area.path)


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
