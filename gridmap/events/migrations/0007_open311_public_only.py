"""Open311 publishes only what is public (issue 11):

- Event.public: shown through Open311. Reports from the public (hotline, web, Open311) are;
  internal patrol and grid-worker reports are not. Existing rows are set by their channel.
- Category.involves_people: Open311 shows these events (and those of the categories below)
  only near their place. Set on disputes (01), special population (06) and petitions (07).
- EventAction.public_note: the note written for the public; Open311's status_notes.
- ApiKey: only the SHA-256 hash of the key and a short prefix are kept; existing keys are
  hashed (they keep working) and the clear text is dropped. Going back cannot restore the
  keys: each gets its hash as key, so clients need new keys.
"""
import hashlib

from django.db import migrations, models

PUBLIC_CHANNELS = ["hotline", "web", "open311"]
PEOPLE_CATEGORIES = ["01", "06", "07"]
PREFIX_LENGTH = 6


def flag_people(apps, schema_editor):
    """Also seed data: a test run's flush removes it with the categories."""
    apps.get_model("events", "Category").objects.filter(code__in=PEOPLE_CATEGORIES).update(involves_people=True)


def forward(apps, schema_editor):
    apps.get_model("events", "Event").objects.filter(channel__in=PUBLIC_CHANNELS).update(public=True)
    flag_people(apps, schema_editor)
    for key in apps.get_model("events", "ApiKey").objects.all():
        key.key_hash = hashlib.sha256(key.key.encode()).hexdigest()
        key.prefix = key.key[:min(PREFIX_LENGTH, len(key.key) // 4)]
        key.save(update_fields=["key_hash", "prefix"])


def backward(apps, schema_editor):
    for key in apps.get_model("events", "ApiKey").objects.all():
        key.key = key.key_hash  # the clear text is gone
        key.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [("events", "0006_field_labels")]

    operations = [
        migrations.AddField(
            model_name="event", name="public",
            field=models.BooleanField(default=False, help_text="shown through Open311: reports from the public (hotline, web, Open311) are, internal patrol and grid-worker reports are not", verbose_name="public"),
        ),
        migrations.AddField(
            model_name="category", name="involves_people",
            field=models.BooleanField(default=False, help_text="its events are about people (disputes, special population, petitions): Open311 shows them only near, never at, their place; applies to every category below this one too", verbose_name="involves people"),
        ),
        migrations.AddField(
            model_name="eventaction", name="public_note",
            field=models.TextField(blank=True, help_text="shown to the reporter and through Open311", verbose_name="note for the public"),
        ),
        migrations.AlterField(
            model_name="eventaction", name="note",
            field=models.TextField(blank=True, help_text="internal: never shown outside", verbose_name="note"),
        ),
        migrations.AddField(
            model_name="apikey", name="key_hash",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="key hash (SHA-256)"),
        ),
        migrations.AddField(
            model_name="apikey", name="prefix",
            field=models.CharField(blank=True, editable=False, help_text="the first characters of the key, to tell keys apart", max_length=6, verbose_name="key prefix"),
        ),
        migrations.AlterField(
            model_name="apikey", name="key",
            field=models.CharField(max_length=64, null=True, unique=True, verbose_name="key"),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="apikey", name="key"),
        migrations.AlterField(
            model_name="apikey", name="key_hash",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="key hash (SHA-256)"),
        ),
    ]
