"""Open events follow a boundary change: by default the ones no handler has taken up move to the
new grid's leader, the ones being handled stay; both are logged; the report-time grid stays."""
import pytest
import shapely

from gridmap.events import services as events
from gridmap.events.models import Event
from gridmap.events.workflow import Action, State
from gridmap.grids import proposals, selectors
from gridmap.grids import services as grids

B_CODE = "440305005001002"
# grid B takes the strip 113.94–113.95 from grid A
B_GROWN = shapely.box(113.94, 22.50, 114.00, 22.60)


@pytest.fixture
def strip_events(staff, report):
    """Three disputes in the strip (grid A's until the change): one waiting to be taken up, one
    being handled, one closed; and one in A outside the strip."""
    waiting = report(lon=113.945, lat=22.52)
    handled = report(lon=113.946, lat=22.53)
    events.act(handled.pk, Action.START, staff["leader_a"])
    closed = report(lon=113.947, lat=22.54)
    for action, note in ((Action.START, ""), (Action.REPLY, "已调解"), (Action.VERIFY, "")):
        events.act(closed.pk, action, staff["leader_a"] if action != Action.VERIFY else staff["community"], note=note)
    elsewhere = report(lon=113.92, lat=22.55)
    return {"waiting": waiting, "handled": handled, "closed": closed, "elsewhere": elsewhere}


def test_default_moves_what_no_handler_took_up_and_keeps_the_rest(tree, staff, strip_events):
    assert Event.objects.get(pk=strip_events["waiting"].pk).status == State.ASSIGNED
    proposal = proposals.reshape(tree["b"], B_GROWN)
    preview = selectors.impact(proposal)
    assert preview.moves["events"] == [(tree["a"].code, B_CODE, 2)]
    assert {e["label"]: e["moves"] for e in preview.listed["events"]} == {
        strip_events["waiting"].number: True, strip_events["handled"].number: False}
    redraw = grids.commit_redraw(proposal, author=staff["centre"], reason="道路改线")
    assert redraw.moved["events"] == {"moved": [strip_events["waiting"].number], "kept": [strip_events["handled"].number]}
    waiting, handled, closed, elsewhere = (Event.objects.get(pk=e.pk) for e in strip_events.values())
    assert waiting.area == tree["b"] and waiting.assignee == staff["leader_b"]
    assert handled.area == tree["a"] and handled.assignee == staff["leader_a"]
    assert closed.area == tree["a"] and elsewhere.area == tree["a"]
    for e in (waiting, handled, closed):
        assert e.grid == tree["a"]  # reported there; that never changes
    for e, how in ((waiting, "moved"), (handled, "kept")):
        step = e.actions.get(action=Action.BOUNDARY)
        assert step.actor == staff["centre"] and how in step.note and f"#{redraw.pk}" in step.note
    assert not closed.actions.filter(action=Action.BOUNDARY).exists()
    assert staff["leader_b"].notifications.filter(event=waiting).exists()


@pytest.mark.parametrize("policy, moved", [("keep", []), ("move", ["waiting", "handled"])])
def test_the_policy_is_a_choice_at_commit(tree, staff, strip_events, policy, moved):
    redraw = grids.commit_redraw(proposals.reshape(tree["b"], B_GROWN), author=staff["centre"], reason="x", policy=policy)
    assert redraw.moved["events"]["moved"] == [strip_events[k].number for k in moved]
    for key in ("waiting", "handled"):
        area = Event.objects.get(pk=strip_events[key].pk).area
        assert area == (tree["b"] if key in moved else tree["a"])
