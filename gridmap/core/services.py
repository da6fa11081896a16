"""Writes owned by core: the sensitive-access log (敏感信息查看记录), and turning two-step sign-in
(两步验证, core/two_factor.py) on and off.

Every page, list, search hit or export that shows a sensitive value in full (ID number, phone,
health/welfare, special-group/correction records) writes one AccessLog row per record shown,
all rows of a page in one INSERT. The client's address is taken from the request being served
(`request_started` below), so a selector deep under a view logs it without being handed the
request; a command run outside the web logs none.
"""
import contextvars
import logging

from django.core.signals import request_finished, request_started
from django.db import transaction
from django.dispatch import receiver

from .models import AccessLog

# What a full view of a record shows, by record type, when the caller does not say.
DEFAULT_FIELDS = {"people.person": "id_number,phone"}

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("gridmap_client_ip", default=None)


class _Meta:
    def __init__(self, meta):
        self.META = meta


@receiver(request_started, dispatch_uid="gridmap.core.access_log.client_ip")
def _remember_client_ip(sender, environ=None, scope=None, **kwargs):
    from .auth import client_ip

    if environ is not None:  # WSGI (and the test client)
        ip = client_ip(_Meta(environ))
    elif scope is not None:  # ASGI: the headers are bytes pairs; the client is (host, port)
        meta = {"HTTP_" + k.decode("latin-1").upper().replace("-", "_"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        meta["REMOTE_ADDR"] = (scope.get("client") or (None,))[0]
        ip = client_ip(_Meta(meta))
    else:
        ip = None
    _client_ip.set(_valid_ip(ip))


@receiver(request_finished, dispatch_uid="gridmap.core.access_log.client_ip_end")
def _forget_client_ip(sender, **kwargs):
    _client_ip.set(None)


def _valid_ip(value) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None  # a header that is not an address is not stored (the column is inet)


def current_client_ip() -> str | None:
    """The address of the client whose request is being served, None outside a request."""
    return _client_ip.get()


def _row(user, model: str, object_id, what: str, fields: str | None, ip: str | None) -> AccessLog:
    return AccessLog(
        user=user if user is not None and user.is_authenticated else None,
        model=model, object_id=object_id, what=(what or "")[:200],
        fields=(DEFAULT_FIELDS.get(model, "") if fields is None else fields)[:200],
        ip=_valid_ip(ip) if ip is not None else current_client_ip(),
    )


def log_sensitive_view(user, obj, what: str = "", *, fields: str | None = None, ip: str | None = None) -> AccessLog:
    """One full view of `obj` by `user`."""
    row = _row(user, obj._meta.label_lower, obj.pk, what, fields, ip)
    row.save()
    return row


def log_sensitive_views(user, objs, what: str = "", *, fields: str | None = None, ip: str | None = None) -> list[AccessLog]:
    """One AccessLog row per object shown in full, written in one statement."""
    return AccessLog.objects.bulk_create(
        _row(user, obj._meta.label_lower, obj.pk, what, fields, ip) for obj in objs
    )


def log_sensitive_ids(user, model: str, ids, what: str = "", *, fields: str | None = None, ip: str | None = None) -> list[AccessLog]:
    """As log_sensitive_views, by record type ("people.person") and ids: for lists that hold ids
    (a person's welfare records are logged against the person), in one statement."""
    return AccessLog.objects.bulk_create(_row(user, model, pk, what, fields, ip) for pk in dict.fromkeys(ids))


def log_export(user, model: str, count: int, what: str = "", *, fields: str | None = None) -> AccessLog:
    """One row for an export of `count` records of `model`; `user` None for a command run by an
    operating-system user (no Django user), "export persons: N rows" in `what`."""
    what = what or f"export {model.rsplit('.', 1)[-1]}s: {count} rows"
    row = _row(user, model, None, what, fields, None)
    row.save()
    return row


# --- two-step sign-in -------------------------------------------------------------------------

log = logging.getLogger(__name__)
BACKUP_CODES = 10


class WrongCode(Exception):
    """The code does not match the authenticator app being set up."""


def _two_step_devices():
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice, StaticDevice


def enrol_two_step(user, key: str, code: str):
    """Turn two-step sign-in on for `user`: the authenticator app set up with `key` (hex, shown
    as a QR code) if `code` is the one it shows now, and BACKUP_CODES one-use backup codes.
    Returns (the app's device, the backup codes: shown once, never again). Raises WrongCode and
    writes nothing when the code does not match."""
    from django_otp.plugins.otp_static.models import StaticToken

    totp, static = _two_step_devices()
    with transaction.atomic():
        _delete_devices(user)  # a half-finished earlier setup
        device = totp.objects.create(user=user, key=key, name="authenticator app", confirmed=True)
        if not device.verify_token(code):
            raise WrongCode()
        backup = static.objects.create(user=user, name="backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=c) for c in codes)
    log.info("two-step sign-in on: %s", user.get_username())
    return device, codes


def remove_two_step(user, by) -> bool:
    """Turn two-step sign-in off for `user`: their app and backup codes go, the next sign-in asks
    for the password only. `by` is the user themselves (with a code) or the centre resetting a
    lost phone. Logged; False when there was nothing to remove."""
    with transaction.atomic():
        removed = _delete_devices(user)
    if removed:
        log.warning("two-step sign-in off: %s, by %s", user.get_username(), by.get_username())
    return removed


def _delete_devices(user) -> bool:
    return any([model.objects.filter(user=user).delete()[0] for model in _two_step_devices()])
