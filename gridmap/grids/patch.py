"""My patch (我的网格): the summary a user lands on. A grid leader or worker gets their grid, area
staff their area, leaders and the centre the whole district; the same counts either way, each an
aggregate query in SQL over the caller's scoped rows:

- households; people by residence type (registered / floating / overseas);
- open events (not rejected, closed or archived) by clock colour (green / yellow / red, the rule
  of events.selectors.with_clock);
- visits due: special-group members (current records) whose last visit is older than their
  record's visit_every_days, or who were never visited. Special-group records are sensitive: a
  role that may see them counts every such member of the area; any other role (a grid worker)
  only the members they are the responsible worker for, which they know already;
- unread inbox messages, and the due list: open events assigned to the caller, soonest due first.
"""
import datetime as dt

from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gridmap.core import clock
from gridmap.core.scoping import scope

from .selectors import visible_extent

DUE_LIST = 10


def patch_area(user) -> dict:
    """The area the summary is about: the user's own, or the whole district."""
    area = user.area if user.area_id and not user.sees_everything else None
    extent = visible_extent(user)
    bbox = [round(v, 7) for v in extent] if extent else None
    if area is None:
        return {"id": None, "code": None, "name": _("whole district"), "level": None, "bbox": bbox}
    return {"id": area.pk, "code": area.code, "name": area.name, "level": area.level,
            "level_label": area.get_level_display(), "bbox": bbox}


def people_counts(user) -> dict:
    from gridmap.people.models import ResidenceType
    from gridmap.people.selectors import households, persons

    counts = persons(user).aggregate(
        total=Count("id"),
        **{t: Count("id", filter=Q(residence_type=t)) for t in ResidenceType.values},
    )
    return {"households": households(user).count(), "people": counts}


def event_counts(user, now: dt.datetime) -> dict:
    from gridmap.events.selectors import visible_events, with_clock
    from gridmap.events.workflow import FINAL_STATES

    open_events = with_clock(visible_events(user).exclude(status__in=FINAL_STATES), now)
    counts = open_events.aggregate(
        open=Count("id"), **{c: Count("id", filter=Q(clock=c)) for c in ("green", "yellow", "red")})
    return counts


def special_records_to_visit(user):
    """The special-group records whose visits count for `user` (see the module's note)."""
    from gridmap.people.models import SpecialGroupRecord
    from gridmap.people.selectors import special_group_records

    if user.sees_sensitive:
        return special_group_records(user), "area"
    mine = scope(SpecialGroupRecord.objects.filter(responsible=user, sealed=False), user, grid="person__grid", location=None)
    return mine, "mine"


def visits_due(user, now: dt.datetime) -> dict:
    from gridmap.people.models import Visit

    records, basis = special_records_to_visit(user)
    today = timezone.localdate(now)
    last = Visit.objects.filter(person=OuterRef("person")).order_by("-visited_at").values("visited_at")[:1]
    cutoff = ExpressionWrapper(
        Value(now, output_field=DateTimeField()) - F("visit_every_days") * Value(dt.timedelta(days=1), output_field=DurationField()),
        output_field=DateTimeField())
    due = (
        records.filter(Q(end__isnull=True) | Q(end__gte=today), start__lte=today)
        .annotate(last_visit=Subquery(last, output_field=DateTimeField()), cutoff=cutoff)
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=F("cutoff")))
    )
    return {"visits_due": due.aggregate(n=Count("person", distinct=True))["n"], "visits_due_basis": basis}


def due_list(user, now: dt.datetime, limit: int = DUE_LIST) -> dict:
    from gridmap.events.models import Event
    from gridmap.events.selectors import with_clock
    from gridmap.events.workflow import FINAL_STATES, State

    mine = with_clock(Event.objects.filter(assignee=user).exclude(status__in=FINAL_STATES), now)
    states = dict(State.choices)
    rows = list(
        mine.order_by(F("due_at").asc(nulls_last=True), "id")
        .values("id", "number", "status", "due_at", "clock", "point", "address", "category__name")[:limit]
    )
    total = len(rows) if len(rows) < limit else mine.count()
    return {
        "due_total": total,
        "due": [
            {"id": r["id"], "number": r["number"], "category": r["category__name"], "status": r["status"],
             "status_label": str(states.get(r["status"], r["status"])), "due_at": r["due_at"], "clock": r["clock"],
             "address": r["address"], "point": [round(r["point"].x, 7), round(r["point"].y, 7)] if r["point"] else None,
             "url": f"/?event={r['id']}"}
            for r in rows
        ],
    }


def patch_summary(user, now: dt.datetime | None = None) -> dict:
    """The card's content: the area, its counts, the caller's unread count and due list."""
    from gridmap.events.selectors import unread_count

    now = now or clock.now()
    return {
        "area": patch_area(user),
        **people_counts(user),
        "events": event_counts(user, now),
        **visits_due(user, now),
        "unread": unread_count(user),
        **due_list(user, now),
        "sensitive": user.sees_sensitive,
    }


def page_text() -> dict:
    """Labels of the "my patch" card (web/static/gridmap/patch.js)."""
    return {
        "myPatch": _("My patch"), "wholeDistrict": _("whole district"), "showPatch": _("Show on map"),
        "registered": pgettext("residence", "registered"), "floating": pgettext("residence", "floating"),
        "overseas": pgettext("residence", "overseas"),
        "openEvents": _("Open events"), "clock_green": pgettext("my patch", "in time"),
        "clock_yellow": pgettext("my patch", "warning"), "clock_red": pgettext("my patch", "overdue"), "visitsDue": _("Visits due"),
        "visitsDueArea": _("Special-group members whose last visit is older than their visit interval"),
        "visitsDueMine": _("Special-group members you visit whose last visit is older than their visit interval"),
        "unread": _("Unread messages"), "openInbox": _("Inbox"), "dueList": _("My due list"),
        "dueAt": _("due"), "noDue": _("no time limit"), "nothingDue": _("Nothing assigned to you is open"),
        "patchFailed": _("Could not load your patch"),
    }
