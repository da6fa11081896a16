"""Fixtures of the events tests; staff, dispute and report (shared with tests/browser) are in tests/conftest.py."""
import pytest
from rest_framework.test import APIClient

from gridmap.core.models import Role


@pytest.fixture
def api():
    """api(user) → a DRF test client logged in as `user` (anonymous without one)."""
    def as_user(user=None):
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client
    return as_user


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
