"""Reads for the demo commands: what is loaded, and one login per role."""
from django.db.models import F

from gridmap.core.models import Role, User
from gridmap.events.models import Event
from gridmap.grids.models import Area, GridLayer, Level
from gridmap.people.models import Household, Person, Visit
from gridmap.places.models import Building, Dwelling, Facility, Organisation

from .plan import EMAIL_DOMAIN

COUNTED = [("buildings", Building), ("dwellings", Dwelling), ("households", Household), ("persons", Person),
           ("organisations", Organisation), ("facilities", Facility), ("visits", Visit), ("events", Event)]


def district() -> Area | None:
    """The root of the area tree (the demo's district), or None when nothing is loaded."""
    return Area.objects.filter(parent__isnull=True).order_by("code").first()


def summary() -> dict | None:
    """Counts per level and register, or None when the area tree is empty (nothing loaded).
    "grids" counts the primary layer's; each other layer's follow as "<code> grids"."""
    root = district()
    if root is None:
        return None
    counts = {"district": f"{root.name} ({root.code})"}
    for label, level in [("streets", Level.STREET), ("communities", Level.COMMUNITY)]:
        counts[label] = Area.objects.filter(level=level).count()
    counts["grids"] = Area.objects.filter(level=Level.GRID, layer__is_primary=True).count()
    for layer in GridLayer.objects.filter(is_primary=False).order_by("code"):
        counts[f"{layer.code} grids"] = layer.grids.count()
    for label, model in COUNTED:
        counts[label] = model.objects.count()
    counts["unassigned"] = sum(model.objects.filter(grid__isnull=True).count() for _, model in COUNTED)
    return counts


def logins() -> list[User]:
    """The first demo account of each role at each level (street and community staff share a
    role), in role order; a grid's staff from the primary layer (the other layer's leaders
    come after them)."""
    users = (User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).select_related("area")
             .order_by(F("area__layer__is_primary").desc(nulls_last=True), "area__code", "username"))
    first = {}
    for user in users:
        first.setdefault((user.role, user.area.level if user.area else ""), user)
    return sorted(first.values(), key=lambda u: (Role.values.index(u.role), len(u.area.code) if u.area else 0))
