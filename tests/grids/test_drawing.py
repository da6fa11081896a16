"""The editor's geometry and in-process topology checks (no database): random partitions of a
parent are accepted; a piece pushed into its neighbour, pulled back from it or moved is refused."""
import math

import pytest
import shapely
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gridmap.grids import drawing
from gridmap.grids.topology import Building, Sheet, area_m2

@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # the tests match the messages' English
        yield


# a community of about 1.1 km × 1.1 km in Shenzhen
W, S, E, N = 114.05, 22.55, 114.06, 22.56
PARENT = shapely.box(W, S, E, N)


def metres(m: float) -> float:
    return drawing.degrees(m, (S + N) / 2)


@st.composite
def partitions(draw, max_cuts=5):
    """A parent cut into pieces by random straight lines, each across the piece it cuts."""
    pieces = [drawing.exact(PARENT)]
    for _ in range(draw(st.integers(1, max_cuts))):
        i = draw(st.integers(0, len(pieces) - 1))
        piece = pieces[i]
        c = piece.representative_point()
        angle = draw(st.floats(0, math.pi))
        shift = draw(st.floats(-0.3, 0.3))
        w, s, e, n = piece.bounds
        span = 2 * max(e - w, n - s)
        dx, dy = math.cos(angle), math.sin(angle)
        ox, oy = c.x - dy * shift * (e - w), c.y + dx * shift * (n - s)
        line = shapely.LineString([(ox - dx * span, oy - dy * span), (ox + dx * span, oy + dy * span)])
        try:
            parts = drawing.split_by_line(piece, line)
        except ValidationError:
            continue
        if min(area_m2(parts)) < 500:  # a grid of under 500 m² is no grid
            continue
        pieces[i:i + 1] = parts
    return pieces


def sheet(grids=None, buildings=()):
    return Sheet("C1", PARENT, {code: (g, "C1") for code, g in (grids or {}).items()}, list(buildings))


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def perturb(piece, how: str, d: float):
    """`piece` pushed out by `d` degrees, pulled in by it, moved by it, or kept."""
    return {"grow": lambda: piece.buffer(d, join_style="mitre"), "shrink": lambda: piece.buffer(-d, join_style="mitre"),
            "move": lambda: shapely.affinity.translate(piece, d, d / 2), "keep": lambda: piece}[how]()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions())
def test_a_random_partition_of_the_parent_is_accepted(pieces):
    proposal = {f"G{i}": p for i, p in enumerate(pieces)}
    assert errors(sheet().check(proposal)) == []
    # together the pieces are the parent: what differs is rounding to the precision grid where a
    # cut ends on a neighbour's straight edge (its new vertex rounded off the edge by < 0.1 mm)
    assert area_m2([shapely.union_all(pieces).symmetric_difference(PARENT)])[0] < 0.1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions(), st.data())
def test_a_perturbed_partition_is_refused(pieces, data):
    assume(len(pieces) >= 2)
    i = data.draw(st.integers(0, len(pieces) - 1))
    how = data.draw(st.sampled_from(["grow", "shrink", "move"]))
    d = metres(data.draw(st.floats(3, 30)))
    perturbed = perturb(pieces[i], how, d)
    assume(not perturbed.is_empty)
    # the partition is in place; the user redraws one piece of it
    found = {f.kind for f in errors(sheet({f"G{j}": p for j, p in enumerate(pieces)}).check({f"G{i}": perturbed}))}
    expected = {"grow": {"overlap", "outside_parent"}, "shrink": {"gap"}, "move": {"overlap", "outside_parent", "gap"}}[how]
    assert found & expected, (how, found)
    if how == "shrink":
        assert found == {"gap"}


def test_split_merge_and_reshape_keep_the_ground_exactly():
    east, west = drawing.split_by_line(PARENT, shapely.LineString([(114.054, 22.54), (114.054, 22.57)]))
    assert east.area > west.area and east.bounds[0] == pytest.approx(114.054)
    assert drawing.merge([east, west]).equals(drawing.exact(PARENT))
    # move the shared edge 100 m west: the west grid gives up what the east one takes, nothing more
    strip = shapely.box(114.054 - metres(100), S, 114.054, N)
    new_east, changed, gap = drawing.reshape(east, east.union(strip), {"W": west})
    assert gap.is_empty and set(changed) == {"W"}
    assert changed["W"].bounds[2] == pytest.approx(114.054 - metres(100))
    assert area_m2([new_east.union(changed["W"]).symmetric_difference(PARENT)])[0] < 0.01
    assert area_m2([new_east.intersection(changed["W"])])[0] < 0.01
    # and back: the ground the east grid gives up goes to the neighbour it borders
    _back, changed_back, gap = drawing.reshape(new_east, east, {"W": changed["W"]})
    assert gap.is_empty and area_m2([changed_back["W"].symmetric_difference(west)])[0] < 0.01
    # with no neighbour to take it, given-up ground is a gap
    _alone, nothing, gap = drawing.reshape(east, east.difference(shapely.box(114.058, S, E, N)), {"W": west})
    assert nothing == {} and area_m2([gap])[0] == pytest.approx(2 * 1e-3 * 1e-2 * 111_320 ** 2 * math.cos(math.radians(22.555)), rel=0.01)


def test_a_line_that_does_not_cross_is_refused():
    with pytest.raises(ValidationError, match="edge to edge"):
        drawing.split_by_line(PARENT, shapely.LineString([(114.052, 22.552), (114.058, 22.558)]))


def test_grids_that_only_touch_at_a_corner_are_not_merged():
    with pytest.raises(ValidationError, match="share an edge"):
        drawing.merge([shapely.box(W, S, 114.055, 22.555), shapely.box(114.055, 22.555, E, N)])


def test_checks_name_households_buildings_and_the_parent():
    west, east = drawing.split_by_line(PARENT, shapely.LineString([(114.055, 22.54), (114.055, 22.57)]))
    houses = [Building(f"B{k}", shapely.Point(114.051 + k * 0.001, 22.555), None, 50) for k in range(9)]
    crossed = Building("CUT", shapely.Point(114.0555, 22.552), shapely.box(114.0548, 22.5515, 114.0552, 22.5525), 10)
    s = sheet({"G1": drawing.exact(PARENT)}, [*houses, crossed])
    found = s.check({"G1": west, "G2": east})
    assert errors(found) == []
    warnings = {(f.kind, f.grids) for f in found if f.severity == "warning"}
    assert ("households", ("G1",)) in warnings  # 4 buildings × 50 = 200 < 300
    assert ("through_building", ("G1",)) in warnings or ("through_building", ("G2",)) in warnings
    beyond = shapely.box(W, S, E + metres(50), N)
    out = [f for f in s.check({"G1": beyond}) if f.kind == "outside_parent"]
    assert out and 40 * 1100 < out[0].area_m2 < 60 * 1200


def test_a_neighbour_that_only_touches_keeps_its_shape_and_ground_given_up_goes_to_siblings():
    west, east = drawing.split_by_line(PARENT, shapely.LineString([(114.054, 22.54), (114.054, 22.57)]))[::-1]
    north_of = shapely.box(W, N, E, N + 0.01)  # shares the parent's north edge with both
    # the east grid's east edge moves 50 m in; the west grid and the grid to the north do not change
    moved = shapely.box(114.054, S, E - metres(50), N)
    _new, changed, gap = drawing.reshape(east, moved, {"W": west, "N": north_of}, siblings={"W"})
    assert changed == {} and area_m2([gap])[0] == pytest.approx(50 * 1100, rel=0.05)
    # nudging the shared edge by a rounding error changes nobody either
    _new, changed, _gap = drawing.reshape(east, shapely.affinity.translate(east, -1e-10), {"W": west, "N": north_of},
                                          siblings={"W"})
    assert changed == {}


def test_a_split_or_merge_keeps_the_grids_outer_edge_where_it_was():
    """Stored boundaries are not on the editor's precision grid. The pieces of a split and a merge
    keep the grid's own vertices, so a point just across its border, in the grid of another
    community, stays outside every piece (rounding the edge 0.04 mm west took it in)."""
    edge_x = 114.0500000004  # rounds to 114.050000000: west, into the neighbour
    grid = shapely.Polygon([(edge_x, S), (E, S), (E, N), (edge_x, N)])
    just_across = shapely.Point(edge_x - 1e-10, 22.552)  # in the neighbour, 0.01 mm from the edge
    assert not grid.intersects(just_across)
    pieces = drawing.split_by_line(grid, shapely.LineString([(W, 22.555), (E + 0.001, 22.555)]))
    assert len(pieces) == 2
    assert not any(p.intersects(just_across) for p in pieces)
    assert {tuple(xy) for xy in shapely.get_coordinates(grid)} <= {tuple(xy) for xy in shapely.get_coordinates(pieces)}
    merged = drawing.merge(pieces)
    assert not merged.intersects(just_across)
    assert shapely.symmetric_difference(merged, grid).area < 1e-15


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions(), st.data())
def test_the_commits_local_check_finds_what_overlaying_the_whole_parent_finds(pieces, data):
    """A commit checks only around the redrawn grids and on a sheet without buildings
    (errors_only); its gaps and overlaps are those of the whole parent overlaid before and after,
    computed here pair by pair and piece by piece, and the editor's full check has the same errors."""
    assume(len(pieces) >= 2)
    i = data.draw(st.integers(0, len(pieces) - 1))
    how = data.draw(st.sampled_from(["grow", "shrink", "move", "keep"]))
    d = metres(data.draw(st.floats(3, 30)))
    perturbed = perturb(pieces[i], how, d)
    assume(not perturbed.is_empty)
    grids = {f"G{j}": p for j, p in enumerate(pieces)}
    after = {**grids, f"G{i}": perturbed}
    found = sheet(grids).check({f"G{i}": perturbed}, errors_only=True)

    def gap(children):
        return PARENT.difference(shapely.union_all(list(children.values())))

    new_gaps = [p for p in shapely.get_parts(gap(after).difference(gap(grids))) if p.geom_type == "Polygon"]
    want_gap_m2 = sum(m2 for m2 in area_m2(new_gaps) if m2 > 2) if new_gaps else 0
    got_gap_m2 = sum(f.area_m2 for f in found if f.kind == "gap")
    assert got_gap_m2 == pytest.approx(want_gap_m2, rel=1e-3, abs=2)
    overlaps = {tuple(sorted((f"G{i}", code))): float(area_m2([perturbed.intersection(g)])[0])
                for code, g in grids.items() if code != f"G{i}"}
    got_pairs = {f.grids for f in found if f.kind == "overlap"}
    assert {pair for pair, m2 in overlaps.items() if m2 > 2} <= got_pairs
    assert all(overlaps[pair] > 0.5 for pair in got_pairs)
    if how == "keep":
        assert found == []
    full = errors(sheet(grids).check({f"G{i}": perturbed}))
    assert sorted((f.kind, f.grids, round(f.area_m2 or 0)) for f in full) == \
        sorted((f.kind, f.grids, round(f.area_m2 or 0)) for f in found)
