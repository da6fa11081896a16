"""The boundary editor's commits on real PostGIS: split, merge, reshape (a shared edge moved in
both grids), draw and delete, each previewed and committed, with every reassignment checked
against an independent shapely computation; conflicts, rollback and history."""
import datetime as dt
import random

import pytest
import shapely
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import translation

from gridmap.core import clock
from gridmap.grids import proposals, selectors, services
from gridmap.grids.models import Area, AreaBoundary, Level, Redraw
from gridmap.people.models import Household, Person, Visit
from gridmap.places.models import Building, Dwelling, Facility

from ..conftest import rect
from ..estate import person

@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # the tests match the messages' English
        yield


# the tree fixture: community 113.90–114.00 × 22.50–22.60, grid A west of x = 113.95, grid B east
A_CODE, B_CODE, NEW_CODE = "440305005001001", "440305005001002", "440305005001003"


def shape(area) -> shapely.Geometry:
    return shapely.from_wkb(bytes(area.boundary.wkb))


@pytest.fixture
def town(tree):
    """60 buildings at random points over the community (none within 50 m of x = 113.95 or of
    the community's edge, so no building sits on a line drawn by a test), 1–3 dwellings each,
    a household in every dwelling and a resident in every third; 10 hydrants."""
    rnd = random.Random(7)
    made = []
    while len(made) < 60:
        x, y = rnd.uniform(113.9005, 113.9995), rnd.uniform(22.5005, 22.5995)
        if abs(x - 113.95) < 0.0005 or abs(x - 113.96) < 0.0005 or abs(y - 22.55) < 0.0005:
            continue
        b = Building.objects.create(code=f"T{len(made):03d}", footprint=rect(x - 5e-5, y - 5e-5, x + 5e-5, y + 5e-5))
        for k in range(rnd.randint(1, 3)):
            d = Dwelling.objects.create(building=b, unit=1, floor=1, room=f"10{k}")
            Household.objects.create(number=f"H{b.code}{k}", dwelling=d)
            if (len(made) + k) % 3 == 0:
                person(d, f"居民{b.code}{k}")
        made.append(b)
    for i in range(10):
        Facility.objects.create(code=f"F{i}", kind="hydrant",
                                geom=shapely_point(rnd.uniform(113.901, 113.999), rnd.uniform(22.501, 22.599)))
    return tree


def shapely_point(x, y):
    return Point(x, y, srid=4326)


def expected_grids(shapes: dict) -> dict:
    """Building code → grid code by the placement rule, computed with shapely alone."""
    out = {}
    for b in Building.objects.all():
        pt = shapely.Point(b.location.x, b.location.y)
        covering = sorted(c for c, s in shapes.items() if s is not None and s.covers(pt))
        out[b.code] = covering[0] if covering else None
    return out


def stored_grids() -> dict:
    return {code: grid for code, grid in Building.objects.values_list("code", "grid__code")}


def cascade_ok():
    """Dwellings, households and people sit in their building's grid."""
    assert not Dwelling.objects.exclude(grid_id=F("building__grid_id")).exists()
    assert not Household.objects.exclude(grid_id=F("dwelling__grid_id")).exists()
    assert not Person.objects.filter(dwelling__isnull=False).exclude(grid_id=F("dwelling__grid_id")).exists()


def moved_buildings(before: dict, after: dict) -> dict:
    moves = {}
    for code in before:
        if before[code] != after[code]:
            moves[(before[code], after[code])] = moves.get((before[code], after[code]), 0) + 1
    return moves


def check_preview_then_commit(proposal, author, expected_shapes, reason="test"):
    before = stored_grids()
    expected = expected_grids(expected_shapes)
    preview = selectors.impact(proposal)
    want = moved_buildings(before, expected)
    assert {(f, t): n for f, t, n in preview.moves["buildings"]} == want
    assert stored_grids() == before  # the preview wrote nothing
    redraw = services.commit_redraw(proposal, author=author, reason=reason)
    assert stored_grids() == expected
    cascade_ok()
    assert redraw.moved["buildings"] == sum(want.values())
    # the preview's totals are the grids' counts after the commit
    for code, totals in preview.totals.items():
        grid = Area.objects.get(code=code)
        assert totals["buildings"] == Building.objects.filter(grid=grid).count()
        assert totals["households"] == Household.objects.filter(grid=grid).count()
        assert totals["people"] == Person.objects.filter(grid=grid).count()
    return redraw, preview


def test_split_by_a_line_moves_exactly_what_lies_beyond_it(town, staff):
    a = town["a"]
    line = shapely.LineString([(113.89, 22.55), (113.96, 22.55)])  # across grid A, west to east
    proposal = proposals.split(a, line)
    north, south = shapely.box(113.90, 22.55, 113.95, 22.60), shapely.box(113.90, 22.50, 113.95, 22.55)
    keeps = max((north, south), key=lambda s: s.area)  # equal halves: the largest-first order decides
    kept_shape = proposal.changes[0].shape
    assert {c.code for c in proposal.changes} == {A_CODE, NEW_CODE}
    other = south if kept_shape.equals(north) else north
    redraw, preview = check_preview_then_commit(
        proposal, staff["centre"], {A_CODE: kept_shape, NEW_CODE: other, B_CODE: shape(town["b"])})
    new = Area.objects.get(code=NEW_CODE)
    assert new.parent == town["community"] and new.layer == a.layer and new.level == Level.GRID
    assert redraw.operation == "split" and redraw.author == staff["centre"]
    a.refresh_from_db()
    assert a.boundary_versions.count() == 2 and a.boundary_versions.get(valid_to__isnull=True).redraw == redraw
    assert keeps is not None


def test_merge_retires_the_other_grid_and_keeps_its_history(town, staff):
    a, b = town["a"], town["b"]
    proposal = proposals.merge([a, b])
    check_preview_then_commit(proposal, staff["centre"], {A_CODE: shapely.box(113.90, 22.50, 114.00, 22.60)})
    b.refresh_from_db()
    assert b.boundary is None and b.retired_at is not None
    assert b.boundary_versions.get().valid_to == b.retired_at  # its one version closed, not deleted
    assert not Building.objects.filter(grid=b).exists()


def test_moving_the_shared_edge_changes_both_grids(town, staff):
    a, b = town["a"], town["b"]
    proposal = proposals.reshape(a, shapely.box(113.90, 22.50, 113.96, 22.60))  # A takes 1 km of B
    assert {c.code for c in proposal.changes} == {A_CODE, B_CODE}
    east = shapely.box(113.96, 22.50, 114.00, 22.60)
    check_preview_then_commit(proposal, staff["centre"], {A_CODE: shapely.box(113.90, 22.50, 113.96, 22.60), B_CODE: east})
    b.refresh_from_db()
    assert shape(b).symmetric_difference(east).area < 1e-12


def test_delete_needs_a_target_for_what_the_grid_holds(town, staff):
    with pytest.raises(ValidationError, match="target"):
        services.commit_redraw(proposals.delete(town["b"]), author=staff["centre"], reason="test")
    assert Area.objects.get(code=B_CODE).boundary is not None  # nothing happened
    check_preview_then_commit(proposals.delete(town["b"], target=town["a"]), staff["centre"],
                              {A_CODE: shapely.box(113.90, 22.50, 114.00, 22.60)})


def test_an_empty_grid_deleted_leaves_a_gap_a_new_grid_is_drawn_in(tree, staff):
    services.commit_redraw(proposals.delete(tree["b"]), author=staff["centre"], reason="empty")
    hydrant = Facility.objects.create(code="H1", kind="hydrant", geom=shapely_point(113.97, 22.57))
    assert hydrant.grid_id is None  # in the gap: unassigned, queued
    gap = shapely.box(113.95, 22.50, 114.00, 22.60)
    findings = selectors.sheet(tree["community"], tree["a"].layer, fresh=True).check({})
    assert [f.kind for f in findings if f.severity == "info"] == ["gap"]
    proposal = proposals.draw(tree["community"], tree["a"].layer, gap)
    preview = selectors.impact(proposal)
    assert preview.moves["facilities"] == [(None, NEW_CODE, 1)]
    services.commit_redraw(proposal, author=staff["centre"], reason="new estate")
    hydrant.refresh_from_db()
    assert hydrant.grid.code == NEW_CODE


def test_a_drawing_over_a_neighbour_is_refused_with_the_overlap(tree, staff):
    proposal = proposals.draw(tree["community"], tree["a"].layer, shapely.box(113.94, 22.50, 113.96, 22.52))
    findings = selectors.sheet(tree["community"], tree["a"].layer).check(proposal.shapes)
    overlaps = [f for f in findings if f.kind == "overlap"]
    assert {f.grids for f in overlaps} == {(A_CODE, NEW_CODE), (B_CODE, NEW_CODE)}
    assert all(1_000_000 < f.area_m2 < 3_000_000 for f in overlaps)  # 1 km × 2.2 km each
    with pytest.raises(ValidationError, match="overlap"):
        services.commit_redraw(proposal, author=staff["centre"], reason="test")
    assert not Area.objects.filter(code=NEW_CODE).exists()


def test_a_commit_checks_against_the_neighbours_as_they_are_then(tree, staff):
    """Drawn into a gap while a neighbour not in the drawing grows into it and commits first: the
    drawing's versions still hold, but the commit checks the grids as they are now and refuses."""
    services.commit_redraw(proposals.delete(tree["b"]), author=staff["centre"], reason="empty")
    drawn = proposals.draw(tree["community"], tree["a"].layer, shapely.box(113.95, 22.50, 114.00, 22.60))
    assert errors(drawn.check()) == []
    services.commit_redraw(proposals.reshape(Area.objects.get(pk=tree["a"].pk), shapely.box(113.90, 22.50, 113.97, 22.60)),
                           author=staff["centre"], reason="A grows east")
    with pytest.raises(ValidationError, match="overlap"):
        services.commit_redraw(drawn, author=staff["centre"], reason="new estate")
    assert not Area.objects.filter(code=NEW_CODE).exists()


def errors(findings):
    return [f for f in findings if f.severity == "error"]


def test_the_second_editor_gets_a_conflict_naming_the_first(town, staff):
    first = proposals.reshape(town["a"], shapely.box(113.90, 22.50, 113.96, 22.60))
    second = proposals.split(town["b"], shapely.LineString([(113.94, 22.58), (114.01, 22.58)]))
    services.commit_redraw(first, author=staff["centre"], reason="first")
    before = stored_grids()
    with pytest.raises(services.BoundaryConflict) as caught:
        services.commit_redraw(second, author=staff["centre"], reason="second")
    (change,) = caught.value.changes
    assert change["code"] == B_CODE and change["base_version"] == 1 and change["version"] == 2
    assert "first" in change["what"] and staff["centre"].username in change["what"]
    assert stored_grids() == before and not Area.objects.filter(code=NEW_CODE).exists()


def test_a_failure_mid_commit_leaves_every_record_where_it_was(town, staff):
    before = (stored_grids(), list(AreaBoundary.objects.values_list("id", "valid_to")),
              list(Area.objects.values_list("id", "boundary")), Redraw.objects.count())
    with connection.cursor() as cur:  # the database refuses the re-placement half-way
        cur.execute("""CREATE FUNCTION _refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN RAISE EXCEPTION 'injected fault'; END $$;
                       CREATE TRIGGER _refuse BEFORE UPDATE OF grid_id ON places_dwelling
                       FOR EACH ROW EXECUTE FUNCTION _refuse()""")
    with pytest.raises(Exception, match="injected fault"):
        services.commit_redraw(proposals.reshape(town["a"], shapely.box(113.90, 22.50, 113.96, 22.60)),
                               author=staff["centre"], reason="test")
    after = (stored_grids(), list(AreaBoundary.objects.values_list("id", "valid_to")),
             list(Area.objects.values_list("id", "boundary")), Redraw.objects.count())
    assert after == before


def test_the_map_as_of_a_date_and_the_effective_date(tree, staff, time_machine):
    created = clock.now()
    time_machine.move_to(created + dt.timedelta(days=10), tick=False)
    merge = lambda: proposals.merge([tree["a"], tree["b"]])  # noqa: E731
    with pytest.raises(ValidationError, match="future"):
        services.commit_redraw(merge(), author=staff["centre"], reason="x", effective_from=clock.now() + dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="before"):
        services.commit_redraw(merge(), author=staff["centre"], reason="x", effective_from=created - dt.timedelta(days=1))
    effective = created + dt.timedelta(days=5)  # recorded today, in force since five days ago
    redraw = services.commit_redraw(merge(), author=staff["centre"], reason="merged", effective_from=effective)
    assert redraw.committed_at == clock.now() and redraw.effective_from == effective
    as_of = lambda when: sorted(selectors.areas_as_of(when).values_list("area__code", "version"))  # noqa: E731
    assert as_of(created - dt.timedelta(days=1)) == []
    assert as_of(created + dt.timedelta(days=1)) == [(A_CODE, 1), (B_CODE, 1)]
    assert as_of(effective) == as_of(clock.now()) == [(A_CODE, 2)]


def in_strip(x0: float, x1: float) -> list[Building]:
    return [b for b in Building.objects.order_by("code") if x0 < b.location.x < x1]


def tampered(building: Building, grid) -> None:
    """What stands on `building` set to `grid` with the triggers aside (as a bulk write might)."""
    with transaction.atomic(), services.bulk_placement():
        Dwelling.objects.filter(building=building).update(grid=grid)
        Household.objects.filter(dwelling__building=building).update(grid=grid)
        Person.objects.filter(dwelling__building=building).update(grid=grid)


def standing_on(building: Building) -> set:
    return {*Dwelling.objects.filter(building=building).values_list("grid_id", flat=True),
            *Household.objects.filter(dwelling__building=building).values_list("grid_id", flat=True),
            *Person.objects.filter(dwelling__building=building).values_list("grid_id", flat=True)}


def test_a_regrid_of_an_extent_cascades_there_only_and_from_every_building_in_it(town):
    """regrid(extent) places the rows located in the extent and makes what stands on its
    buildings agree with them (even where the building did not move: an import's upsert writes
    the building's grid itself); what lies outside is not read, not even to repair it."""
    a, b = town["a"], town["b"]
    inside, outside = in_strip(113.96, 113.97)[0], in_strip(113.90, 113.94)[0]
    assert inside.grid_id == b.pk and outside.grid_id == a.pk
    tampered(inside, a)
    tampered(outside, None)
    result = services.regrid(extent=rect(113.96, 22.50, 113.97, 22.60))
    assert standing_on(inside) == {b.pk}
    assert standing_on(outside) == {None}  # outside the extent: left alone
    assert result.changed["places_dwelling"] == Dwelling.objects.filter(building=inside).count()
    assert result.changed["people_household"] == Household.objects.filter(dwelling__building=inside).count()
    assert result.changed["places_building"] == 0  # the buildings were right


def test_a_commit_moves_visits_by_their_point_and_counts_the_rows_it_wrote(town, staff):
    a, b = town["a"], town["b"]
    moving, staying = in_strip(113.95, 113.96)[0], in_strip(113.97, 114.00)[0]
    at = clock.now()
    by_point = Visit.objects.create(worker=staff["centre"], visited_at=at, building=moving, location=moving.location)
    no_point = Visit.objects.create(worker=staff["centre"], visited_at=at, building=staying)
    by_point.refresh_from_db()
    no_point.refresh_from_db()
    assert by_point.grid_id == b.pk == no_point.grid_id
    before = stored_grids()
    redraw = services.commit_redraw(proposals.reshape(a, shapely.box(113.90, 22.50, 113.96, 22.60)),
                                    author=staff["centre"], reason="test")
    by_point.refresh_from_db()
    no_point.refresh_from_db()
    assert by_point.grid_id == a.pk and no_point.grid_id == b.pk
    moved = [code for code, grid in stored_grids().items() if grid != before[code]]
    assert redraw.moved["buildings"] == len(moved) > 0
    assert redraw.moved["dwellings"] == Dwelling.objects.filter(building__code__in=moved).count()
    assert redraw.moved["people"] == Person.objects.filter(dwelling__building__code__in=moved).count()
    cascade_ok()


def test_the_cascade_triggers_stand_aside_in_a_batch_and_work_outside_it(town):
    a, b = town["a"], town["b"]
    building = in_strip(113.90, 113.94)[0]
    with transaction.atomic(), services.bulk_placement():
        Building.objects.filter(pk=building.pk).update(grid=b)
        assert standing_on(building) == {a.pk}  # nothing cascaded inside the batch
    Building.objects.filter(pk=building.pk).update(grid=b)
    assert standing_on(building) == {a.pk}  # the same grid again: no change, no cascade
    Building.objects.filter(pk=building.pk).update(grid=a)
    assert standing_on(building) == {a.pk}
    Building.objects.filter(pk=building.pk).update(grid=b)
    assert standing_on(building) == {b.pk}  # outside a batch the row trigger cascades
