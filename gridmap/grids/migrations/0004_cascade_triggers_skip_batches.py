"""Runs gridmap/grids/geocoding.sql again: the cascade triggers (building → dwelling →
household/person) now check gridmap.bulk in their WHEN clause, so a batch's set-based writes
fire no trigger per row."""
from pathlib import Path

from django.db import migrations

SQL = (Path(__file__).resolve().parent.parent / "geocoding.sql").read_text()


class Migration(migrations.Migration):
    dependencies = [("grids", "0003_boundary_changes")]

    operations = [migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop)]
