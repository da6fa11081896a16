"""The authentication backend: Django's, but loading the user's area in the same query, since
nearly every request is scoped by it (core.scoping.scope)."""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AreaUserBackend(ModelBackend):
    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("area").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
