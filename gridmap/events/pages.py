"""Event pages (server-rendered shells): the mobile patrol report form and the in-app inbox.
Thin: reads come from selectors, the one write (marking read) from notify; reports go to the
REST endpoint (gridmap.events.api.ReportView) from the page's script."""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from gridmap.grids import selectors as grid_selectors

from . import notify, selectors
from .models import Category, Urgency


def category_tree():
    """Active categories as [(group, [children])]; a group with no children offers itself."""
    nodes = list(Category.objects.filter(active=True).order_by("code"))
    children = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    return [(root, children.get(root.pk, [])) for root in children.get(None, [])]


@login_required
@ensure_csrf_cookie
def patrol(request):
    leaflet = settings.LEAFLET_CONFIG
    config = {
        "api": {"report": reverse("events:report"), "areas": reverse("map:areas")},
        "center": leaflet["DEFAULT_CENTER"],
        "extent": grid_selectors.visible_extent(request.user),
        "zoom": 17,
        "maxZoom": leaflet["MAX_ZOOM"],
        "tiles": [{"name": name, "url": url, "options": options} for name, url, options in leaflet["TILES"]],
        "text": {
            "locating": _("Finding your position…"),
            "accuracy": _("GPS fix, accuracy ±%(m)s m"),
            "adjusted": _("Position adjusted on the map"),
            "noGps": _("No GPS fix: tap the map to place the point"),
            "noGpsSupport": _("This browser gives no location: tap the map to place the point"),
            "needPoint": _("Place the point on the map first"),
            "needCategory": _("Choose a category"),
            "needDescription": _("Describe what you found"),
            "sending": _("Sending…"),
            "queued": _("No network: the report is kept on this phone and sent when the network is back"),
            "rejected": _("The server refused a report"),
            "failed": _("Could not send (%(status)s); it will be tried again"),
            "unassigned": _("waiting for triage"),
            "outside": _("outside every grid: routed to the nearest grid"),
            "triage": _("triage queue"),
            "remove": _("Remove"),
            "photos": _("%(n)s photo(s)"),
            "noStorage": _("This browser cannot keep reports offline"),
        },
    }
    return render(request, "patrol.html", {
        "config": config,
        "categories": category_tree(),
        "urgencies": [(Urgency.NORMAL, _("Normal")), (Urgency.URGENT, _("Urgent")), (Urgency.CRITICAL, _("Critical"))],
        "default_urgency": Urgency.NORMAL,
    })


@login_required
def inbox(request):
    notes = list(selectors.inbox(request.user).select_related("event", "event__category", "event__grid")[:200])
    items = [{"note": n, "event": n.event, "clock": selectors.clock_status(n.event) if n.event else None} for n in notes]
    return render(request, "inbox.html", {"items": items, "unread": sum(n.read_at is None for n in notes)})


@login_required
@require_POST
def mark_all_read(request):
    notify.mark_read(request.user)  # all of them
    return redirect("event_pages:inbox")
