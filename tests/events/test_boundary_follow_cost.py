"""A boundary change's events follower works set-based: each more event it moves costs one
statement (its new handler's inbox message), not a save, a log query and insert and a lookup of
who takes the grid each. It runs inside the change's transaction, while reports into the changed
grids wait: bench_intake_faults measured 6.9 s for a change moving 1,297 events, then 2.9 s."""
import shapely
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gridmap.events.models import Event
from gridmap.grids import proposals
from gridmap.grids import services as grids

B_GROWN = shapely.box(113.94, 22.50, 114.00, 22.60)  # grid B takes the strip 113.94–113.95 from grid A


def test_each_more_moved_event_costs_one_statement(tree, staff, report):
    def cost(n: int) -> int:
        """Statements of the change when it moves `n` events (then rolled back)."""
        with transaction.atomic():
            made = [report(lon=113.941 + i * 0.001, lat=22.52) for i in range(n)]  # in the strip, waiting
            with CaptureQueriesContext(connection) as queries:
                redraw = grids.commit_redraw(proposals.reshape(tree["b"], B_GROWN), author=staff["centre"], reason="x")
            assert sorted(redraw.moved["events"]["moved"]) == sorted(e.number for e in made)
            assert set(Event.objects.filter(pk__in=[e.pk for e in made]).values_list("area", "assignee")) == {
                (tree["b"].pk, staff["leader_b"].pk)}
            transaction.set_rollback(True)
        return len(queries)

    assert cost(8) - cost(2) <= 6
