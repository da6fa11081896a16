"""The authentication backend: Django's, but loading the user's area in the same query, since
nearly every request is scoped by it (core.scoping.scope), for sync and async requests alike."""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def _users():
    return get_user_model()._default_manager.select_related("area")


class AreaUserBackend(ModelBackend):
    def get_user(self, user_id):
        user = _users().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        user = await _users().filter(pk=user_id).afirst()
        return user if user is not None and self.user_can_authenticate(user) else None
