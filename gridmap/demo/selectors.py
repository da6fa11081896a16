"""Reads for the demo commands: what is loaded, and one login per role."""
from gridmap.core.models import Role, User
from gridmap.events.models import Event
from gridmap.grids.models import Area, Level
from gridmap.people.models import Household, Person, Visit
from gridmap.places.models import Building, Dwelling, Facility, Organisation

from .plan import EMAIL_DOMAIN

COUNTED = [("buildings", Building), ("dwellings", Dwelling), ("households", Household), ("persons", Person),
           ("organisations", Organisation), ("facilities", Facility), ("visits", Visit), ("events", Event)]


def district() -> Area | None:
    """The root of the area tree (the demo's district), or None when nothing is loaded."""
    return Area.objects.filter(parent__isnull=True).order_by("code").first()


def summary() -> dict | None:
    """Counts per level and register, or None when the area tree is empty (nothing loaded)."""
    root = district()
    if root is None:
        return None
    counts = {"district": f"{root.name} ({root.code})"}
    for label, level in [("streets", Level.STREET), ("communities", Level.COMMUNITY), ("grids", Level.GRID)]:
        counts[label] = Area.objects.filter(level=level).count()
    for label, model in COUNTED:
        counts[label] = model.objects.count()
    counts["unassigned"] = sum(model.objects.filter(grid__isnull=True).count() for _, model in COUNTED)
    return counts


def logins() -> list[User]:
    """The first demo account of each role at each level (street and community staff share a
    role), in role order."""
    users = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).select_related("area").order_by("area__code", "username")
    first = {}
    for user in users:
        first.setdefault((user.role, user.area.level if user.area else ""), user)
    return sorted(first.values(), key=lambda u: (Role.values.index(u.role), len(u.area.code) if u.area else 0))
