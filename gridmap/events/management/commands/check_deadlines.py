"""manage.py check_deadlines — the scheduled deadline job (超时预警与自动上报)."""
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from gridmap.core.commands import database_guard
from gridmap.events import services


class Command(BaseCommand):
    help = (
        "Check every active event's clock: raise a warning (yellow) for events past their warning "
        "point and notify the assignee; escalate overdue (red) events one level up (grid → community "
        "→ street → district centre), route them to that level's person with a new time limit, log "
        "it and notify. Safe to run twice and concurrently: an event already warned or escalated "
        "is left alone, and rows another run holds are skipped. Run it every few minutes from cron "
        "or a systemd timer (see README, 'Events'). Prints how many events were warned and escalated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="check as of this ISO time (e.g. 2026-03-02T09:00+08:00) instead of now; for catching up and tests")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (cron logs)")

    def handle(self, *args, now=None, no_progress=False, verbosity=1, **options):
        if now:
            parsed = parse_datetime(now)
            if parsed is None:
                raise CommandError(f"--now: not an ISO date-time: {now!r}")
            now = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        def progress(items, desc):
            return tqdm(items, desc=desc, unit="event", file=self.stderr._out, leave=False, disable=None)
        # Each event is its own transaction: a connection lost halfway keeps the events done so
        # far, loses the one in hand whole, and a rerun finishes the rest (exit code 75).
        with database_guard("the database connection was lost during the deadline job; the events "
                            "checked before it are done, none is half done"):
            done = services.check_deadlines(now=now, progress=None if no_progress or verbosity == 0 else progress)
        self.stdout.write(f"warned {done['warned']}, escalated {done['escalated']}")
