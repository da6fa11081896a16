"""The boundary editor's page (边界编辑): a server-rendered shell on the map; the drawing, checks,
preview and commit go through the editor's API (grids.api), the buildings as the map's tiles."""
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gridmap.core import clock
from gridmap.core.basemap import base_map, building_tile_url

from . import selectors
from .models import GridLayer, Level
from .topology import bounds


def redraw_parents(user) -> list:
    """The streets and communities `user` may redraw grids under, in tree order."""
    areas = (selectors.visible_areas(user).filter(level__in=[Level.STREET, Level.COMMUNITY], boundary__isnull=False,
                                                  retired_at__isnull=True).select_related("parent").order_by("path"))
    return [a for a in areas if selectors.may_redraw(user, a)]


@login_required
def editor(request):
    """GET [?parent=id] → the editor on the parent's grids (default: the user's own area, else the
    first). 403 for a user who may redraw no grid."""
    parents = redraw_parents(request.user)
    if not parents:
        raise PermissionDenied
    wanted = request.GET.get("parent", "")
    own = next((a for a in parents if str(a.pk) == wanted), None) or next(
        (a for a in parents if a.pk == request.user.area_id), None) or next(
        (a for a in parents if a.level == Level.COMMUNITY), parents[0])
    layers = list(GridLayer.objects.order_by("-is_primary", "pk"))
    history = reverse("grids:editor-history", args=[0]).replace("/0/", "/{id}/")
    config = {
        **base_map(selectors.visible_extent(request.user)),
        "api": {
            "sheet": reverse("grids:editor-sheet"), "check": reverse("grids:editor-check"),
            "preview": reverse("grids:editor-preview"), "commit": reverse("grids:editor-commit"),
            "history": history, "suggestions": reverse("grids:editor-suggestions"),
            "import": reverse("grids:editor-import"),
            "buildingTiles": building_tile_url(),
        },
        "parent": own.pk,
        "today": clock.today().isoformat(),
        "households": bounds()["households"],
        "text": editor_text(),
    }
    return render(request, "editor.html", {"config": config, "parents": parents, "parent": own, "layers": layers,
                                           "export_formats": [("geojson", "GeoJSON"), ("gpkg", "GeoPackage"),
                                                              ("shp", _("Shapefile (zipped)"))]})


def editor_text() -> dict:
    """The labels the editor's scripts write (web/static/gridmap/editor*.js; the template has its
    own); "{n}", "{code}" … are filled in by the page."""
    return {
        "buildings": _("Buildings"), "zoomIn": _("Zoom in to see buildings"),
        "loadFailed": _("Could not load a map layer"), "householdsN": _("{n} households"), "history": _("History"),
        "hintSelect": _("Click a grid to see it and its history, or choose a tool."),
        "hintDraw": _("Click the corners of the new grid; click the first corner to close it. Corners snap to the neighbours."),
        "hintEdit": _("Drag the corners of grid {code}; a shared edge moves in both grids."),
        "hintSplit": _("Draw a line across the grid to split, from outside to outside; click its last point again to finish."),
        "hintMerge": _("Click the grids to merge (two or more), then choose the one that keeps its code."),
        "hintDelete": _("Grid {code} is deleted; choose a grid to take its ground and contents, or none for an empty grid."),
        "pickGrid": _("Click a grid first."),
        "keeps": _("Keeps its code"), "target": _("Its ground and contents go to"), "noTarget": _("none (leave a gap)"),
        "checking": _("Checking…"), "checkOk": _("No errors."), "errors": _("Errors"), "warnings": _("Warnings"),
        "notes": _("Notes"),
        "preview": _("Preview"), "previewTitle": _("What moves"), "kind": _("Kind"), "from": _("From"), "to": _("To"),
        "count": _("Count"), "nothingMoves": _("Nothing moves."), "totalsAfter": _("Each grid afterwards"),
        "noGrid": _("no grid"),
        "kinds": {"buildings": _("Buildings"), "dwellings": _("Dwellings"), "households": _("Households"),
                  "people": _("People"), "organisations": _("Organisations"), "facilities": _("Facilities"),
                  "events": _("Open events")},
        "moves": _("moves"), "stays": _("stays"), "eventsListed": _("Open events"),
        "policies": {"default": _("move the ones not yet accepted, keep accepted ones"),
                     "keep": _("keep every one with its handler"), "move": _("move every one to the new grid")},
        "committed": _("Committed: {operation} of {grids}; {n} buildings moved."),
        "conflict": _("Someone changed these grids since you loaded them:"), "reload": _("Reload"),
        "refused": _("Refused:"),
        "operations": {"draw": _("draw a new grid"), "reshape": _("redraw"), "split": _("split"), "merge": _("merge"),
                       "delete": _("delete"), "import": _("import a boundary set")},
        "versions": _("Boundary versions"), "version": _("Version {n}"), "by": _("by {who}"),
        "current": _("current"), "showVersion": _("Show against the current one"),
        "before": _("before"), "after": _("now"), "noReason": _("no reason given"),
        "noSuggestions": _("Every grid is within {low}–{high} households."),
        "suggestSplit": _("{code}: {n} households, split into {after}"),
        "suggestMerge": _("{code}: {n} households, merge to {after}"),
        "editSuggestion": _("Edit"),
        # a boundary set imported from a file (editor_import.js)
        "importing": _("Reading the file and checking the set…"), "importRefused": _("The file is refused:"),
        "matchedBy": {"code": _("by code"), "overlap": _("by largest overlap"), "new": _("new grid")},
        "importCounts": {"rows": _("Grids in the file"), "by_code": _("matched by code"),
                         "by_overlap": _("matched by largest overlap"), "new": _("new grids"),
                         "redrawn": _("redrawn"), "unchanged": _("unchanged"), "retired": _("retired")},
        "matches": _("Grids in the file and the grids they replace"), "row": _("Row"), "oldGrid": _("Grid now"),
        "newGrid": _("Grid after"), "how": _("Matched"), "rowN": _("row {n}"), "unchanged": _("unchanged"), "retires": _("retires"),
        "importNext": _("The {n} grids are drawn over the current ones. Check the errors and what moves, then commit "
                        "the set as one change with a reason."),
    }
