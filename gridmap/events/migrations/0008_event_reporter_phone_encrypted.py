"""The reporter's phone encrypted at rest (gridmap/core/crypto.py), each row in place."""
import gridmap.core.crypto
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0007_open311_public_only'),
    ]

    operations = [
        migrations.AlterField(
            model_name='event',
            name='reporter_phone',
            field=gridmap.core.crypto.EncryptedCharField(blank=True, max_length=20, verbose_name='reporter phone'),
        ),
        gridmap.core.crypto.sealing('events', 'Event'),
    ]
