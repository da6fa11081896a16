"""Keep on each event the log's figures the leaders' statistics read for every event: when it
was accepted or rejected, how often it was returned to its handler and reopened. Filled from
the action log in one statement; from now on services.act keeps them."""
from django.db import migrations, models

BACKFILL = """
UPDATE events_event e SET decided_at = f.decided_at, returns = f.returns, reopenings = f.reopenings
FROM (SELECT event_id,
             min(at) FILTER (WHERE action IN ('accept', 'reject')) AS decided_at,
             count(*) FILTER (WHERE action = 'return') AS returns,
             count(*) FILTER (WHERE action = 'reopen') AS reopenings
      FROM events_eventaction WHERE action IN ('accept', 'reject', 'return', 'reopen')
      GROUP BY event_id) f
WHERE f.event_id = e.id
"""


class Migration(migrations.Migration):
    dependencies = [("events", "0010_point_statistics")]

    operations = [
        migrations.AddField(
            model_name="event", name="decided_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="accepted or rejected at"),
        ),
        migrations.AddField(
            model_name="event", name="reopenings",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="reopenings (重新办理)"),
        ),
        migrations.AddField(
            model_name="event", name="returns",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="returns to the handler (退回)"),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
