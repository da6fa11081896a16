"""The authentication backends.

LockoutBackend, listed first, is django-axes' lockout check: a username or client address with
too many recent failures is refused before any password is hashed. AreaUserBackend is Django's
ModelBackend, but loading the user's area in the same query, since nearly every request is scoped
by it (core.scoping.scope), and whether they turned two-step sign-in on (core.two_factor asks on
every request), for sync and async requests alike; it is the only one that checks a password, so
a sign-in attempt costs one hash."""
from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def _users():
    from .two_factor import enrolled_subquery

    return get_user_model()._default_manager.select_related("area").annotate(otp_enrolled=enrolled_subquery())


class AreaUserBackend(ModelBackend):
    def get_user(self, user_id):
        user = _users().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        user = await _users().filter(pk=user_id).afirst()
        return user if user is not None and self.user_can_authenticate(user) else None


class LockoutBackend(AxesStandaloneBackend):
    """axes' check of every sign-in that comes with a request (admin form, HTTP Basic). A call
    without one (a shell, the test client's login()) has no client to count and nothing from the
    web reaches authenticate() without one: it goes straight to the password check."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str | None:
    """The client's address for the lockout: the header a trusted proxy sets
    (settings.GRIDMAP_CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP), else REMOTE_ADDR."""
    header = settings.GRIDMAP_CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "").split(",")[-1].strip()
        if value:
            return value
    return request.META.get("REMOTE_ADDR")


def unlock(usernames) -> int:
    """Lift the sign-in lockout of these users (the centre's admin action): their failed attempts
    are forgotten, from every address, and with them what those failures counted against each
    address. Returns how many attempt records went."""
    from axes.utils import reset

    return sum(reset(username=username) for username in usernames)
