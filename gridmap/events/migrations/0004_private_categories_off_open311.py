"""Open311 lets anyone read requests without a key, so categories about private lives stay off
it: family disputes, special-population incidents and petitions (editable in the admin)."""
from django.db import migrations

PRIVATE = ["0102", "06", "07"]


def hide(apps, schema_editor):
    apps.get_model("events", "Category").objects.filter(code__in=PRIVATE).update(open311=False)


def show(apps, schema_editor):
    apps.get_model("events", "Category").objects.filter(code__in=PRIVATE).update(open311=True)


class Migration(migrations.Migration):
    dependencies = [("events", "0003_open311request")]
    operations = [migrations.RunPython(hide, show)]
