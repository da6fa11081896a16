"""Reads for events: routing a point to who handles it, visibility, queues and inboxes."""
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Case, CharField, DateTimeField, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat

from gridmap.core import clock
from gridmap.core.models import Role
from gridmap.core.scoping import subtree_ids
from gridmap.grids.models import Area, Level

from .calendar import WorkCalendar
from .models import (CalendarDay, CalendarYear, Category, Department, Duty, Event, HandlingLevel, Leave, Notification,
                     TimeLimit, Urgency)
from .workflow import FINAL_STATES, NOT_TAKEN_UP, SYSTEM, Action, allowed_actions, roles_for

LEVEL_OF_AREA = {HandlingLevel.GRID: Level.GRID, HandlingLevel.COMMUNITY: Level.COMMUNITY,
                 HandlingLevel.STREET: Level.STREET, HandlingLevel.DISTRICT: Level.DISTRICT}
NEXT_LEVEL = {HandlingLevel.GRID: HandlingLevel.COMMUNITY, HandlingLevel.COMMUNITY: HandlingLevel.STREET,
              HandlingLevel.STREET: HandlingLevel.DISTRICT, HandlingLevel.DISTRICT: HandlingLevel.DISTRICT,
              HandlingLevel.DEPARTMENT: HandlingLevel.DISTRICT}


@dataclass(frozen=True)
class Rules:
    """What routing and deadlines read from the configuration: the category tree (parents linked in
    memory, time limits prefetched) and the working-day calendar. Cached per process and reused
    while `stamp`, a fingerprint of those tables read with every report, is unchanged."""
    stamp: str
    categories: dict[int, Category]
    calendar: WorkCalendar

    def category(self, category: Category) -> Category:
        """The cached node of `category` (whose lineage and limits walk memory)."""
        return self.categories.get(category.pk, category)


# a fingerprint of every row of the four tables Rules holds: any insert, update or delete, by any
# process, through the ORM, admin, a migration or raw SQL, changes it (a sum of 64-bit row hashes)
RULES_STAMP_SQL = " || ':' || ".join(
    f"(SELECT count(*) || '/' || coalesce(sum(hashtextextended(t::text, 0)), 0) FROM {model._meta.db_table} t)"
    for model in (Category, TimeLimit, CalendarDay, CalendarYear)
)
_rules: Rules | None = None


def rules(stamp: str) -> Rules:
    """The configuration as of `stamp` (from RULES_STAMP_SQL): this process's copy if it is that
    version, else read afresh (four queries) and kept."""
    global _rules
    cached = _rules
    if cached is not None and cached.stamp == stamp:
        return cached
    nodes = {c.pk: c for c in Category.objects.prefetch_related("time_limits")}
    for c in nodes.values():
        c.parent = nodes.get(c.parent_id)  # fills the FK cache: lineage() walks memory
    _rules = Rules(stamp, nodes, WorkCalendar())
    return _rules


@dataclass
class Placement:
    grid: Area | None
    outside: bool  # not inside any grid (nearest grid, or triage)
    building_id: int | None = None  # the building whose footprint holds the point
    rules: Rules | None = None  # the configuration, current as of this placement


# who takes the events of area `a` on day `q.day` (responsible_for's rule): the on-duty worker,
# else the area's leader; and that person's deputy if they are on leave that day
# the leave rule, written once: the deputy of the first leave (by id) of `user` covering `day`
DEPUTY_SQL = f"""SELECT l.deputy_id FROM {Leave._meta.db_table} l
    WHERE l.user_id = {{user}} AND l.start <= {{day}} AND l."end" >= {{day}} ORDER BY l.id LIMIT 1"""
PEOPLE_SQL = f"""SELECT pp.person AS person_on_day,
           ({DEPUTY_SQL.format(user="pp.person", day="q.day")}) AS deputy_on_day
    FROM (SELECT coalesce((SELECT d.user_id FROM {Duty._meta.db_table} d WHERE d.area_id = a.id AND d.day = q.day LIMIT 1),
                          a.leader_id) AS person) pp"""
# the area's own columns, without its boundary (nothing on the report path draws it)
AREA_COLUMNS = ", ".join(f"a.{f.column}" for f in Area._meta.concrete_fields if f.name not in ("id", "boundary"))


def place_point(point: Point, day: dt.date) -> Placement:
    """The grid of a reported point: the foundation's rule (lowest code on shared edges); else the
    nearest grid within settings.EVENT_NEAREST_GRID_M metres, flagged; else none (triage). In the
    same query: the building at the point, the current Rules' stamp, and who takes the grid's
    events on `day` (kept on the grid for responsible_for, which then needs no query)."""
    from gridmap.places.models import Building

    rows = Area.objects.raw(
        f"""WITH s AS MATERIALIZED (  -- gridmap_grid_at once (materialised: not re-run per reference)
                SELECT p, gridmap_grid_at(p) AS inside FROM (SELECT ST_GeomFromEWKB(%s) AS p) s0),
            g AS MATERIALIZED (SELECT s.p, s.inside IS NULL AS outside, coalesce(s.inside, (
                SELECT n.id FROM grids_area n JOIN grids_gridlayer l ON l.id = n.layer_id AND l.is_primary
                WHERE n.level = 'grid' AND ST_DWithin(n.boundary::geography, s.p::geography, %s)
                ORDER BY ST_Distance(n.boundary::geography, s.p::geography), n.code LIMIT 1)) AS id FROM s)
            SELECT g.id, {AREA_COLUMNS}, g.outside, people.*, q.day AS people_day,
                   (SELECT b.id FROM {Building._meta.db_table} b WHERE ST_Intersects(b.footprint, g.p)
                    ORDER BY b.code LIMIT 1) AS building_id,
                   {RULES_STAMP_SQL} AS rules_stamp
            FROM g CROSS JOIN (SELECT %s::date AS day) q
            LEFT JOIN grids_area a ON a.id = g.id
            LEFT JOIN LATERAL ({PEOPLE_SQL}) people ON a.id IS NOT NULL""",
        [bytes(point.ewkb), settings.EVENT_NEAREST_GRID_M, day],
    )
    (row,) = rows  # always one row: the grid, or one with a NULL id when there is none
    return Placement(row if row.pk else None, row.outside, row.building_id, rules(row.rules_stamp))


def reported_before(client_id) -> Event | None:
    """The event already stored under this client id (an offline resend), if any."""
    with connection.cursor() as cur:  # the hot path asks this of every report: a plain indexed lookup
        cur.execute(f"SELECT id FROM {Event._meta.db_table} WHERE client_id = %s", [client_id])
        row = cur.fetchone()
    return Event.objects.get(pk=row[0]) if row else None


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
    """The user, or their deputy while on leave (the rule PEOPLE_SQL applies in SQL)."""
    with connection.cursor() as cur:  # ids first: usually nobody is on leave and no user row is needed
        cur.execute(DEPUTY_SQL.format(user="%s", day="%s"), [user.pk, day, day])
        deputy = cur.fetchone()
    return type(user).objects.get(pk=deputy[0]) if deputy else user


def responsible_for(area: Area | None, day: dt.date):
    """Who takes an area's events today: the on-duty worker if a roster exists, else the leader;
    a deputy stands in for someone on leave. None when nobody is named (the queue stays open).
    One query for the ids (none for a grid from place_point for this day), plus the user's row."""
    if area is None:
        return None
    people = area
    if getattr(area, "people_day", None) != day:
        (people,) = Area.objects.raw(
            f"""SELECT a.id, people.* FROM grids_area a CROSS JOIN (SELECT %s::date AS day) q
                CROSS JOIN LATERAL ({PEOPLE_SQL}) people WHERE a.id = %s""", [day, area.pk])
    who = people.deputy_on_day or people.person_on_day
    if who is None:
        return None
    if who == area.leader_id:
        return area.leader
    return get_user_model().objects.get(pk=who)


# the roles that may handle an event once it is theirs: those the workflow lets start it
HANDLING_ROLES = roles_for(Action.START)
# the roles that take an area's events, in the order a list shows them (a department's handlers
# are reached through to_department)
ASSIGNEE_ROLES = (Role.AREA_STAFF, Role.GRID_LEADER, Role.GRID_WORKER)
assert HANDLING_ROLES.issuperset(ASSIGNEE_ROLES)
# at most this many people answer a search of the assignees (listed_assignees with a query)
ASSIGNEE_SEARCH_LIMIT = 50


def _assignable_areas(user, event: Event) -> tuple[QuerySet, Area | None]:
    """The areas whose staff `user` may name for `event` (assignable's rule), and the top of
    them: the deepest of the handling area and the caller's own area (None: the district's roots).
    Only the primary layer's grids: events are placed and routed in it, never in another layer."""
    areas = Area.objects.filter(Q(layer__isnull=True) | Q(layer__is_primary=True))
    top = event.area or event.grid
    if top is not None:
        areas = areas.filter(path__startswith=top.path)
    if user is not None and not user.sees_everything:
        if not user.area_id:
            return areas.none(), None
        areas = areas.filter(path__startswith=user.area.path)
        if top is None or user.area.is_within(top):
            top = user.area
    return areas, top


def _staff_of(areas: QuerySet) -> QuerySet:
    """The staff of `areas`: their leaders, their workers and the users of an assignee role bound
    to them; only active users of a role that may handle an event."""
    return get_user_model().objects.filter(
        Q(role__in=ASSIGNEE_ROLES, area__in=areas)
        | Q(pk__in=areas.exclude(leader=None).values("leader_id"))
        | Q(pk__in=Area.workers.through.objects.filter(area__in=areas).values("user_id")),
        role__in=HANDLING_ROLES, is_active=True,
    )


def assignable(user, event: Event) -> QuerySet:
    """Whom `user` may name when assigning `event` (ASSIGN): the staff of the event's handling area
    (its grid when it has no area; the whole district when it has neither: the centre's queue) and
    of the areas below it in the primary layer, within the caller's own area. An area's staff: its
    leader, its workers, and the users of an assignee role bound to it, of a role that may handle
    an event (HANDLING_ROLES: no read-only leader, no centre administrator). services.act refuses
    anyone else."""
    return _staff_of(_assignable_areas(user, event)[0])


def may_assign(user, event: Event) -> bool:
    """Whether the workflow table gives `user` a role that assigns `event` (from whichever state allows it)."""
    return bool(roles_of(user, event) & roles_for(Action.ASSIGN))


def _with_deputies(user, event: Event, qs: QuerySet, day: dt.date, limit: int | None = None) -> list:
    """`qs` (its first `limit`), leaders first by area, each with `on_leave`: whether they are on
    leave on `day`, and `deputy`: who then takes the event instead (available()'s rule, in the same
    query), only when `user` may name that person too (assignable()), else None."""
    users = get_user_model()
    role_order = Case(*(When(role=r, then=Value(i)) for i, r in enumerate(ASSIGNEE_ROLES)),
                      default=Value(len(ASSIGNEE_ROLES)), output_field=IntegerField())
    deputy_sql = DEPUTY_SQL.format(user=f'"{users._meta.db_table}"."id"', day="%s")
    ordered = (qs.select_related("area")
               .annotate(deputy_id=RawSQL(deputy_sql, [day, day]), role_order=role_order)
               .order_by("area__path", "role_order", "last_name", "first_name", "username", "pk"))
    rows = list(ordered if limit is None else ordered[:limit])
    wanted = {u.deputy_id for u in rows if u.deputy_id}
    deputies = assignable(user, event).in_bulk(wanted) if wanted else {}
    for u in rows:
        u.on_leave = u.deputy_id is not None
        u.deputy = deputies.get(u.deputy_id)
    return rows


def listed_assignees(user, event: Event, day: dt.date, query: str = "") -> tuple[list, bool]:
    """What the assign form offers, and whether assignable() holds more than that (truncated).
    Without a query: the staff of the top of the eligible areas (the handling area, or the caller's
    own area below it; the district's top areas for the centre's queue) and of the areas one level
    below it, not the whole subtree. With a query: anyone in assignable() whose name or username
    contains it (case-insensitive), at most ASSIGNEE_SEARCH_LIMIT. The assign action still takes
    anyone in assignable(), listed here or not."""
    areas, top = _assignable_areas(user, event)
    everyone = _staff_of(areas)
    query = query.strip()
    if query:
        name = Concat("last_name", "first_name", output_field=CharField())
        found = everyone.alias(gm_name=name).filter(Q(gm_name__icontains=query) | Q(username__icontains=query))
        rows = _with_deputies(user, event, found, day, limit=ASSIGNEE_SEARCH_LIMIT + 1)  # one more: is there more?
        return rows[:ASSIGNEE_SEARCH_LIMIT], len(rows) > ASSIGNEE_SEARCH_LIMIT
    near = Q(pk=top.pk) | Q(parent_id=top.pk) if top is not None else Q(parent__isnull=True) | Q(parent__parent__isnull=True)
    listed = _staff_of(areas.filter(near))
    return _with_deputies(user, event, listed, day), everyone.exclude(pk__in=listed.values("pk")).exists()


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
    # the departments as a list, not a join (which repeated rows and needed DISTINCT) nor a
    # subquery: every branch of the OR is then an indexed column, and PostgreSQL combines the
    # indexes instead of scanning every event
    departments = list(Department.objects.filter(handlers=user).values_list("pk", flat=True))
    mine = Q(assignee=user) | Q(reporter=user) | Q(department_id__in=departments)
    if user.area_id:
        ids = subtree_ids(user.area)  # a list, not joins to the areas: the event columns' indexes serve
        mine |= Q(area_id__in=ids) | Q(grid_id__in=ids)
    return qs.filter(mine)


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
    now = event.paused_at or event.closed_at or now or clock.now()
    if now > event.due_at:
        return "red"
    return "yellow" if event.warn_at and now >= event.warn_at else "green"


def with_clock(qs: QuerySet[Event], now: dt.datetime | None = None) -> QuerySet[Event]:
    """Annotate `clock` (green / yellow / red) exactly as clock_status() computes it."""
    at = Coalesce("paused_at", "closed_at", Value(now or clock.now(), output_field=DateTimeField()))
    return qs.annotate(clock=Case(
        When(due_at__isnull=True, then=Value("green")),
        When(due_at__lt=at, then=Value("red")),
        When(warn_at__isnull=False, warn_at__lte=at, then=Value("yellow")),
        default=Value("green"), output_field=CharField(),
    ))


def possible_duplicates(event: Event) -> list[int]:
    """The ids of earlier events of the same category within 50 m and 24 h, or in the same
    building, newest first."""
    metres = settings.EVENT_DUPLICATE_M
    # an index-friendly box in degrees (loose enough at any latitude China spans), then exact metres
    same = "(ST_DWithin(e.point, s.p, %s) AND ST_DistanceSphere(e.point, s.p) <= %s)"
    params = [metres / 111_320 * 1.5, metres]
    if event.building_id:
        same, params = f"({same} OR e.building_id = %s)", [*params, event.building_id]
    if event.pk is not None:
        same, params = f"{same} AND e.id <> %s", [*params, event.pk]
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT e.id FROM {Event._meta.db_table} e, (SELECT ST_GeomFromEWKB(%s) AS p) s
                WHERE e.category_id = %s AND e.reported_at >= %s AND e.reported_at <= %s AND {same}
                ORDER BY e.reported_at DESC""",
            [bytes(event.point.ewkb), event.category_id, event.reported_at - dt.timedelta(hours=24), event.reported_at, *params],
        )
        return [pk for (pk,) in cur.fetchall()]


def open311_events() -> QuerySet[Event]:
    """Events readable through Open311 (public by the spec: no key needed to read): events marked
    public in categories offered through Open311, with what a GeoReport v2 request shows joined in
    one query: the latest note written for the public (never an internal note), the last change,
    and the photos taken at report time."""
    from django.db.models import OuterRef, Prefetch, Subquery

    from .models import EventAction, EventPhoto

    steps = EventAction.objects.filter(event=OuterRef("pk")).order_by("-seq")
    return (
        Event.objects.filter(category__open311=True, public=True)
        .select_related("category", "area", "department", "building", "open311")
        .annotate(public_status_note=Subquery(steps.exclude(public_note="").values("public_note")[:1]),
                  last_change=Subquery(steps.values("at")[:1]))
        .prefetch_related(Prefetch("photos", queryset=EventPhoto.objects.filter(action__seq=1).order_by("pk"),
                                   to_attr="report_photos"))
    )


# --- what a boundary change would do to open events (grids.followers) --------------------------

REDRAW_PREVIEW_SQL = """
SELECT e.id, e.number, e.status, g.code AS from_code,
       (SELECT p.code FROM _proposed p WHERE ST_Intersects(p.boundary, e.point) ORDER BY p.code LIMIT 1) AS to_code
FROM events_event e JOIN grids_area g ON g.id = e.area_id
WHERE e.area_id = ANY(%s) AND e.level = 'grid' AND NOT e.status = ANY(%s)
"""


def redraw_preview(cur, changed_ids: list[int]) -> dict:
    """The open grid-level events handled in a changed grid whose point would fall in another
    grid: counts (from, to) and the list, each with whether the default policy moves it (not yet
    taken up by a handler) or keeps it with its handler. Reads `_proposed` (grids.selectors.impact)."""
    cur.execute(REDRAW_PREVIEW_SQL, [changed_ids, list(FINAL_STATES)])
    rows = [r for r in cur.fetchall() if r[3] != r[4]]
    counts: dict = {}
    for _id, _number, _status, from_code, to_code in rows:
        counts[(from_code, to_code)] = counts.get((from_code, to_code), 0) + 1
    listed = [{"id": pk, "label": number, "status": status, "from": f, "to": t, "moves": status in NOT_TAKEN_UP}
              for pk, number, status, f, t in sorted(rows, key=lambda r: r[1])]
    return {"events": ([(f, t, n) for (f, t), n in sorted(counts.items(), key=str)], listed)}


def recent_about(user, about: Q, limit: int) -> list[dict]:
    """The newest events linked to a person or dwelling (`about`) that `user` may see, for their
    cards (people.selectors, through EVENT_READERS)."""
    return [
        {"id": e.pk, "number": e.number, "category": e.category.name, "status": e.status,
         "status_label": e.get_status_display(), "reported_at": e.reported_at, "description": e.description[:120]}
        for e in visible_events(user).filter(about).select_related("category").order_by("-reported_at")[:limit]
    ]
