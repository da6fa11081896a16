"""ID numbers and phones encrypted at rest (gridmap/core/crypto.py): the columns become text
holding Fernet tokens, each row is encrypted in place, and the ID number's uniqueness moves to
its keyed hash (made unique once every row has one)."""
import gridmap.core.crypto
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0004_field_labels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='person',
            name='id_number',
            field=gridmap.core.crypto.EncryptedCharField(max_length=30, verbose_name='ID number (证件号码)'),
        ),
        migrations.AlterField(
            model_name='person',
            name='phone',
            field=gridmap.core.crypto.EncryptedCharField(blank=True, max_length=20, verbose_name='phone'),
        ),
        migrations.AddField(
            model_name='person',
            name='id_number_digest',
            field=gridmap.core.crypto.DigestField(normalise=gridmap.core.crypto.normalise_id_number, of='id_number', verbose_name='ID number lookup hash'),
        ),
        migrations.AddField(
            model_name='person',
            name='phone_digest',
            field=gridmap.core.crypto.DigestField(db_index=True, normalise=gridmap.core.crypto.normalise_phone, of='phone', verbose_name='phone lookup hash'),
        ),
        gridmap.core.crypto.sealing('people', 'Person'),
        migrations.AlterField(
            model_name='person',
            name='id_number_digest',
            field=gridmap.core.crypto.DigestField(normalise=gridmap.core.crypto.normalise_id_number, of='id_number', unique=True, verbose_name='ID number lookup hash'),
        ),
    ]
