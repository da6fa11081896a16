"""The working-day calendar from the chinesecalendar package: CalendarYear records a year the centre
entered itself, and Event.due_provisional marks a due time counted over a year nobody knows yet.
The 2025/2026 rows seeded by 0002 stay: they agree with the package (tests/events/test_calendar.py)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0004_private_categories_off_open311'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='due_provisional',
            field=models.BooleanField(default=False, help_text='counted over a year with no holiday arrangement: weekends only', verbose_name='due time provisional'),
        ),
        migrations.CreateModel(
            name='CalendarYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(unique=True, verbose_name='year')),
                ('source', models.CharField(blank=True, help_text='e.g. the notice or the file it was entered from', max_length=200, verbose_name='source')),
                ('entered_at', models.DateTimeField(verbose_name='entered at')),
                ('entered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='entered by')),
            ],
            options={
                'verbose_name': 'calendar year (年度节假日安排)',
                'verbose_name_plural': 'calendar years (年度节假日安排)',
                'ordering': ['-year'],
            },
        ),
    ]
