"""Every change to an event: reporting, workflow actions, the deadline job. One function per
use case, one transaction each; every action appends one EventAction row."""
import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery, prefetch_related_objects
from django.db.models.expressions import RawSQL

from gridmap.core import clock
from gridmap.grids.models import Area

from . import notify, selectors
from .calendar import TZ, WorkCalendar
from .models import (CalendarDay, CalendarYear, Category, Channel, Event, EventAction, EventCounter, EventPhoto,
                     HandlingLevel, Satisfaction)
from .workflow import FINAL_STATES, NOT_TAKEN_UP, Action, State, transition


class Conflict(Exception):
    """The event moved on under the caller (HTTP 409): `event` holds its current state."""

    def __init__(self, event: Event, message: str):
        super().__init__(message)
        self.event = event


# reports from the public are shown through Open311 unless said otherwise; internal ones are not
PUBLIC_CHANNELS = frozenset({Channel.HOTLINE, Channel.WEB, Channel.OPEN311})


@dataclass
class Report:
    event: Event
    created: bool  # False: a resend of a report already stored (same client id)


def check_point(lon: float, lat: float) -> Point:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError({"point": f"coordinates out of range: lon {lon}, lat {lat} (lon ±180, lat ±90)"})
    return Point(lon, lat, srid=4326)


def _draw_number(prefix: str, day: dt.date) -> str:
    """The next readable number of the day (prefix, date, the day's count). Called outside the
    report's transaction, so the day's counter row is locked only for this one statement (a report
    that then fails leaves a gap; numbers stay unique)."""
    counter = EventCounter._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {counter} (prefix, day, last) VALUES (%s, %s, 1)
                ON CONFLICT (prefix, day) DO UPDATE SET last = {counter}.last + 1 RETURNING last""",
            [prefix, day],
        )
        (n,) = cur.fetchone()
    return f"{prefix}{day:%Y%m%d}{n:04d}"


def _set_clock(event: Event, start: dt.datetime, rules: selectors.Rules | None = None) -> None:
    """Due and warning times from the category's limit (with `rules`: the cached configuration)."""
    category = rules.category(event.category) if rules else event.category
    limit = selectors.time_limit(category, event.urgency)
    if limit is None:
        event.due_at = event.warn_at = None
        event.due_provisional = False
        return
    due = (rules.calendar if rules else WorkCalendar()).due(start, limit.amount, limit.unit)
    event.due_at, event.due_provisional = due.at, due.provisional  # provisional: over a year with no arrangement
    event.warn_at = start + (event.due_at - start) * limit.warn_at
    event.warned = False


def _step(event: Event, action: str, actor, from_status: str, *, note="", public_note="", point=None, assignee=None,
          at=None, seq: int | None = None) -> EventAction:
    """One step of the log, not yet saved; `seq` only where the caller knows it (a report's first steps)."""
    if seq is None:
        seq = (event.actions.order_by("-seq").values_list("seq", flat=True).first() or 0) + 1
    return EventAction(
        event=event, seq=seq, action=action, from_status=from_status, to_status=event.status,
        actor=actor, at=at or clock.now(), note=note, public_note=public_note, point=point, assignee=assignee,
    )


def _log(event: Event, action: str, actor, from_status: str, **kw) -> EventAction:
    """Append one step."""
    step = _step(event, action, actor, from_status, **kw)
    step.save(force_insert=True)
    return step


def _route(event: Event, day: dt.date, level: str | None = None) -> None:
    """Point the event at who handles it: the category's level (or `level`), its area there,
    and that area's responsible person (or the category's department)."""
    level = level or event.category.effective_level()
    event.level = level
    if level == HandlingLevel.DEPARTMENT:
        event.department = event.category.effective_department()
        event.area = None
        event.assignee = selectors.department_handler(event.department, day)
        return
    event.department = None
    base = event.area if event.area_id and not event.grid_id else event.grid
    event.area = selectors.ancestor_at(base, level) if base else None
    event.assignee = selectors.responsible_for(event.area, day)


def report_event(*, reporter, category: Category, lon: float, lat: float, description: str,
                 channel: str, urgency: str = "normal", client_id: uuid.UUID | None = None,
                 accuracy_m: float | None = None, address: str = "", reporter_name: str = "",
                 reporter_phone: str = "", photos=(), public: bool | None = None,
                 now: dt.datetime | None = None) -> Report:
    """上报: store the report, place it (grid → handling area → person), start its clock and put
    it in the assignee's inbox, all at once. A resend with the same client id returns the first.
    `public` (shown through Open311) defaults by channel: reports from the public are, internal ones not.
    Everything is worked out first, the readable number drawn on its own, then the event, its log,
    duplicate links, photos and inbox message are written in one transaction — after checking that
    no boundary change moved the point since it was placed (else it is placed again)."""
    if client_id is not None:
        existing = selectors.reported_before(client_id)
        if existing:
            return Report(existing, False)
    if not description or not description.strip():
        raise ValidationError({"description": "a description is required"})
    if not category.active:
        raise ValidationError({"category": f"category {category.code} is not in use"})
    point = check_point(lon, lat)
    now = now or clock.now()
    day = now.astimezone(TZ).date()
    while True:  # a second round only when a boundary change moved the point meanwhile
        placement = selectors.place_point(point, day)
        county = (placement.grid.code[:6] if placement.grid else settings.GRIDMAP_COUNTY_CODE)
        event = Event(
            client_id=client_id or uuid.uuid4(),
            category=category, urgency=urgency, point=point, accuracy_m=accuracy_m, address=address,
            description=description.strip(), channel=channel, reporter=reporter,
            reporter_name=reporter_name, reporter_phone=reporter_phone, reported_at=now,
            public=channel in PUBLIC_CHANNELS if public is None else public,
            grid=placement.grid, outside_grid=placement.outside, status=State.REPORTED,
            building_id=placement.building_id,
        )
        if placement.grid is None:
            event.area = selectors.triage_area(point)
            event.level = HandlingLevel.COMMUNITY if event.area else HandlingLevel.DISTRICT
        _set_clock(event, now, placement.rules)
        steps = [_step(event, Action.REPORT, reporter, "", point=point, at=now, seq=1)]
        if placement.grid is not None:
            event.status, event.decided_at = State.ACCEPTED, now
            steps.append(_step(event, Action.ACCEPT, None, State.REPORTED, note="自动受理 auto-accepted: inside a grid", at=now, seq=2))
            _route(event, day, placement.rules.category(category).effective_level())
            if event.assignee_id:
                event.status = State.ASSIGNED
                steps.append(_step(event, Action.ASSIGN, None, State.ACCEPTED, assignee=event.assignee, at=now, seq=3,
                                   note="自动分派 routed by location" + (" (nearest grid)" if placement.outside else "")))
        duplicates = selectors.possible_duplicates(event)
        event.number = _draw_number(county, day)
        with transaction.atomic():
            if not _still_placed(point, placement):
                continue  # a boundary change committed since the placement: place it again
            try:
                with transaction.atomic(savepoint=client_id is not None):  # a fresh uuid cannot collide
                    event.save(force_insert=True)
            except IntegrityError:
                # the same client id raced in from a second connection: that one is the report
                if client_id is not None and Event.objects.filter(client_id=client_id).exists():
                    return Report(Event.objects.get(client_id=client_id), False)
                raise
            first = EventAction.objects.bulk_create(steps)[0]
            if duplicates:
                links = Event.possible_duplicates.through
                links.objects.bulk_create([links(from_event_id=event.pk, to_event_id=pk) for pk in duplicates])
            for photo in photos:
                EventPhoto.objects.create(event=event, action=first, **photo)
            message = _assignment_message(event)
            if message:
                notify.send(*message)
        return Report(event, True)


def _still_placed(point: Point, placement: selectors.Placement) -> bool:
    """Inside the report's transaction: hold the placed grid's row and check that it still covers
    the point (or, for a point outside every grid, still does not). A boundary change holds its
    grids' rows until it commits and moves only the events committed before it (follow_redraw):
    one in progress is waited for here, and the row read is then its new version; a later one
    waits for this report and moves it."""
    if placement.grid is None:
        return True
    with connection.cursor() as cur:
        cur.execute(f"SELECT coalesce(ST_Intersects(boundary, ST_GeomFromEWKB(%s)), false) "  # retired: no boundary
                    f"FROM {placement.grid._meta.db_table} WHERE id = %s FOR KEY SHARE", [bytes(point.ewkb), placement.grid.pk])
        (covers,) = cur.fetchone()
    return covers != placement.outside


def _assignment_message(event: Event) -> tuple | None:
    """(user, event, kind, text) telling whoever has the event now, or None when nobody is named."""
    if event.assignee_id:
        due = f"，期限 {event.due_at.astimezone(TZ):%Y-%m-%d %H:%M}{'（暂定）' if event.due_provisional else ''}" if event.due_at else ""
        return event.assignee, event, "assigned", f"新事件 {event.number} {event.category.name}{due}"
    if event.area and event.area.leader_id:
        return event.area.leader, event, "triage", f"待分派事件 {event.number} {event.category.name}"
    return None


def _notify_assignment(event: Event) -> None:
    message = _assignment_message(event)
    if message:
        notify.send(*message)


@transaction.atomic
def act(event_id: int, action: str, actor, *, note: str = "", public_note: str = "", point: Point | None = None,
        assignee=None, department=None, satisfaction: str = "", photos=(),
        expected_version: int | None = None, now: dt.datetime | None = None, overdue: bool = False) -> Event:
    """Take one workflow action. The row is locked, so of two concurrent actions one wins and
    the other finds the event moved on: Conflict (409) with the current state. `note` is internal;
    `public_note` is written for the public (Open311's status_notes shows the latest). `overdue`:
    the deadline job's escalation (the event is marked as having been overdue).
    The event's row is written once: a second write in the transaction would make PostgreSQL check
    all its foreign keys at commit, its grid's row included, and wait for a boundary change holding
    that row, whose events follower waits for this event: a deadlock."""
    now = now or clock.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("category", "area", "grid").get(pk=event_id)
    if actor is not None and not selectors.can_see(actor, event):
        raise Event.DoesNotExist  # another area's event does not exist for this user
    if expected_version is not None and expected_version != event.version:
        raise Conflict(event, f"event {event.number} changed (version {event.version}, you had {expected_version})")
    step = transition(event.status, action)
    roles = selectors.roles_of(actor, event)
    if step is None:
        raise Conflict(event, f"{action} is not possible while the event is {event.status}")
    if not step.roles & roles:
        raise PermissionDenied(f"{action} on a {event.status} event is not open to {', '.join(sorted(roles))}")
    if step.needs_note and not note.strip():
        raise ValidationError({"note": f"{action} needs a reason or result in the note"})
    before = event.status
    if step.to is not None:
        event.status = step.to
    _apply(event, action, actor, now, assignee=assignee, department=department, satisfaction=satisfaction)
    event.version += 1
    event.ever_overdue = event.ever_overdue or overdue
    logged = _log(event, action, actor, before, note=note, public_note=public_note.strip(), point=point, at=now,
                  assignee=event.assignee if action in (Action.ASSIGN, Action.HAND_TO_DEPARTMENT, Action.ESCALATE) else None)
    for photo in photos:
        EventPhoto.objects.create(event=event, action=logged, **photo)
    if action == Action.ESCALATE and event.assignee_id:
        before, event.status = event.status, State.ASSIGNED  # the upper level's person takes it at once
        _log(event, Action.ASSIGN, None, before, assignee=event.assignee, at=now, note="自动分派 routed to the next level")
    event.save()
    _after(event, action, actor)
    return event


def _apply(event: Event, action: str, actor, now, *, assignee, department, satisfaction) -> None:
    day = now.astimezone(TZ).date()
    if action == Action.ASSIGN:
        if assignee is not None and not selectors.assignable(actor, event).filter(pk=assignee.pk).exists():
            raise ValidationError({"assignee": f"{assignee.username} is not among the staff you may assign this event to"})
        # a named assignee, or the area's responsible person (whose deputy rule is already applied)
        target = selectors.available(assignee, day) if assignee else selectors.responsible_for(event.area, day)
        if target is None:
            raise ValidationError({"assignee": "name who takes the event: this area has no leader or duty roster"})
        event.assignee = target
    elif action == Action.START and event.assignee_id is None:
        event.assignee = actor
    elif action == Action.NOT_OURS:
        _move_up(event)  # back to the triage queue one level up, recorded; never dropped
        event.assignee = None
    elif action == Action.PAUSE:
        event.paused_at = now
    elif action == Action.RESUME:
        if event.paused_at and event.due_at:
            held = now - event.paused_at
            event.due_at += held
            event.warn_at = event.warn_at + held if event.warn_at else None
        event.paused_at = None
    elif action == Action.ESCALATE:
        _move_up(event)
        event.assignee = selectors.responsible_for(event.area, day)
        event.escalations += 1
        event.paused_at = None  # escalated out of waiting: the upper level's clock runs
        _set_clock(event, now)  # the upper level gets its own time limit
    elif action == Action.HAND_TO_DEPARTMENT:
        if department is None:
            raise ValidationError({"department": "name the department"})
        event.level, event.department, event.area = HandlingLevel.DEPARTMENT, department, None
        event.assignee = selectors.department_handler(department, day)
        if event.assignee is None:
            raise ValidationError({"department": f"{department} has no handler"})
    elif action in (Action.VERIFY, Action.REJECT):
        event.closed_at = now  # a final answer stops the clock
        if action == Action.REJECT:
            event.decided_at = event.decided_at or now
    elif action == Action.ACCEPT:
        event.decided_at = event.decided_at or now  # the first decision: what acceptance is timed by
    elif action == Action.RETURN:
        event.returns += 1
    elif action == Action.REOPEN:
        event.reopenings += 1
        window = dt.timedelta(days=settings.EVENT_REOPEN_DAYS)
        if event.closed_at and now - event.closed_at > window:
            raise ValidationError({"action": f"reopening is possible within {settings.EVENT_REOPEN_DAYS} days of closing"})
        event.closed_at = None
        _set_clock(event, now)
    elif action == Action.RATE:
        if satisfaction not in Satisfaction.values:
            raise ValidationError({"satisfaction": f"one of {', '.join(Satisfaction.values)}"})
        event.satisfaction = satisfaction


def _move_up(event: Event) -> None:
    """One level up the hierarchy: grid → community → street → district centre."""
    up = selectors.NEXT_LEVEL[event.level]
    base = event.area or event.grid
    event.area = selectors.ancestor_at(base, up) if base else None
    event.level, event.department = up, None


def _after(event: Event, action: str, actor) -> None:
    """Tell the people the action concerns."""
    text = f"{event.number} {event.category.name}"
    if action in (Action.ASSIGN, Action.ESCALATE, Action.HAND_TO_DEPARTMENT, Action.RETURN, Action.REOPEN, Action.NOT_OURS):
        _notify_assignment(event)
    elif action in (Action.REMIND, Action.SUPERVISE) and event.assignee_id:
        notify.send(event.assignee, event, action, f"{'催办' if action == Action.REMIND else '督办'} {text}")
    elif action == Action.REPLY and event.area and event.area.leader_id and event.area.leader_id != getattr(actor, "pk", None):
        notify.send(event.area.leader, event, "to_verify", f"待核查 {text}")
    if event.status in FINAL_STATES and event.reporter_id and action != Action.RATE:
        notify.send(event.reporter, event, event.status, f"您上报的事件 {text} 已{event.get_status_display()}")


def check_deadlines(now: dt.datetime | None = None, progress=None) -> dict[str, int]:
    """The scheduled job: raise warnings (yellow) and escalate overdue (red) events one level.
    Safe to run twice (an escalated event gets the upper level's new deadline, so it is not red
    again) and concurrently (rows are claimed with SKIP LOCKED, and re-checked after the lock). `progress`, if
    given, wraps each list of candidates (e.g. tqdm): progress(items, desc) -> iterable."""
    now = now or clock.now()
    progress = progress or (lambda items, desc: items)
    done = {"warned": 0, "escalated": 0}
    active = [State.ACCEPTED, State.ASSIGNED, State.HANDLING, State.REPLIED]
    warn = list(Event.objects.filter(status__in=active, warned=False, warn_at__lte=now, due_at__gt=now).values_list("pk", flat=True))
    for pk in progress(warn, "warnings"):
        with transaction.atomic():
            event = Event.objects.select_for_update(skip_locked=True).filter(
                pk=pk, status__in=active, warned=False, warn_at__lte=now, due_at__gt=now).first()
            if event is None:
                continue
            event.warned = True
            event.save(update_fields=["warned"])
            if event.assignee_id:
                notify.send(event.assignee, event, "warning", f"即将超时 {event.number}，期限 {event.due_at.astimezone(TZ):%m-%d %H:%M}")
            done["warned"] += 1
    overdue = list(Event.objects.filter(status__in=active, due_at__lte=now).values_list("pk", flat=True))
    for pk in progress(overdue, "escalations"):
        with transaction.atomic():
            event = Event.objects.select_for_update(skip_locked=True).filter(pk=pk, status__in=active, due_at__lte=now).first()
            if event is None:
                continue
            act(pk, Action.ESCALATE, None, note="超时自动上报上级 overdue: escalated by the deadline job", now=now, overdue=True)
            done["escalated"] += 1
    return done


@transaction.atomic
def report_open311(*, api_key, category: Category, lon: float, lat: float, description: str,
                   address: str = "", reporter_name: str = "", reporter_phone: str = "", email: str = "",
                   device_id: str = "", account_id: str = "", media_url: str = "",
                   client_id: uuid.UUID | None = None, photos=(), now: dt.datetime | None = None) -> Report:
    """A report from an Open311 client (GeoReport v2 POST requests): an ordinary report on the
    open311 channel with no user behind it, plus what the client sent about the submitter."""
    from .models import Channel, Open311Request

    result = report_event(
        reporter=None, category=category, lon=lon, lat=lat, description=description,
        channel=Channel.OPEN311, client_id=client_id, address=address, reporter_name=reporter_name,
        reporter_phone=reporter_phone, photos=photos, now=now,
    )
    if result.created:
        Open311Request.objects.create(event=result.event, api_key=api_key, account_id=account_id,
                                      device_id=device_id, email=email, media_url=media_url)
    return result


@transaction.atomic
def enter_calendar_year(year: int, days, *, source: str = "", user=None, now: dt.datetime | None = None) -> dict[str, int]:
    """Enter one year's holiday arrangement (节假日安排): `days` are (date, is_workday, name), every
    date in `year`. All or nothing: the year's CalendarDay rows are replaced by these, and the
    year is recorded as entered (CalendarYear: source, who, when), so its deadlines are no longer
    provisional. Returns how many rows were written and how many earlier ones replaced."""
    days = list(days)
    wrong = [d for d, _, _ in days if d.year != year]
    if wrong:
        raise ValidationError({"date": f"{wrong[0]} is not in {year}"})
    replaced, _ = CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create([CalendarDay(date=d, is_workday=w, name=name) for d, w, name in days])
    CalendarYear.objects.update_or_create(year=year, defaults={
        "source": source[:200], "entered_by": user, "entered_at": now or clock.now()})
    return {"days": len(days), "replaced": replaced}


# The open grid-level events handled in the changed grids whose point now lies in another grid,
# placed by the rule of gridmap_grid_at (the lowest code among the grids covering the point; none
# when no grid does, and then the event stays) in one join: the grids around the events are the
# outer side, each prepared once for all the points (a look-up per event reads ~10× longer; only
# the few that move are looked up again, for their new grid).
MOVING_EVENTS_SQL = """
WITH open AS MATERIALIZED (
    SELECT e.id, e.area_id, e.point FROM events_event e
    WHERE e.area_id = ANY(%s) AND e.level = 'grid' AND NOT e.status = ANY(%s)),
placed AS (
    SELECT DISTINCT ON (o.id) o.id, o.area_id, a.id AS now_in
    FROM grids_area a JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
    CROSS JOIN LATERAL (SELECT * FROM open o WHERE ST_Intersects(a.boundary, o.point) OFFSET 0) o
    WHERE a.level = 'grid' AND a.boundary && (SELECT ST_SetSRID(ST_Extent(point)::geometry, 4326) FROM open)
    ORDER BY o.id, a.code)
SELECT id FROM placed WHERE now_in <> area_id
"""


def follow_redraw(redraw, changed_ids: list[int], policy: str) -> dict:
    """After a boundary change (inside its transaction, boundaries written and records re-placed):
    each open grid-level event handled in a changed grid whose point now lies in another grid is
    moved to that grid and its responsible person, or kept with its handler, by `policy`
    (grids.followers.POLICIES; default: move those no handler has taken up yet). Both are logged
    on the event (action "boundary"); the grid it was reported in never changes. Returns
    {"moved": [numbers], "kept": [numbers]}."""
    done = {"moved": [], "kept": []}
    # set-based: the boundary change holds its grids (and reports into them wait) until this is done;
    # usually none moves and this is the one statement
    events = list(Event.objects.select_for_update(of=("self",)).select_related("category", "area").defer("area__boundary")
                  .filter(pk__in=RawSQL(MOVING_EVENTS_SQL, [list(changed_ids), list(FINAL_STATES)]),
                          area_id__in=changed_ids, level=HandlingLevel.GRID)
                  .exclude(status__in=FINAL_STATES).order_by("number")
                  .annotate(now_in=RawSQL("gridmap_grid_at(events_event.point)", []),
                            last_seq=Subquery(EventAction.objects.filter(event=OuterRef("pk")).order_by("-seq").values("seq")[:1])))
    if not events:
        return done
    now = clock.now()
    day = now.astimezone(TZ).date()
    # the new grids with who takes their events today, so responsible_for needs no query for it
    grids = {a.pk: a for a in Area.objects.raw(
        f"""SELECT a.id, {selectors.AREA_COLUMNS}, people.*, q.day AS people_day
            FROM grids_area a CROSS JOIN (SELECT %s::date AS day) q CROSS JOIN LATERAL ({selectors.PEOPLE_SQL}) people
            WHERE a.id = ANY(%s)""", [day, sorted({e.now_in for e in events})])}
    prefetch_related_objects(list(grids.values()), "leader")  # the usual one who takes them, in one query
    takes = {pk: selectors.responsible_for(grid, day) for pk, grid in grids.items()}
    moved, steps = [], []
    for event in events:
        new = grids[event.now_in]
        moves = policy == "move" or (policy == "default" and event.status in NOT_TAKEN_UP)
        why = f"边界调整 boundary change #{redraw.pk}: {event.area.code} → {new.code}"
        if moves:
            event.area, event.assignee = new, takes[new.pk]
            event.version += 1
            moved.append(event)
        steps.append(_step(event, Action.BOUNDARY, redraw.author, event.status, at=now, seq=event.last_seq + 1,
                           note=why + ("（已转新网格 moved）" if moves else "（留原处理人 kept）"),
                           assignee=event.assignee if moves else None))
        done["moved" if moves else "kept"].append(event.number)
    if moved:  # one write per event, one statement for them all
        with connection.cursor() as cur:
            cur.execute("""UPDATE events_event e SET area_id = m.area_id, assignee_id = m.assignee_id, version = e.version + 1
                           FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS m(id, area_id, assignee_id)
                           WHERE e.id = m.id""",
                        [[e.pk for e in moved], [e.area_id for e in moved], [e.assignee_id for e in moved]])
    EventAction.objects.bulk_create(steps, batch_size=1000)
    notify.send_many([m for m in map(_assignment_message, moved) if m])
    return done
