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
