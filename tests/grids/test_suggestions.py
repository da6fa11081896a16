"""Suggestions: a grid above the household bounds gets a split into two halves of about equal
households along a line through no building; one below gets a merge with its neighbour."""
import shapely

from gridmap.grids import proposals, selectors, services
from gridmap.people.models import Household
from gridmap.places.models import Building, Dwelling

from ..conftest import rect

A_CODE, B_CODE = "440305005001001", "440305005001002"


def houses(prefix, xs, ys, households):
    """A building (about 20 m × 20 m) at every (x, y) with `households` households."""
    for i, (x, y) in enumerate((x, y) for x in xs for y in ys):
        b = Building.objects.create(code=f"{prefix}{i:03d}", footprint=rect(x, y, x + 0.0002, y + 0.0002))
        d = Dwelling.objects.create(building=b, unit=1, floor=1, room="101")
        Household.objects.bulk_create(Household(number=f"{prefix}{i:03d}-{k}", dwelling=d) for k in range(households))


def test_split_and_merge_suggestions(tree, staff):
    # grid A (113.90–113.95): 14 buildings × 50 = 700 households, in 7 columns west to east and
    # 2 rows; grid B: 2 buildings × 50 = 100 households
    houses("A", [113.905 + k * 0.006 for k in range(7)], [22.53, 22.57], 50)
    houses("B", [113.97], [22.53, 22.57], 50)
    found = {s["grid"]: s for s in proposals.suggestions(tree["community"], tree["a"].layer)}
    split, merge = found[A_CODE], found[B_CODE]
    assert split["kind"] == "split" and split["households"] == 700
    # grid A is twice as tall as wide: the cut runs east-west, between the two rows: 350 each
    assert split["households_after"] == [350, 350]
    assert abs(shapely.geometry.shape(split["operation"]["line"]).centroid.y - 22.55) < 0.021
    line = shapely.geometry.shape(split["operation"]["line"])
    sheet = selectors.sheet(tree["community"], tree["a"].layer)
    assert sheet.crossed_buildings(line) == []
    assert merge["kind"] == "merge" and merge["households"] == 100 and merge["households_after"] == [800]
    assert merge["operation"]["keep"] == tree["a"].pk  # the larger grid survives
    # the split, accepted as suggested, commits and the households follow
    proposal = proposals.split(tree["a"], line)
    services.commit_redraw(proposal, author=staff["centre"], reason="超过500户，按建议拆分")
    after = sorted(Household.objects.filter(grid__code=c.code).count() for c in proposal.changes)
    assert after == [350, 350]


def test_a_grid_within_bounds_gets_no_suggestion(tree):
    houses("A", [113.92], [22.53, 22.57], 200)  # 400 households
    houses("B", [113.97], [22.53, 22.57], 180)  # 360
    assert proposals.suggestions(tree["community"], tree["a"].layer) == []


def test_a_suggested_line_stays_near_its_grid(tree):
    houses("A", [113.905 + k * 0.006 for k in range(7)], [22.53, 22.57], 50)
    (split,) = [s for s in proposals.suggestions(tree["community"], tree["a"].layer) if s["kind"] == "split"]
    w, s, e, n = shapely.geometry.shape(split["operation"]["line"]).bounds
    # grid A is 5 km × 11 km: the line crosses it with room to spare, and stays a drawable length
    assert w <= 113.90 and e >= 113.95 and e - w < 0.3 and n - s < 0.3
