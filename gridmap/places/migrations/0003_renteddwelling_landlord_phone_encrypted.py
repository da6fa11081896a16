"""The landlord's phone encrypted at rest (gridmap/core/crypto.py), each row in place."""
import gridmap.core.crypto
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('places', '0002_building_name_and_floors_optional'),
    ]

    operations = [
        migrations.AlterField(
            model_name='renteddwelling',
            name='landlord_phone',
            field=gridmap.core.crypto.EncryptedCharField(blank=True, max_length=20, verbose_name='landlord phone'),
        ),
        gridmap.core.crypto.sealing('places', 'RentedDwelling'),
    ]
