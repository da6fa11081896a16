"""The map page (首页地图): server-rendered shell; the layers come from gridmap.grids.api."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gridmap.places.models import BuildingUse

from . import selectors
from .api import MAX_BBOX_DEGREES

BUILDINGS_MIN_ZOOM = 15


@login_required
def home(request):
    user = request.user
    leaflet = settings.LEAFLET_CONFIG
    config = {
        "api": {"areas": reverse("grids:map-areas"), "buildings": reverse("grids:map-buildings")},
        "extent": selectors.visible_extent(user),
        "center": leaflet["DEFAULT_CENTER"],
        "zoom": leaflet["DEFAULT_ZOOM"],
        "minZoom": leaflet["MIN_ZOOM"],
        "maxZoom": leaflet["MAX_ZOOM"],
        "tiles": [{"name": name, "url": url, "options": options} for name, url, options in leaflet["TILES"]],
        "levels": selectors.visible_levels(user),
        "buildingsMinZoom": BUILDINGS_MIN_ZOOM,
        "maxBboxDegrees": MAX_BBOX_DEGREES,
        "uses": dict(BuildingUse.choices),
        "text": {
            "base": _("Base map"),
            "district": _("Districts"),
            "street": _("Streets"),
            "community": _("Communities"),
            "grid": _("Grids"),
            "buildings": _("Buildings"),
            "leader": _("Leader"),
            "floors": _("Floors above ground"),
            "use": _("Use"),
            "gridCode": _("Grid"),
            "zoomIn": _("Zoom in to see buildings"),
            "loadFailed": _("Could not load a map layer"),
            "noLeader": _("not assigned"),
        },
    }
    return render(request, "map.html", {"config": config})
