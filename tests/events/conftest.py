import pytest

from gridmap.core.models import Role
from gridmap.events.models import Category


@pytest.fixture
def staff(tree, make_user):
    """The people of the test tree: a leader and worker per grid, community staff, the centre."""
    users = {
        "leader_a": make_user("leader_a", Role.GRID_LEADER, tree["a"]),
        "worker_a": make_user("worker_a", Role.GRID_WORKER, tree["a"]),
        "leader_b": make_user("leader_b", Role.GRID_LEADER, tree["b"]),
        "community": make_user("community", Role.AREA_STAFF, tree["community"]),
        "street": make_user("street", Role.AREA_STAFF, tree["street"]),
        "centre": make_user("centre", Role.CENTRE_ADMIN),
        "patroller": make_user("patroller", Role.GRID_WORKER, tree["street"]),
    }
    for key, area in [("leader_a", "a"), ("leader_b", "b"), ("community", "community"), ("street", "street")]:
        tree[area].leader = users[key]
        tree[area].save()
    return users


@pytest.fixture
def dispute(db):
    return Category.objects.get(code="0101")  # neighbour dispute: grid level, 5 working days


# --- added for the API and workflow tests ------------------------------------------------------

@pytest.fixture
def by_role(tree, staff, make_user):
    """One user per role who can see every event of grid A: the actors of the transition table."""
    from gridmap.events.models import Department

    dept_user = make_user("market_handler", Role.DEPARTMENT, tree["street"])
    Department.objects.get(code="market").handlers.add(dept_user)
    return {
        Role.CENTRE_ADMIN: staff["centre"],
        Role.AREA_STAFF: staff["community"],
        Role.GRID_LEADER: staff["leader_a"],
        Role.GRID_WORKER: staff["worker_a"],
        Role.DEPARTMENT: dept_user,
        Role.LEADER: make_user("boss", Role.LEADER),
    }


@pytest.fixture
def report(staff, dispute):
    """report(**kw) → a new event, by default a neighbour dispute in grid A reported by the patroller."""
    from gridmap.events import services

    def make(lon=113.92, lat=22.55, category=None, reporter=None, description="楼道堆放杂物", **kw):
        return services.report_event(reporter=reporter or staff["patroller"], category=category or dispute,
                                     lon=lon, lat=lat, description=description, channel="patrol", **kw).event
    return make
