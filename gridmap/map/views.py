"""The map page (首页地图): server-rendered shell; the layers come from gridmap.map.api."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gridmap.core import clock
from gridmap.core.basemap import base_map, building_tile_url
from gridmap.events import map_layer as event_map_layer
from gridmap.grids.selectors import visible_extent
from gridmap.grids.views import redraw_parents
from gridmap.places.models import BuildingUse, FacilityStatus, FacilityType, OrganisationType, RiskLevel

from . import selectors
from .api import MAX_BBOX_DEGREES
from .patch import page_text as patch_text
from .search import page_text as search_text

PLACES_MIN_ZOOM = 16  # facilities and organisations (places_layers.js)


# A map pin over a 2 × 2 grid, in the header's blue: browsers ask every site for /favicon.ico
# whether or not the page names an icon (the admin's login page names none), and a 404 there is an
# error in the console of every page that follows.
FAVICON = ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
           "<rect x='.5' y='.5' width='15' height='15' rx='2' fill='#1f3a5f'/>"
           "<path d='M8 1v14M1 8h14' stroke='#fff' stroke-width='1'/>"
           "<path d='M8 13s-3.5-3.6-3.5-6a3.5 3.5 0 0 1 7 0c0 2.4-3.5 6-3.5 6z' fill='#e53935' stroke='#fff' stroke-width='.8'/>"
           "<circle cx='8' cy='7' r='1.2' fill='#fff'/></svg>")


def favicon(request):
    """GET /favicon.ico → the site's icon (SVG, which browsers take from this address too)."""
    response = HttpResponse(FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@login_required
def home(request):
    user = request.user
    config = {
        **base_map(visible_extent(user)),
        "api": {
            "areas": reverse("map:areas"),
            "buildingTiles": building_tile_url(),
            "facilities": reverse("map:facilities"), "organisations": reverse("map:organisations"),
            # "{id}" is filled in by the page (floors.js)
            "buildingFloors": reverse("people:building-floors", args=[0]).replace("/0/", "/{id}/"),
            "dwelling": reverse("people:dwelling", args=[0]).replace("/0/", "/{id}/"),
            "person": reverse("people:person", args=[0]).replace("/0/", "/{id}/"),
            "search": reverse("map:search"), "patch": reverse("map:patch"),  # search.js, patch.js
            "inbox": reverse("event_pages:inbox"),
        },
        "pages": {"person": reverse("people:person-page", args=[0]).replace("/0/", "/{id}/")},  # a record's own page (floors.js)
        "levels": selectors.visible_levels(user),
        "today": clock.today().isoformat(),  # the latest date of the map as of a date (as_of.js)
        # the other grid layers (城管网格 …) with grids the user may see: switcher overlays (grid_layers.js)
        "gridLayers": selectors.other_grid_layers(user),
        "maxBboxDegrees": MAX_BBOX_DEGREES,
        "uses": dict(BuildingUse.choices),
        "places": {  # facilities and organisations layers (places_layers.js)
            "minZoom": PLACES_MIN_ZOOM,
            "facilityKinds": dict(FacilityType.choices), "facilityStatuses": dict(FacilityStatus.choices),
            "organisationKinds": dict(OrganisationType.choices), "riskLevels": dict(RiskLevel.choices),
        },
        "text": {
            "base": _("Base map"),
            "district": _("Districts"),
            "street": _("Streets"),
            "community": _("Communities"),
            "grid": _("Grids"),
            "buildings": _("Buildings"),
            "leader": _("Leader"),
            "gridLayer": _("Grid layer"),
            "floors": _("Floors above ground"),
            "use": _("Use"),
            "gridCode": _("Grid"),
            "zoomIn": _("Zoom in to see buildings"),
            "facilities": pgettext("map layer", "Facilities"), "organisations": pgettext("map layer", "Organisations"),
            "kind": _("Type"), "status": _("Status"), "riskLevel": _("Risk level"),
            "facilityAlert": _("damaged or missing"), "organisationAlert": _("high risk"),
            "zoomInPlaces": _("Zoom in to see facilities and organisations"),
            "loadFailed": _("Could not load a map layer"),
            "noLeader": _("not assigned"),
            # the low-zoom overview of districts and streets, and the district picker (overview.js)
            "chooseDistrict": _("Choose district"), "zoomToArea": _("Click to zoom to this area"),
            "floorsShort": pgettext("number of floors", "F"),
            "floorsUnknown": _("floors unknown"),
            # the coordinate readout (coords.js): always WGS84
            "coordsPointer": _("Pointer (WGS84)"), "coordsCentre": _("Map centre (WGS84)"),
            "coordsCopy": _("Copy coordinates"), "coordsCopied": _("Copied"),
            # the map as of a date (as_of.js); "{date}" is filled in by the page
            "asOf": _("Boundaries as of"), "asOfToday": _("Today"), "asOfShowing": _("Boundaries as of {date}"),
            "asOfNone": _("No boundaries were recorded yet on {date}"),
            **panel_text(),
            **search_text(), **patch_text(),
        },
    }
    config["events"] = event_map_layer.page_config(user)  # events layer and panel (events_layer.js, event_panel.js)
    # the header's link to the boundary editor, for those who may redraw grids somewhere
    return render(request, "map.html", {"config": config, "may_redraw": bool(redraw_parents(user))})


def panel_text() -> dict:
    """Labels of the building → floor → household → person panel (web/static/gridmap/floors.js).
    "{n}" is filled in by the page."""
    return {
        "openFailed": _("Could not open this record"), "notFound": _("Not found in your area"),
        "unassigned": _("outside every grid"),
        "code": _("Code"), "address": _("Address"), "floorsAboveBelow": _("Floors above / below ground"),
        "units": _("Units"), "roomsPerFloor": _("Rooms per floor"), "yearBuilt": _("Year built"),
        "propertyManager": _("Property manager"), "buildingHead": _("Building head"),
        "legend": _("Legend"), "floorTable": _("Floor table"), "unitN": _("Unit {n}"),
        "dwellings": _("Dwellings"), "households": _("Households"), "residents": _("Residents"),
        "floatingResidents": _("Floating residents"),
        "useSelf": _("Self-occupied"), "useRented": _("Rented"), "useVacant": _("Vacant"), "useCommercial": _("Commercial"),
        "tagFloating": _("Floating residents"), "tagSpecial": _("Special-group member"),
        "tagWelfare": _("Welfare recipient"), "tagElderly": _("Elderly living alone"),
        # one-letter marks in the table's cells
        "markFloating": pgettext("tag mark", "F"), "markSpecial": pgettext("tag mark", "S"),
        "markWelfare": pgettext("tag mark", "W"), "markElderly": pgettext("tag mark", "E"),
        "elderlyRecord": _("empty-nest record"), "elderlyAlone60": _("only resident, aged 60+"),
        "specialHidden": _("Special-group records and full ID numbers are not shown to your role."),
        "floor": _("Floor"), "area": _("Area (m²)"), "owner": _("Owner"), "rental": _("Rental"),
        "landlord": _("Landlord"), "lease": _("Lease"), "agent": _("Letting agent"),
        "registration": _("Registration"), "tenants": _("Tenants"), "household": _("Household"),
        "noHouseholds": _("No household registered here"), "otherResidents": _("Other residents"),
        "members": _("Members"), "relation": _("Relation"), "name": _("Name"), "sex": _("Sex"), "age": _("Age"),
        "residence": _("Residence type"), "idNumber": _("ID number"), "phone": _("Phone"),
        "employment": _("Employment"), "welfare": _("Welfare"), "specialGroups": _("Special groups"),
        "risk": _("risk"), "visitEveryN": _("visit every {n} days"), "sealed": _("sealed"), "gradeN": _("grade {n}"),
        "now": _("now"), "none": _("none"), "visits": _("Visits"), "events": _("Events"),
        "birthDate": _("Birth date"), "ethnicity": _("Ethnicity"), "registeredResidence": _("Registered residence"),
        "origin": _("Place of origin"), "arrived": _("Arrived"), "stayUntil": _("Stay until"),
        "partyMember": _("Party member"), "volunteer": _("Volunteer"), "yes": _("yes"), "no": _("no"),
        "dwelling": _("Dwelling"), "fullRecord": _("full record"),
    }
