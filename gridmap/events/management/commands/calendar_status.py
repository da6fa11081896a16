"""manage.py calendar_status — which years the working-day calendar knows; non-zero when one deadlines need is missing."""
import chinese_calendar
from django.core.management.base import BaseCommand, CommandError

from gridmap.events.calendar import TZ, missing_years, package_years, required_years
from gridmap.events.models import CalendarDay, CalendarYear, Event
from gridmap.events.workflow import FINAL_STATES


class Command(BaseCommand):
    help = (
        "Print the years the working-day calendar knows: those the chinesecalendar package covers, "
        "those the centre entered (manage.py import_calendar), and how many local override days each "
        "year has. Deadlines need this year and, from 1 December, the next one; when one of them is "
        "known to neither, deadlines over it count weekends only and are marked provisional. Then "
        "this command names the missing year on stderr and exits with status 1 (use it in monitoring); "
        "else it exits 0."
    )

    def handle(self, *args, **options):
        years = package_years()
        version = getattr(chinese_calendar, "__version__", "?")
        self.stdout.write(f"chinesecalendar {version}: {years.start}–{years.stop - 1}" if years else
                          f"chinesecalendar {version}: no years")
        for entry in CalendarYear.objects.select_related("entered_by"):
            who = f" by {entry.entered_by.username}" if entry.entered_by else ""
            self.stdout.write(f"entered {entry.year}: {entry.source or '-'}{who}, "
                              f"{entry.entered_at.astimezone(TZ):%Y-%m-%d %H:%M}")
        counts = {}
        for day in CalendarDay.objects.values_list("date", flat=True):
            counts[day.year] = counts.get(day.year, 0) + 1
        for year, n in sorted(counts.items()):
            self.stdout.write(f"local days {year}: {n}")
        provisional = Event.objects.filter(due_provisional=True).exclude(status__in=FINAL_STATES).count()
        if provisional:
            self.stdout.write(f"open events with a provisional due time: {provisional}")
        needed, missing = required_years(), missing_years()
        if missing:
            raise CommandError(
                f"working-day calendar: no holiday arrangement for {', '.join(map(str, missing))} "
                f"(needed: {', '.join(map(str, needed))}); deadlines over it are provisional. "
                "Enter it: manage.py import_calendar FILE.csv", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"ok: {', '.join(map(str, needed))} known"))
