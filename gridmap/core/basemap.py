"""What every map page starts from (the map, the boundary editor): the view, the base tiles
(settings.LEAFLET_CONFIG, GRIDMAP_TILE_CRS) and the building tiles, for the page's config JSON."""
from django.conf import settings
from django.urls import reverse

# Building tiles exist for these zooms; the map draws z16 tiles when zoomed in further.
BUILDING_TILE_ZOOMS = range(14, 17)
BUILDINGS_MIN_ZOOM = 15


def building_tile_url() -> str:
    """The building tiles' URL with "{z}/{x}/{y}" for the page (building_tiles.js) to fill in."""
    return reverse("map:building-tile", args=[0, 0, 0]).replace("0/0/0.mvt", "{z}/{x}/{y}.mvt")


def base_map(extent) -> dict:
    """The config every map page shares; `extent` (west, south, east, north) or None is where it opens."""
    leaflet = settings.LEAFLET_CONFIG
    return {
        "extent": extent,
        "center": leaflet["DEFAULT_CENTER"],
        "zoom": leaflet["DEFAULT_ZOOM"],
        "minZoom": leaflet["MIN_ZOOM"],
        "maxZoom": leaflet["MAX_ZOOM"],
        "tileCrs": settings.GRIDMAP_TILE_CRS,  # "wgs84" or "gcj02" (gcj02.js shifts the tiles)
        "tiles": [{"name": name, "url": url, "options": options} for name, url, options in leaflet["TILES"]],
        "buildingsMinZoom": BUILDINGS_MIN_ZOOM,
        "buildingTileZooms": [BUILDING_TILE_ZOOMS[0], BUILDING_TILE_ZOOMS[-1]],
    }
