"""Residents' ID numbers and phones encrypted at rest, with a keyed hash for exact lookup.

The application encrypts: the database never sees a key (pgcrypto would carry it in statement
text, the server log and pg_stat_activity). A value is a Fernet token (AES-CBC + HMAC-SHA256,
from `cryptography`) under GRIDMAP_FIELD_KEYS, newest first: the first key encrypts, every key
decrypts (MultiFernet), so a key is rotated by putting a new one first and running
`manage.py reseal`, then dropping the old one. A token differs on every write, so exact lookups
go through a sibling digest column: HMAC-SHA256 of the normalised value under
GRIDMAP_LOOKUP_KEY, a key of its own, so rotating the encryption keys never needs a rehash.

Not django-fernet-encrypted-fields: it derives its keys from SECRET_KEY and SALT_KEY (no key
of its own), hands back the ciphertext as the value when no key fits, and stores '' as NULL.
"""
import functools
import hashlib
import hmac
import re
import unicodedata
from typing import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import migrations, models
from django.db.models import Q

BATCH = 5000  # rows per UPDATE when a whole table is re-encrypted


class WrongKey(ImproperlyConfigured):
    """A stored value that no key in GRIDMAP_FIELD_KEYS opens: never shown as garbage."""


@functools.cache
def _keys() -> tuple[MultiFernet, bytes]:
    try:
        fernet = MultiFernet([Fernet(k) for k in settings.GRIDMAP_FIELD_KEYS])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "GRIDMAP_FIELD_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes each, "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        ) from None
    if not settings.GRIDMAP_LOOKUP_KEY:
        raise ImproperlyConfigured("GRIDMAP_LOOKUP_KEY is empty")
    return fernet, settings.GRIDMAP_LOOKUP_KEY.encode()


def _forget_keys(setting, **kwargs):
    if setting in ("GRIDMAP_FIELD_KEYS", "GRIDMAP_LOOKUP_KEY"):
        _keys.cache_clear()


setting_changed.connect(_forget_keys)


def encrypt(value: str) -> str:
    """A Fernet token for `value` under the first key; '' stays '' (blank is no secret)."""
    return _keys()[0].encrypt(value.encode()).decode() if value else value


def _opened(token: str, step: Callable[[MultiFernet, bytes], bytes]) -> str:
    if not token:
        return token
    try:
        return step(_keys()[0], token.encode()).decode()
    except InvalidToken:
        raise WrongKey(
            "a stored ID number or phone cannot be decrypted with GRIDMAP_FIELD_KEYS: the key that "
            "encrypted it is missing (a wrong key, or an old one dropped before `manage.py reseal`)"
        ) from None


def decrypt(token: str) -> str:
    """The clear value of a token; raises WrongKey when no key opens it."""
    return _opened(token, MultiFernet.decrypt)


def rotate(token: str) -> str:
    """The token re-encrypted under the first key; raises WrongKey when no key opens it."""
    return _opened(token, MultiFernet.rotate)


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def normalise_phone(value: str) -> str:
    """Digits only (full-width ones too): "138-1234 5678" is "13812345678"."""
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))


def digest(value: str, normalise: Callable[[str], str]) -> str:
    """HMAC-SHA256 (hex) of the normalised value; '' when nothing is left to hash."""
    value = normalise(value or "")
    return hmac.new(_keys()[1], value.encode(), hashlib.sha256).hexdigest() if value else ""


class EncryptedCharField(models.CharField):
    """A CharField kept as a Fernet token in a text column. Python code and forms see the clear
    value (max_length bounds it); the database holds ciphertext. No lookup but isnull: a token
    differs on every write, so filter with `matches` on the field's DigestField instead."""

    def db_type(self, connection):
        return "text"

    def get_db_prep_save(self, value, connection):
        value = super().get_db_prep_save(value, connection)
        return encrypt(value) if value else value

    def from_db_value(self, value, expression, connection):
        return decrypt(value)

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


class DigestField(models.CharField):
    """The keyed hash of another field's value, for exact lookup: set on every save and
    bulk_create (not by QuerySet.update or bulk_update: they skip pre_save)."""

    def __init__(self, *args, of: str, normalise: Callable[[str], str], **kwargs):
        self.of, self.normalise = of, normalise
        kwargs.update(max_length=64, editable=False, blank=True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for k in ("max_length", "editable", "blank"):
            kwargs.pop(k, None)
        return name, path, args, {**kwargs, "of": self.of, "normalise": self.normalise}

    def pre_save(self, model_instance, add):
        value = digest(getattr(model_instance, self.of), self.normalise)
        setattr(model_instance, self.attname, value)
        return value


def digest_field(model, name: str) -> DigestField:
    return next(f for f in model._meta.concrete_fields if isinstance(f, DigestField) and f.of == name)


def matches(model, name: str, value: str) -> Q:
    """Rows whose encrypted field `name` holds `value` (normalised as its digest is); none for a
    value that normalises to nothing (never every row with a blank phone)."""
    f = digest_field(model, name)
    hashed = digest(value, f.normalise)
    return Q(**{f.name: hashed}) if hashed else Q(pk__in=[])


def reseal(cursor, model, convert: Callable[[str], str], *, digests: bool = False) -> int:
    """Rewrite every encrypted column of `model`'s table with `convert` (encrypt, decrypt, rotate),
    BATCH rows per UPDATE in primary-key order, in SQL over the raw values: the migrations run it
    over clear text and the reseal command over tokens. `digests`: also set each DigestField from
    the value as read (the clear text). Returns the number of rows."""
    meta = model._meta
    sealed = [f.column for f in meta.concrete_fields if isinstance(f, EncryptedCharField)]
    hashed = [(f.column, meta.get_field(f.of).column, f.normalise)
              for f in meta.concrete_fields if digests and isinstance(f, DigestField)]
    table, pk = meta.db_table, meta.pk.column
    written = [*sealed, *(c for c, _, _ in hashed)]
    sets = ", ".join(f"{c} = u.{c}" for c in written)
    arrays = ", ".join(["%s::bigint[]", *["%s::text[]"] * len(written)])
    last, done = 0, 0
    while True:
        cursor.execute(f"SELECT {pk}, {', '.join(sealed)} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, BATCH])
        rows = cursor.fetchall()
        if not rows:
            return done
        values = dict(zip(sealed, zip(*(r[1:] for r in rows))))
        columns = [[convert(v or "") for v in values[c]] for c in sealed]
        columns += [[digest(v or "", normalise) for v in values[source]] for _, source, normalise in hashed]
        cursor.execute(
            f"UPDATE {table} t SET {sets} FROM unnest({arrays}) AS u({pk}, {', '.join(written)}) WHERE t.{pk} = u.{pk}",
            [[r[0] for r in rows], *columns],
        )
        last, done = rows[-1][0], done + len(rows)


def sealing(app_label: str, model_name: str) -> migrations.RunPython:
    """The data step of a migration that turns a model's clear columns into encrypted ones:
    encrypts every row and fills its digests; backwards, decrypts. PostgreSQL keeps the old row
    versions until they are vacuumed: run VACUUM FULL on the table afterwards (see README)."""
    def run(apps, schema_editor, convert, digests):
        with schema_editor.connection.cursor() as cursor:
            reseal(cursor, apps.get_model(app_label, model_name), convert, digests=digests)

    return migrations.RunPython(lambda apps, se: run(apps, se, encrypt, True), lambda apps, se: run(apps, se, decrypt, False))
