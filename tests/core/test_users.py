"""Users: how staff are named on screen, and the authentication backend (the area loaded with the
user, sync and async; the only backend that checks a password)."""
from asgiref.sync import async_to_sync
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gridmap.core.auth import AreaUserBackend
from gridmap.core.models import Role, User


def test_display_name_is_family_then_given_name_else_the_username():
    assert User(username="lms", last_name="李", first_name="敏秀").display_name == "李敏秀"
    assert User(username="lms", last_name="李").display_name == "李"
    assert User(username="lms").display_name == "lms"
    assert User(username="lms", last_name=" ", first_name="").display_name == "lms"


def test_the_backend_loads_the_area_with_the_user_sync_and_async(tree, make_user):
    user = make_user("leader", Role.GRID_LEADER, tree["a"])
    backend = AreaUserBackend()
    for get in (backend.get_user, async_to_sync(backend.aget_user)):
        with CaptureQueriesContext(connection) as queries:
            got = get(user.pk)
            assert got == user and got.area.code == tree["a"].code
        assert len(queries) == 1, get
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None and async_to_sync(backend.aget_user)(user.pk) is None
    assert backend.get_user(999999) is None and async_to_sync(backend.aget_user)(999999) is None


def test_a_session_signed_in_under_djangos_backend_path_is_signed_out(client, tree, make_user):
    """ModelBackend is no longer listed (it hashed every wrong password a second time): a session
    still naming it (made before d01a7a8) is signed out, and a new sign-in names AreaUserBackend."""
    user = make_user("leader", Role.GRID_LEADER, tree["a"])
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    res = client.get("/admin/")
    assert res.status_code == 302 and not res.wsgi_request.user.is_authenticated
    assert client.login(username="leader", password="pw")
    assert client.session[BACKEND_SESSION_KEY] == "gridmap.core.auth.AreaUserBackend"
    assert client.get("/admin/").status_code == 200
