"""Notifications: an in-app inbox row per message, then every configured outside channel
(settings.GRIDMAP_NOTIFY_CHANNELS, dotted paths to callables(user, event, kind, text)).
The default channel only logs; an SMS or e-mail gateway plugs in the same way."""
import logging

from django.conf import settings
from django.utils.module_loading import import_string

from gridmap.core import clock

from .models import Notification

log = logging.getLogger("gridmap.notify")


def log_channel(user, event, kind, text):
    log.info("to %s [%s] %s", user.username, kind, text)


def send(user, event, kind: str, text: str) -> Notification:
    return send_many([(user, event, kind, text)])[0]


def send_many(messages) -> list[Notification]:
    """Several (user, event, kind, text) messages: the inbox rows in one INSERT (a boundary change
    re-routes hundreds of events inside its transaction), then each outside channel per message."""
    notes = Notification.objects.bulk_create(
        [Notification(user=user, event=event, kind=kind, text=text[:300]) for user, event, kind, text in messages])
    for path in settings.GRIDMAP_NOTIFY_CHANNELS:
        channel = import_string(path)
        for user, event, kind, text in messages:
            channel(user, event, kind, text)
    return notes


def mark_read(user, ids=None) -> int:
    """Mark `user`'s unread messages read: those with the given ids, or all when ids is None.
    Someone else's ids are ignored. Returns how many changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=clock.now())
