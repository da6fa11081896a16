"""The event workflow as one table: (state, action) → (roles allowed, next state).

This table drives the service layer (services.act), the API's list of allowed actions, the
buttons in the UI and the tests. Nothing else decides whether an action is allowed.
"""
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridmap.core.models import Role


class State(models.TextChoices):
    REPORTED = "reported", _("reported (上报)")
    ACCEPTED = "accepted", _("accepted, awaiting assignment (已受理)")
    REJECTED = "rejected", _("rejected (不予受理)")
    ASSIGNED = "assigned", _("assigned (已分派)")
    HANDLING = "handling", _("handling (处置中)")
    WAITING = "waiting", _("waiting on reporter or third party (挂起)")
    REPLIED = "replied", _("replied, awaiting verification (办结反馈)")
    CLOSED = "closed", _("closed (结案)")
    ARCHIVED = "archived", _("archived (归档)")


class Action(models.TextChoices):
    REPORT = "report", _("report (上报)")
    ACCEPT = "accept", _("accept (受理)")
    REJECT = "reject", _("reject (不予受理)")
    ASSIGN = "assign", _("assign (分派)")
    START = "start", _("start handling (签收处置)")
    NOT_OURS = "not_ours", _("not ours, back to triage (非本单位事项)")
    PAUSE = "pause", _("pause: waiting on others (挂起)")
    RESUME = "resume", _("resume (恢复)")
    REPLY = "reply", _("reply with result (办结反馈)")
    RETURN = "return", _("return to handler (退回)")
    VERIFY = "verify", _("verify and close (核查结案)")
    ARCHIVE = "archive", _("archive (归档)")
    ESCALATE = "escalate", _("escalate one level (上报上级)")
    HAND_TO_DEPARTMENT = "to_department", _("hand to a department (转职能部门)")
    REMIND = "remind", _("remind (催办)")
    SUPERVISE = "supervise", _("supervise (督办)")
    REOPEN = "reopen", _("reopen (重新办理)")
    RATE = "rate", _("rate the result (评价)")
    # logged by a boundary change for each open event of a changed grid, kept with its handler
    # or moved to the new grid's; in no transition: nobody takes it by hand
    BOUNDARY = "boundary", _("boundary change (边界调整)")


# Who acts at which step. "Handler" roles work the event; "supervisor" roles sit above it.
CENTRE = {Role.CENTRE_ADMIN}
TRIAGE = {Role.CENTRE_ADMIN, Role.AREA_STAFF, Role.GRID_LEADER}
HANDLERS = {Role.GRID_LEADER, Role.GRID_WORKER, Role.AREA_STAFF, Role.DEPARTMENT}
SUPERVISORS = {Role.CENTRE_ADMIN, Role.AREA_STAFF, Role.LEADER}
ANYONE = set(Role.values)
SYSTEM = "system"  # the scheduled job


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    roles: frozenset
    to: str | None  # None: the state stays (a reminder, a rating)
    needs_note: bool = False  # a reason is required (reject, return, not ours, ...)


def _t(states, action, roles, to, needs_note=False):
    return [Transition(s, action, frozenset(roles), to, needs_note) for s in states]


OPEN = [State.ASSIGNED, State.HANDLING, State.WAITING, State.REPLIED]

TRANSITIONS: list[Transition] = [
    *_t([State.REPORTED], Action.ACCEPT, TRIAGE, State.ACCEPTED),
    *_t([State.REPORTED], Action.REJECT, TRIAGE, State.REJECTED, needs_note=True),
    *_t([State.ACCEPTED], Action.ASSIGN, TRIAGE | {SYSTEM}, State.ASSIGNED),
    *_t([State.ASSIGNED], Action.START, HANDLERS, State.HANDLING),
    *_t([State.ASSIGNED, State.HANDLING], Action.NOT_OURS, HANDLERS, State.ACCEPTED, needs_note=True),
    *_t([State.HANDLING], Action.PAUSE, HANDLERS, State.WAITING, needs_note=True),
    *_t([State.WAITING], Action.RESUME, HANDLERS, State.HANDLING),
    *_t([State.HANDLING], Action.REPLY, HANDLERS, State.REPLIED, needs_note=True),
    *_t([State.REPLIED], Action.RETURN, TRIAGE, State.HANDLING, needs_note=True),
    *_t([State.REPLIED], Action.VERIFY, TRIAGE, State.CLOSED),
    *_t([State.CLOSED, State.REJECTED], Action.ARCHIVE, CENTRE | {SYSTEM}, State.ARCHIVED),
    *_t([State.ACCEPTED, *OPEN], Action.ESCALATE, HANDLERS | SUPERVISORS | {SYSTEM}, State.ACCEPTED, needs_note=True),
    *_t([State.ACCEPTED, State.ASSIGNED, State.HANDLING], Action.HAND_TO_DEPARTMENT, TRIAGE, State.ASSIGNED, needs_note=True),
    *_t([State.ACCEPTED, *OPEN], Action.REMIND, SUPERVISORS | {Role.GRID_LEADER}, None),
    *_t([State.ACCEPTED, *OPEN], Action.SUPERVISE, SUPERVISORS, None, needs_note=True),
    *_t([State.CLOSED], Action.REOPEN, TRIAGE | {"reporter"}, State.HANDLING, needs_note=True),
    *_t([State.CLOSED, State.ARCHIVED], Action.RATE, TRIAGE | HANDLERS | {"reporter"}, None),
]

_BY_KEY = {(t.state, t.action): t for t in TRANSITIONS}


def transition(state: str, action: str) -> Transition | None:
    return _BY_KEY.get((state, action))


def roles_for(action: str) -> frozenset:
    """Every role that may take `action` from some state."""
    return frozenset().union(*(t.roles for t in TRANSITIONS if t.action == action))


def allowed_actions(state: str, roles: set[str]) -> list[str]:
    """The actions someone holding `roles` may take from `state` (the UI's buttons)."""
    return [t.action for t in TRANSITIONS if t.state == state and t.roles & roles]


# a boundary change moves these to the new grid's people by default: no handler has taken them up
NOT_TAKEN_UP = {State.REPORTED, State.ACCEPTED, State.ASSIGNED}
ACTIVE_STATES = {State.ACCEPTED, *OPEN}  # the clock runs (except WAITING) and escalation applies
FINAL_STATES = {State.REJECTED, State.CLOSED, State.ARCHIVED}
