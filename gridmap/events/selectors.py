"""Reads for events: routing a point to who handles it, visibility, queues and inboxes."""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db import connection
from django.db.models import Case, CharField, DateTimeField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from gridmap.grids.models import Area, Level

from .models import Category, Duty, Event, HandlingLevel, Leave, Notification, TimeLimit, Urgency
from .workflow import SYSTEM, allowed_actions

LEVEL_OF_AREA = {HandlingLevel.GRID: Level.GRID, HandlingLevel.COMMUNITY: Level.COMMUNITY,
                 HandlingLevel.STREET: Level.STREET, HandlingLevel.DISTRICT: Level.DISTRICT}
NEXT_LEVEL = {HandlingLevel.GRID: HandlingLevel.COMMUNITY, HandlingLevel.COMMUNITY: HandlingLevel.STREET,
              HandlingLevel.STREET: HandlingLevel.DISTRICT, HandlingLevel.DISTRICT: HandlingLevel.DISTRICT,
              HandlingLevel.DEPARTMENT: HandlingLevel.DISTRICT}


@dataclass
class Placement:
    grid: Area | None
    outside: bool  # not inside any grid (nearest grid, or triage)


def place_point(point: Point) -> Placement:
    """The grid of a reported point: the foundation's rule (lowest code on shared edges); else the
    nearest grid within settings.EVENT_NEAREST_GRID_M metres, flagged; else none (triage)."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT coalesce(gridmap_grid_at(p), (
                   SELECT a.id FROM grids_area a JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
                   WHERE a.level = 'grid' AND ST_DWithin(a.boundary::geography, p::geography, %s)
                   ORDER BY ST_Distance(a.boundary::geography, p::geography), a.code LIMIT 1)),
                   gridmap_grid_at(p) IS NULL
               FROM (SELECT ST_GeomFromEWKB(%s) AS p) s""",
            [settings.EVENT_NEAREST_GRID_M, bytes(point.ewkb)],
        )
        grid_id, outside = cur.fetchone()
    return Placement(Area.objects.select_related("leader").filter(pk=grid_id).first() if grid_id else None, outside)


def triage_area(point: Point) -> Area | None:
    """The smallest non-grid area covering a point outside every grid (its triage queue)."""
    return (
        Area.objects.exclude(level=Level.GRID).filter(boundary__intersects=point)
        .order_by("-path").first()  # the deepest: longest path
    )


def ancestor_at(area: Area, level: str) -> Area | None:
    """`area` or its ancestor at the handling level (None for the district centre)."""
    wanted = LEVEL_OF_AREA.get(level)
    node = area
    while node is not None and node.level != wanted:
        node = node.parent
    return node


def available(user, day: dt.date):
    """The user, or their deputy while on leave."""
    # ids first: on the hot path (every report) nobody is on leave and no user row is needed
    deputy = Leave.objects.filter(user=user, start__lte=day, end__gte=day).order_by("pk").values_list("deputy_id", flat=True)[:1]
    deputy = list(deputy)
    return type(user).objects.get(pk=deputy[0]) if deputy else user


def responsible_for(area: Area | None, day: dt.date):
    """Who takes an area's events today: the on-duty worker if a roster exists, else the leader;
    a deputy stands in for someone on leave. None when nobody is named (the queue stays open)."""
    if area is None:
        return None
    on_duty = list(Duty.objects.filter(area=area, day=day).values_list("user_id", flat=True)[:1])  # one per area and day
    person = Duty._meta.get_field("user").related_model.objects.get(pk=on_duty[0]) if on_duty else area.leader
    return available(person, day) if person else None


def department_handler(department, day: dt.date):
    handler = department.handlers.order_by("pk").first() if department else None
    return available(handler, day) if handler else None


def time_limit(category: Category, urgency: str) -> TimeLimit | None:
    """The category's limit for the urgency, inherited from the nearest ancestor that has one;
    an urgency without a limit of its own falls back to the normal one."""
    for node in category.lineage():
        limits = {t.urgency: t for t in node.time_limits.all()}
        if limits:
            return limits.get(urgency) or limits.get(Urgency.NORMAL)
    return None


def roles_of(user, event: Event) -> set[str]:
    """The workflow roles the user holds on this event (the system's when user is None)."""
    if user is None:
        return {SYSTEM}
    roles = {user.role}
    if event.reporter_id == user.pk:
        roles.add("reporter")
    return roles


def visible_events(user) -> QuerySet[Event]:
    """Events a user may see: those handled or reported in their area's subtree, assigned to
    them, handed to their department, or reported by them."""
    qs = Event.objects.all()
    if user.sees_everything:
        return qs
    mine = Q(assignee=user) | Q(reporter=user) | Q(department__handlers=user)
    if user.area_id:
        path = user.area.path
        mine |= Q(area__path__startswith=path) | Q(grid__path__startswith=path)
    return qs.filter(mine).distinct()


def can_see(user, event: Event) -> bool:
    return user is None or visible_events(user).filter(pk=event.pk).exists()


def actions_for(user, event: Event) -> list[str]:
    """The buttons this user gets on this event, straight from the workflow table."""
    if not can_see(user, event):
        return []
    return allowed_actions(event.status, roles_of(user, event))


def inbox(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def clock_status(event: Event, now: dt.datetime | None = None) -> str:
    """green while in time, yellow after the warning point, red when overdue (frozen while
    paused, and at the close: an event closed in time stays green). with_clock() is the same
    rule in SQL, for filtering lists."""
    if event.due_at is None:
        return "green"
    now = event.paused_at or event.closed_at or now or timezone.now()
    if now > event.due_at:
        return "red"
    return "yellow" if event.warn_at and now >= event.warn_at else "green"


def with_clock(qs: QuerySet[Event], now: dt.datetime | None = None) -> QuerySet[Event]:
    """Annotate `clock` (green / yellow / red) exactly as clock_status() computes it."""
    at = Coalesce("paused_at", "closed_at", Value(now or timezone.now(), output_field=DateTimeField()))
    return qs.annotate(clock=Case(
        When(due_at__isnull=True, then=Value("green")),
        When(due_at__lt=at, then=Value("red")),
        When(warn_at__isnull=False, warn_at__lte=at, then=Value("yellow")),
        default=Value("green"), output_field=CharField(),
    ))


def possible_duplicates(event: Event) -> QuerySet[Event]:
    """Earlier events of the same category within 50 m and 24 h, or in the same building."""
    window = event.reported_at - dt.timedelta(hours=24)
    metres = settings.EVENT_DUPLICATE_M
    # an index-friendly box in degrees (loose enough at any latitude China spans), then exact metres
    near = Q(point__dwithin=(event.point, metres / 111_320 * 1.5), point__distance_lte=(event.point, D(m=metres)))
    qs = Event.objects.filter(category=event.category, reported_at__gte=window, reported_at__lte=event.reported_at).exclude(pk=event.pk)
    if event.building_id:
        return qs.filter(near | Q(building_id=event.building_id))
    return qs.filter(near)


def open311_events() -> QuerySet[Event]:
    """Events readable through Open311 (public by the spec: no key needed to read): those in
    categories offered through Open311, with what a GeoReport v2 request shows joined in one
    query: the last note, the last change, and the photos taken at report time."""
    from django.db.models import OuterRef, Prefetch, Subquery

    from .models import EventAction, EventPhoto

    steps = EventAction.objects.filter(event=OuterRef("pk")).order_by("-seq")
    return (
        Event.objects.filter(category__open311=True)
        .select_related("category", "area", "department", "building", "open311")
        .annotate(last_note=Subquery(steps.exclude(note="").values("note")[:1]),
                  last_change=Subquery(steps.values("at")[:1]))
        .prefetch_related(Prefetch("photos", queryset=EventPhoto.objects.filter(action__seq=1).order_by("pk"),
                                   to_attr="report_photos"))
    )
