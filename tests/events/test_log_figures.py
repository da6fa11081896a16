"""The figures the leaders' statistics read off each event's row — when it was accepted or
rejected, its returns and reopenings — are the action log's: kept by the workflow, and filled
from the log for events that existed before (migration 0011)."""
import importlib

import pytest
from django.db import connection

from gridmap.events import services
from gridmap.events.models import Event
from gridmap.events.workflow import Action

backfill = importlib.import_module("gridmap.events.migrations.0011_log_figures").BACKFILL
FIGURES = ("decided_at", "returns", "reopenings")


def worked(event, staff, *steps):
    for action, who, note in steps:
        services.act(event.pk, action, staff[who], note=note)
    return Event.objects.get(pk=event.pk)


@pytest.mark.django_db
def test_the_workflow_keeps_the_logs_figures_and_the_migration_finds_the_same(staff, report):
    returned = worked(report(), staff, (Action.START, "leader_a", ""), (Action.REPLY, "leader_a", "已处理"),
                      (Action.RETURN, "community", "未整改"), (Action.REPLY, "leader_a", "已整改"),
                      (Action.VERIFY, "community", ""), (Action.REOPEN, "community", "居民再次反映"))
    assert returned.decided_at is not None and (returned.returns, returned.reopenings) == (1, 1)
    untouched = Event.objects.get(pk=report().pk)
    assert untouched.decided_at == untouched.reported_at and (untouched.returns, untouched.reopenings) == (0, 0)

    kept = list(Event.objects.order_by("pk").values_list(*FIGURES))
    Event.objects.update(decided_at=None, returns=0, reopenings=0)
    with connection.cursor() as cur:
        cur.execute(backfill)
    assert list(Event.objects.order_by("pk").values_list(*FIGURES)) == kept
