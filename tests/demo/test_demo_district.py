"""The seeded demo district: deterministic, well-formed, an exact area coverage, and placed by
the same rule as everything else."""
import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.contrib.auth.models import Group
from django.contrib.gis.geos import MultiPolygon
from django.core.management import call_command
from django.db import connection
from django.test import Client

from gridmap.core import clock
from gridmap.core.models import Role, User
from gridmap.core.validators import parse_citizen_id, validate_credit_code
from gridmap.demo import selectors, services
from gridmap.demo.plan import make_plan, size_for
from gridmap.grids.models import AreaBoundary
from gridmap.grids.models import Area, GridLayer, Level
from gridmap.grids.selectors import areas_as_of
from gridmap.people import selectors as people
from gridmap.people.models import Household, HouseholdMember, Person, Visit
from gridmap.places.models import Building, Facility

TODAY = dt.date(2025, 6, 1)
SMALL = 0.05  # one street, 2 communities × 2 grids, about 400 households


def _fingerprint(plan):
    g = plan.gather()
    return ([(a.code, a.name, a.geom.wkt) for a in plan.root.walk()], [p.id_number + p.name for p in g.residents.persons],
            [(b.code, b.footprint.wkt) for b in g.buildings], [f.geom.wkt for f in g.facilities],
            [(v.visited_at, v.location and v.location.wkt) for v in g.visits])


def test_same_seed_same_district_other_seed_other_district():
    assert _fingerprint(make_plan(7, SMALL, TODAY)) == _fingerprint(make_plan(7, SMALL, TODAY))
    assert _fingerprint(make_plan(7, SMALL, TODAY)) != _fingerprint(make_plan(8, SMALL, TODAY))


def test_scale_multiplies_streets():
    assert size_for(1).streets == 1 and size_for(10).streets == 10 and size_for(100).streets == 100
    assert (size_for(SMALL).streets, size_for(SMALL).grids) == (1, (2, 2))
    plan = make_plan(1, 2, TODAY, areas_only=True)
    grids = [a for a in plan.root.walk() if a.level == Level.GRID]
    assert len(plan.root.children) == 2 and all(len(s.children) == 6 for s in plan.root.children)
    assert len(grids) == 40 and all(g.staff for g in grids)
    assert list(plan.streets) == []
    with pytest.raises(ValueError):
        size_for(0)


def test_identifiers_follow_the_standards():
    g = make_plan(3, SMALL, TODAY).gather()
    persons = g.residents.persons
    assert len({p.id_number for p in persons}) == len(persons)
    for p in persons:
        cid = parse_citizen_id(p.id_number, today=TODAY)
        assert (cid.birth_date, cid.sex) == (p.birth_date, p.sex)
    codes = [o.credit_code for o in g.organisations if o.credit_code]
    assert codes and len(set(codes)) == len(codes)
    for code in codes:
        validate_credit_code(code)


def test_codes_follow_cjt213():
    plan = make_plan(5, 1, TODAY, areas_only=True)
    widths = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}
    for area in plan.root.walk():
        assert len(area.code) == widths[area.level] and area.code.isdigit()
        numbers = [c.code[len(area.code):] for c in area.children]
        assert all(c.code.startswith(area.code) for c in area.children)
        assert numbers == [f"{i:03d}" for i in range(1, len(area.children) + 1)]
    community = plan.root.children[0].children[0]
    first, *rest = [g.geom.centroid for g in community.children]
    # grid 001 lies in the northern band and nothing in its band lies west of it
    assert all(first.y > c.y or first.x < c.x for c in rest)


@pytest.fixture
def demo(db):
    return services.load_demo_district(seed=11, scale=SMALL, today=TODAY)


def _scalar(sql, params=()):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def test_areas_are_an_exact_coverage(demo):
    assert Area.objects.filter(level=Level.GRID, layer__is_primary=True).count() == 4
    assert _scalar("SELECT count(*) FROM grids_area WHERE NOT ST_IsValid(boundary) OR ST_NumGeometries(boundary) <> 1") == 0
    # no two areas of one level (and grid layer) share interior
    assert _scalar("""SELECT count(*) FROM grids_area a JOIN grids_area b
                      ON a.id < b.id AND a.level = b.level AND a.layer_id IS NOT DISTINCT FROM b.layer_id
                      AND ST_Relate(a.boundary, b.boundary, '2********')""") == 0
    # every parent is exactly the union of its children (in the primary layer): no gap
    assert _scalar("""SELECT max(ST_Area(ST_SymDifference(p.boundary, u.geom)::geography)) FROM grids_area p
                      JOIN (SELECT parent_id, ST_Union(boundary) geom FROM grids_area a LEFT JOIN grids_gridlayer l
                            ON l.id = a.layer_id WHERE l.id IS NULL OR l.is_primary GROUP BY parent_id) u
                      ON u.parent_id = p.id""") < 0.01
    assert all(a.boundary_versions.get().version == 1 for a in Area.objects.all())


def test_second_layer_cuts_each_community_apart_with_a_leader_each(demo):
    layer = GridLayer.objects.get(code="urban")
    assert not layer.is_primary and "城管网格" in layer.name
    urban = Area.objects.filter(layer=layer).select_related("parent", "leader").order_by("code")
    communities = Area.objects.filter(level=Level.COMMUNITY)
    assert urban.count() == 4 and {g.parent for g in urban} == set(communities)  # 2 communities × 2 strips
    primary_codes = set(Area.objects.filter(layer__is_primary=True).values_list("code", flat=True))
    for grid in urban:
        assert grid.level == Level.GRID and len(grid.code) == 15 and grid.code.isdigit()
        assert grid.code.startswith(grid.parent.code) and grid.code[12] == "9" and grid.code not in primary_codes
        assert grid.boundary.valid and grid.boundary.num_geom == 1 and grid.boundary_versions.get().version == 1
        # its own leader, a grid leader bound to this grid, with a demo login
        assert grid.leader.role == Role.GRID_LEADER and grid.leader.area == grid and grid.leader.username.startswith("urban-")
        assert Client().login(username=grid.leader.username, password=services.DEMO_PASSWORD)
    assert len({g.leader_id for g in urban}) == 4
    # each community is exactly the union of its strips: none reaches outside it, no gap. Measured
    # in the stored lon/lat plane, where the points are placed (1e-12 deg² ≈ 0.01 m² here): a cut
    # point lies on the stored edge, which a geodesic or a projected edge bends away from by microns
    assert _scalar("""SELECT max(ST_Area(ST_SymDifference(p.boundary, u.geom))) FROM grids_area p
                      JOIN (SELECT parent_id, ST_Union(boundary) geom FROM grids_area WHERE layer_id = %s GROUP BY parent_id) u
                      ON u.parent_id = p.id""", [layer.pk]) < 1e-12
    assert _scalar("""SELECT max(ST_Area(ST_Difference(u.boundary, p.boundary))) FROM grids_area u
                      JOIN grids_area p ON p.id = u.parent_id WHERE u.layer_id = %s""", [layer.pk]) < 1e-12
    # a different cut from the primary grids, and the strips of the layer do not overlap
    assert _scalar("""SELECT count(*) FROM grids_area u JOIN grids_area p ON p.parent_id = u.parent_id
                      JOIN grids_gridlayer l ON l.id = p.layer_id AND l.is_primary
                      WHERE u.layer_id = %s AND ST_Equals(u.boundary, p.boundary)""", [layer.pk]) == 0
    assert _scalar("""SELECT count(*) FROM grids_area a JOIN grids_area b ON a.id < b.id AND a.layer_id = b.layer_id
                      WHERE a.layer_id = %s AND ST_Relate(a.boundary, b.boundary, '2********')""", [layer.pk]) == 0
    assert _scalar("""SELECT count(*) FROM grids_area a JOIN grids_area b ON a.id < b.id AND a.layer_id = b.layer_id
                      WHERE a.layer_id = %s AND ST_Touches(a.boundary, b.boundary)""", [layer.pk]) >= 2  # neighbours
    # records are placed in the primary layer only
    assert Building.objects.filter(grid__isnull=False).exclude(grid__layer__is_primary=True).count() == 0
    assert not Person.objects.filter(grid__layer=layer).exists()


def test_everything_is_placed_by_the_rule(demo):
    # the site dormitory beyond the edge and its people are the only unassigned residents
    assert list(Building.objects.filter(grid__isnull=True).values_list("name", flat=True)) == ["工地临时宿舍"]
    assert Building.objects.filter(grid__isnull=False).count() == Building.objects.count() - 1
    assert _scalar("""SELECT count(*) FROM people_person p JOIN places_dwelling d ON d.id = p.dwelling_id
                      JOIN places_building b ON b.id = d.building_id WHERE p.grid_id IS DISTINCT FROM b.grid_id""") == 0
    assert Facility.objects.filter(grid__isnull=True).count() == 3
    assert not Visit.objects.filter(grid__isnull=True).exists()
    # cameras at junctions stand on shared edges: the lowest code takes them
    on_edges = """FROM places_facility f WHERE (SELECT count(*) FROM grids_area a
                  WHERE a.level = 'grid' AND ST_Intersects(a.boundary, f.location)) > 1"""
    assert _scalar("SELECT count(*) " + on_edges) > 0
    assert _scalar("""SELECT count(*) """ + on_edges + """ AND f.grid_id <> (SELECT a.id FROM grids_area a
                      WHERE a.level = 'grid' AND ST_Intersects(a.boundary, f.location) ORDER BY a.code LIMIT 1)""") == 0


def test_households_have_one_head_who_lives_there(demo):
    assert Household.objects.filter(head__isnull=True).count() == 0
    heads = HouseholdMember.objects.filter(relation="head")
    assert heads.count() == Household.objects.count()
    assert not Household.objects.exclude(head__membership__relation="head").exists()
    assert not Person.objects.filter(membership__isnull=True).exists()


def test_demo_logins_see_their_own_grid(demo):
    grid = Area.objects.filter(level=Level.GRID).order_by("code").first()
    leader = User.objects.get(role=Role.GRID_LEADER, area=grid)
    mine = people.persons(leader)
    assert grid.leader == leader and grid.workers.exists()
    client = Client()
    assert client.login(username=leader.username, password=services.DEMO_PASSWORD)
    # no permission groups: the role decides (core.models.ROLE_PERMISSIONS via User.has_perm)
    assert not leader.groups.exists() and not Group.objects.exists() and leader.is_staff
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/people/person/").status_code == 200
    assert client.get(f"/admin/people/person/{mine.first().pk}/change/").status_code == 200
    worker = grid.workers.first()
    assert worker.is_staff and Client().login(username=worker.username, password=services.DEMO_PASSWORD)
    assert mine.count() == Person.objects.filter(grid=grid).count() > 0
    centre = User.objects.get(username="centre")
    assert people.persons(centre).count() == Person.objects.count()
    roles = {u.role for u in selectors.logins()}
    assert roles == set(Role.values)


def test_load_refuses_a_database_with_areas(demo):
    with pytest.raises(ValidationError, match="not empty"):
        services.load_demo_district(seed=1, scale=SMALL, today=TODAY)


def test_placement_mode_is_restored(demo):
    # bulk_placement hands the row triggers back: a building added now is placed at once
    assert _scalar("SELECT coalesce(current_setting('gridmap.bulk', true), '')") != "on"
    grid = Area.objects.filter(level=Level.GRID).order_by("code").first()
    footprint = MultiPolygon(grid.boundary.point_on_surface.buffer(0.00005), srid=4326)
    b = Building.objects.create(code="X1", name="新楼", footprint=footprint)
    b.refresh_from_db()
    assert b.grid_id == grid.id


@pytest.mark.django_db
def test_areas_only_loads_the_tree_and_staff():
    services.load_demo_areas(scale=1, seed=4)
    grids = Area.objects.filter(level=Level.GRID)
    assert Area.objects.filter(level=Level.COMMUNITY).count() == 6 and grids.filter(layer__is_primary=True).count() == 20
    assert grids.filter(layer__code="urban").count() == 18  # 3 strips in each community of 3 or 4 grids
    assert AreaBoundary.objects.count() == Area.objects.count()
    assert not grids.filter(leader__isnull=True).exists()
    assert User.objects.filter(role=Role.GRID_LEADER).count() == grids.count()  # one per grid, both layers
    assert not User.objects.filter(is_staff=False).exists()
    assert not Building.objects.exists() and not Person.objects.exists() and not Facility.objects.exists()


@pytest.mark.django_db
def test_commands_status_load_and_logins():
    out = StringIO()
    call_command("demo_district", "--status", stdout=out)
    assert out.getvalue() == ""
    call_command("demo_district", "--scale", str(SMALL), "--seed", "2", "--today", "2025-06-01", verbosity=0, stdout=StringIO())
    call_command("demo_district", "--status", stdout=out)
    assert "grids: 4" in out.getvalue() and "urban grids: 4" in out.getvalue()
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "grid-01-01-01" in text and services.DEMO_PASSWORD in text
    for label in ("中心管理员", "领导", "职能部门", "街道", "社区", "网格长 Grid leader", "网格员 Grid worker"):
        assert label in text
    row = next(line for line in text.splitlines() if "grid-01-01-01 " in line)
    assert "440305001001001" in row and "第1网格" in row
    # still one login per role: the primary grid's leader, not the other layer's
    assert "urban-" not in text and sum("网格长 Grid leader" in line for line in text.splitlines()) == 1


def test_demo_events_went_through_the_workflow(demo):
    from gridmap.events.models import Event, EventAction
    from gridmap.events.workflow import State

    events = Event.objects.all()
    assert events.count() >= 10
    assert not events.filter(grid__isnull=True).exists()  # reported at buildings inside the grids
    statuses = set(events.values_list("status", flat=True))
    assert State.CLOSED in statuses and statuses & {State.ASSIGNED, State.HANDLING}
    for event in events.filter(status=State.CLOSED)[:5]:
        assert list(EventAction.objects.filter(event=event).values_list("action", flat=True))[:5] == [
            "report", "accept", "assign", "start", "reply"]


@pytest.mark.django_db
def test_the_demo_boundaries_are_in_force_from_before_its_history():
    """The map as of a past date, and the statistics of past periods, find the demo's grids."""
    services.load_demo_district(seed=3, scale=0.2, areas_only=True)
    a_year_ago = clock.now() - dt.timedelta(days=365)
    assert areas_as_of(a_year_ago).count() == Area.objects.filter(level=Level.GRID, layer__is_primary=True).count() > 0
    assert not areas_as_of(clock.now() - dt.timedelta(days=services.LIVE_DAYS + 1)).exists()
