"""Cached answers of the analytics API. An answer depends only on its selection (area, period,
categories, statuses, whether sensitive counts are shown) and its own parameters, never on who
asked, so users of one area share it (per language: answers carry their labels). A closed
period's figures do not change: they are kept for CLOSED_SECONDS; an open period's are refreshed
after OPEN_SECONDS (new reports keep coming). The cache is Django's (settings.CACHES: per process unless a shared backend is configured)."""
import hashlib
import json

from django.core.cache import cache
from django.utils import translation

from .selection import Selection

CLOSED_SECONDS = 7 * 24 * 3600
OPEN_SECONDS = 60
VERSION = 1  # bump when an answer's shape changes: old entries are then never read


def answer(name: str, selection: Selection, compute, **params):
    """`compute()`'s result for this selection and params, from the cache when there."""
    raw = json.dumps([name, selection.key, translation.get_language(), params], sort_keys=True, default=str)
    key = f"analytics:{VERSION}:{name}:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CLOSED_SECONDS if selection.period.closed else OPEN_SECONDS)
    return found
