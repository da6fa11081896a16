"""Notifications: an in-app inbox row per message, then every configured outside channel
(settings.GRIDMAP_NOTIFY_CHANNELS, dotted paths to callables(user, event, kind, text)).
The default channel only logs; an SMS or e-mail gateway plugs in the same way."""
import logging

from django.conf import settings
from django.utils.module_loading import import_string

from .models import Notification

log = logging.getLogger("gridmap.notify")


def log_channel(user, event, kind, text):
    log.info("to %s [%s] %s", user.username, kind, text)


def send(user, event, kind: str, text: str) -> Notification:
    note = Notification.objects.create(user=user, event=event, kind=kind, text=text[:300])
    for path in settings.GRIDMAP_NOTIFY_CHANNELS:
        import_string(path)(user, event, kind, text)
    return note
