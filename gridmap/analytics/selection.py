"""What a statistics request is about: an area the user may see, a period, categories and
statuses — parsed once from the query string and used by every analytics read (heat bins,
hotspots, dashboards, assessment, exports), so they all count the same events.

    area=<id or code>     default: the user's own area (everything for the centre and leaders)
    period=… | from=…&to=…   periods.parse
    category=01&category=0203   category codes, each with its sub-categories; default: all
    status=open | closed | <a state>   repeatable; default: all

Events are counted in the grid they were reported in (Event.grid, "grid at report time"), so a
period's figures use the boundaries in force when each event came in; `boundaries()` says which.
"""
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission

from gridmap.core.models import Role
from gridmap.core.scoping import subtree_ids
from gridmap.events.filters import category_and_descendants
from gridmap.events.models import Category, Event
from gridmap.events.workflow import FINAL_STATES, State
from gridmap.grids.models import Area, AreaBoundary, Level
from gridmap.grids.selectors import visible_areas

from . import periods
from .periods import Period

OPEN, CLOSED = "open", "closed"
CLOSED_STATES = (State.CLOSED, State.ARCHIVED)
STATUS_WORDS = {OPEN: [s for s in State.values if s not in FINAL_STATES], CLOSED: list(CLOSED_STATES)}
MAX_CATEGORIES = 50
# the OpenAPI description of what parse() reads, for every endpoint that takes a selection
PARAMETERS = [
    OpenApiParameter("area", str, description="area id or code; default: your own area (everything for the centre and leaders)"),
    OpenApiParameter("period", str, description="2026-11, 2026-Q3, 2026, this_month, last_month, this_quarter, last_quarter, "
                                                "this_year, last_year or last_12_months; default: this month"),
    OpenApiParameter("from", OpenApiTypes.DATE, description="first day (with `to`, instead of `period`)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day, included"),
    OpenApiParameter("category", str, many=True, description="category codes, each with its sub-categories; default: all"),
    OpenApiParameter("status", str, many=True, description="open, closed or a state; default: all"),
]
# Statistics are for those who lead and supervise: the centre, leaders, area staff and grid
# leaders, each over their own area (parse scopes it); workers and departments work events.
READERS = {Role.CENTRE_ADMIN, Role.LEADER, Role.AREA_STAFF, Role.GRID_LEADER}


def may_read(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in READERS)


class Readers(BasePermission):
    """may_read as a DRF permission (403 for other roles)."""

    def has_permission(self, request, view):
        return may_read(request.user)


@dataclass(frozen=True)
class Selection:
    """An area (None: the whole of what the user sees, i.e. everything), a period, the category
    codes asked for with the ids they cover, and the statuses."""

    area: Area | None
    period: Period
    category_codes: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    sensitive: bool = field(default=False)  # the user may see counts of special groups and welfare

    @property
    def key(self) -> str:
        """The cache key part: everything the answer depends on (not who asked)."""
        area = self.area.pk if self.area else "all"
        return f"a{area}|{self.period.key}|c{','.join(self.category_codes)}|s{','.join(self.statuses)}|p{int(self.sensitive)}"

    def grid_ids(self) -> list[int] | None:
        """The ids of the area and every area below it; None for everything."""
        return None if self.area is None else subtree_ids(self.area)

    def with_period(self, period: Period) -> "Selection":
        return Selection(self.area, period, self.category_codes, self.category_ids, self.statuses, self.sensitive)

    def as_dict(self) -> dict:
        return {
            "area": None if self.area is None else {"id": self.area.pk, "code": self.area.code, "name": self.area.name, "level": self.area.level},
            "period": self.period.as_dict(),
            "categories": list(self.category_codes),
            "statuses": list(self.statuses),
        }


def choice(params, name: str, allowed, default=None) -> str:
    """Query parameter `name`, one of `allowed` (default: `default`, else the first); 400 naming
    the field otherwise."""
    allowed = list(allowed)
    value = params.get(name) or (default or allowed[0])
    if value not in allowed:
        raise ValidationError({name: _("one of: %(allowed)s") % {"allowed": ", ".join(allowed)}})
    return value


def parse(request, params=None) -> Selection:
    """The selection a request asks for; 400 naming the field when bad, 404 for an area the user
    may not see (as for any other record outside their area)."""
    params = request.query_params if params is None and hasattr(request, "query_params") else (params or request.GET)
    user = request.user
    return Selection(
        area=_area(user, params.get("area", "")),
        period=periods.parse(params),
        **_categories(params.getlist("category")),
        statuses=_statuses(params.getlist("status")),
        sensitive=bool(user.is_authenticated and user.sees_sensitive),
    )


def _area(user, raw: str) -> Area | None:
    if not raw:
        if user.sees_everything:
            return None
        if user.area_id is None:
            raise Http404(_("You have no area: ask the centre to give you one."))
        return user.area
    lookup = Q(pk=int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 10 else Q(code=raw[:32])  # "²" is a digit
    # PostgreSQL refuses NUL in a string: no code holds one
    area = None if "\x00" in raw else visible_areas(user).filter(lookup).first()
    if area is None:
        raise Http404(_("No such area in yours: %(area)s") % {"area": raw[:32]})
    return area


def _categories(codes: list[str]) -> dict:
    codes = sorted({c.strip() for c in codes if c.strip()})
    if len(codes) > MAX_CATEGORIES:
        raise ValidationError({"category": _("at most %(n)s categories") % {"n": MAX_CATEGORIES}})
    found = {c.code: c for c in Category.objects.filter(code__in=[c for c in codes if "\x00" not in c])}  # NUL: see _area
    if missing := [c for c in codes if c not in found]:
        raise ValidationError({"category": _("no such category: %(codes)s") % {"codes": ", ".join(m[:20] for m in missing)}})
    ids = sorted({pk for c in found.values() for pk in category_and_descendants(c)})
    return {"category_codes": tuple(codes), "category_ids": tuple(ids)}


def _statuses(raw: list[str]) -> tuple[str, ...]:
    out = set()
    for word in raw:
        if word in STATUS_WORDS:
            out |= set(STATUS_WORDS[word])
        elif word in State.values:
            out.add(word)
        elif word and word != "all":
            raise ValidationError({"status": _("not a status: %(s)s (open, closed, or a state such as %(e)s)") % {"s": word[:20], "e": State.HANDLING}})
    return tuple(sorted(out))


def events(selection: Selection, period: Period | None = None) -> QuerySet[Event]:
    """The events of the selection: reported in the period, in a grid of the area, of the
    categories and statuses asked for."""
    period = period or selection.period
    qs = Event.objects.filter(reported_at__gte=period.start, reported_at__lt=period.end)
    if (ids := selection.grid_ids()) is not None:
        qs = qs.filter(grid_id__in=ids)
    if selection.category_ids:
        qs = qs.filter(category_id__in=selection.category_ids)
    if selection.statuses:
        qs = qs.filter(status__in=selection.statuses)
    return qs


def boundaries(selection: Selection) -> dict:
    """Which boundaries the figures use, said beside every statistic of a period: events are
    counted in the grid they were reported in, under the boundary version in force at that
    moment; grids redrawn during the period are listed with their new versions. Residents and
    places are counted in today's grids."""
    qs = AreaBoundary.objects.filter(area__level=Level.GRID, valid_from__lt=selection.period.end)
    if (ids := selection.grid_ids()) is not None:
        qs = qs.filter(area_id__in=ids)
    in_force = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=selection.period.end)).count()
    changed = (qs.filter(valid_from__gte=selection.period.start, version__gt=1)
               .select_related("area").order_by("valid_from", "area__code"))
    return {
        "rule": _("Events are counted in the grid they were reported in, under the boundary in force at "
                  "that moment; residents and places in today's grids."),
        "grid_versions_in_force_at_end": in_force,
        "redrawn_during_period": [
            {"code": b.area.code, "name": b.area.name, "version": b.version,
             "from": timezone.localtime(b.valid_from).isoformat(timespec="minutes"), "reason": b.reason}
            for b in changed[:100]
        ],
    }
