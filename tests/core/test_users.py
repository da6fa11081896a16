"""Users: how staff are named on screen, and the authentication backend (the area loaded with the
user, sync and async; sessions signed in under Django's own backend path still valid)."""
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


def test_a_session_signed_in_under_djangos_backend_path_stays_signed_in(client, tree, make_user):
    """Sessions made before AreaUserBackend name django.contrib.auth.backends.ModelBackend."""
    user = make_user("leader", Role.GRID_LEADER, tree["a"])
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    res = client.get("/")
    assert res.status_code == 200 and res.wsgi_request.user == user
    # a new sign-in goes through AreaUserBackend
    client.logout()
    assert client.login(username="leader", password="pw")
    assert client.session[BACKEND_SESSION_KEY] == "gridmap.core.auth.AreaUserBackend"
