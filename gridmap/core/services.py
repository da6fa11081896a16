"""Writes owned by core: the sensitive-access log."""
from .models import AccessLog


def log_sensitive_view(user, obj, what: str = "") -> AccessLog:
    return AccessLog.objects.create(user=user, model=obj._meta.label_lower, object_id=obj.pk, what=what[:200])


def log_sensitive_views(user, objs, what: str = "") -> list[AccessLog]:
    """One AccessLog row per object shown in full, written in one statement."""
    return AccessLog.objects.bulk_create(
        AccessLog(user=user, model=obj._meta.label_lower, object_id=obj.pk, what=what[:200]) for obj in objs
    )
