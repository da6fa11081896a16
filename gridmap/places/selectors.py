"""Reads over buildings and other places, always scoped to the caller's area."""
from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet

from gridmap.core.geojson import feature_collection
from gridmap.core.scoping import scope

from .models import Building


def buildings(user) -> QuerySet[Building]:
    return scope(Building.objects.all(), user)


def buildings_in_bbox(user, bbox: tuple[float, float, float, float]) -> QuerySet[Building]:
    """Visible buildings whose footprint meets the (west, south, east, north) box (GiST-indexed)."""
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    return buildings(user).filter(footprint__intersects=box)


def building_layer(user, bbox: tuple[float, float, float, float]) -> str:
    """Building footprints in a box as GeoJSON, with only the properties the map draws."""
    return feature_collection(
        buildings_in_bbox(user, bbox), "footprint",
        {"id": "id", "code": "code", "name": "name", "floors_above": "floors_above", "use": "use", "grid": "grid__code"},
    )
