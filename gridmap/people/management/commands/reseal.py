"""reseal: re-encrypt every encrypted column under the first key of GRIDMAP_FIELD_KEYS."""
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from gridmap.core.crypto import EncryptedCharField, reseal, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt residents' ID numbers and phones (every encrypted column) under the first key of "
        "GRIDMAP_FIELD_KEYS. Rotating a key: put the new key first, restart the app servers, run this, "
        "then drop the old key. The keyed hashes for lookup (GRIDMAP_LOOKUP_KEY) are not touched."
    )

    def handle(self, **options):
        for model in apps.get_models():
            if any(isinstance(f, EncryptedCharField) for f in model._meta.concrete_fields):
                with transaction.atomic(), connection.cursor() as cursor:
                    n = reseal(cursor, model, rotate)
                self.stdout.write(f"{model._meta.label}: {n} row(s) re-encrypted")
