"""Buildings as real registers come: the name may be blank (most surveyed or OpenStreetMap
footprints have none; the building shows its address or code instead), and the floors above
ground may be unknown or fractional (3.5: a half storey). Existing whole numbers carry over
unchanged (smallint → double precision); nothing is rewritten but the column's type."""
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('places', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='building',
            name='name',
            field=models.CharField(blank=True, max_length=100, verbose_name='name / number (楼号)'),
        ),
        migrations.AlterField(
            model_name='building',
            name='floors_above',
            field=models.FloatField(blank=True, help_text='as recorded: 3.5 for three storeys and a half storey; empty when unknown', null=True, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(300)], verbose_name='floors above ground'),
        ),
    ]
