"""Writes owned by core: the sensitive-access log (敏感信息查看记录).

Every page, list, search hit or export that shows a sensitive value in full (ID number, phone,
health/welfare, special-group/correction records) writes one AccessLog row per record shown,
all rows of a page in one INSERT. The client's address is taken from the request being served
(`request_started` below), so a selector deep under a view logs it without being handed the
request; a command run outside the web logs none.
"""
import contextvars

from django.core.signals import request_finished, request_started
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
