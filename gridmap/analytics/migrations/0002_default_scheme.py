"""The default assessment scheme: PRODUCT.md's published formula for grid workers (work results
40, skills 10, resident satisfaction 50) for every level, 4 reports a month, signing within a day,
a yellow card below 80. The centre edits it, or adds a scheme from a later month, in the admin."""
import datetime as dt

from django.db import migrations

UNITS = ["worker", "grid", "community", "street", "department"]


def seed(apps, schema_editor):
    Scheme = apps.get_model("analytics", "AssessmentScheme")
    Weights = apps.get_model("analytics", "AssessmentWeights")
    scheme, created = Scheme.objects.get_or_create(
        effective_from=dt.date(2000, 1, 1),
        defaults={"name": "默认考核方案 default scheme", "report_target": 4, "sign_within_hours": 24, "yellow_card_below": 80})
    if created:
        Weights.objects.bulk_create([Weights(scheme=scheme, unit=u, results=40, skills=10, satisfaction=50) for u in UNITS])


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_scheme")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
