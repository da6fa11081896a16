"""Installs gridmap/grids/geocoding.sql: the grid-placement rule and its triggers.

The SQL is idempotent (CREATE OR REPLACE, DROP TRIGGER IF EXISTS); a later change to the rule
ships as a new migration that runs the file again."""
from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "geocoding.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0001_initial"),
        ("places", "0001_initial"),
        ("people", "0002_initial"),
    ]

    operations = [migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop)]
