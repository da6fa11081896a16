"""A report placed just before a boundary change commits, and stored just after, is routed by the
new boundaries: the change's events follower moves only the events committed before it, so an
event stored by the old placement would stay with the old grid's leader for good (found by
tests/bench/bench_intake_faults.py: 3 to 5 events a run, reported while a change committed)."""
import shapely

from gridmap.events import selectors, services
from gridmap.events.models import Event
from gridmap.events.workflow import Action
from gridmap.grids import proposals
from gridmap.grids import services as grids

A_GROWN = shapely.box(113.90, 22.50, 113.96, 22.60)  # grid A takes the strip 113.95–113.96 from B
IN_STRIP = (113.955, 22.55)


def test_a_report_placed_before_a_change_and_stored_after_it_goes_by_the_new_boundaries(tree, staff, dispute, monkeypatch):
    real, changed = selectors.place_point, []

    def place_then_change(point, day):
        placement = real(point, day)
        if not changed:  # the centre commits between this report's placement and its transaction
            changed.append(grids.commit_redraw(proposals.reshape(tree["a"], A_GROWN), author=staff["centre"], reason="道路改线"))
        return placement

    monkeypatch.setattr(selectors, "place_point", place_then_change)
    event = services.report_event(reporter=staff["patroller"], category=dispute, lon=IN_STRIP[0], lat=IN_STRIP[1],
                                  description="楼道堆放杂物", channel="patrol").event
    event = Event.objects.get(pk=event.pk)
    assert changed and event.grid == tree["a"] and event.area == tree["a"] and event.assignee == staff["leader_a"]
    assert list(event.actions.order_by("seq").values_list("action", flat=True)) == [Action.REPORT, Action.ACCEPT, Action.ASSIGN]
    assert list(staff["leader_a"].notifications.filter(event=event).values_list("kind", flat=True)) == ["assigned"]
    assert not staff["leader_b"].notifications.filter(event=event).exists()


def test_a_report_with_no_change_in_between_is_placed_once(tree, staff, dispute, monkeypatch):
    calls = []
    real = selectors.place_point
    monkeypatch.setattr(selectors, "place_point", lambda point, day: calls.append(point) or real(point, day))
    event = services.report_event(reporter=staff["patroller"], category=dispute, lon=IN_STRIP[0], lat=IN_STRIP[1],
                                  description="楼道堆放杂物", channel="patrol").event
    assert len(calls) == 1 and event.grid == tree["b"] and event.area == tree["b"]
