"""Writes owned by core: the sensitive-access log."""
from .models import AccessLog


def log_sensitive_view(user, obj, what: str = "") -> AccessLog:
    return AccessLog.objects.create(user=user, model=obj._meta.label_lower, object_id=obj.pk, what=what[:200])
