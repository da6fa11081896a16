"""manage.py import_calendar — enter a year's holiday arrangement (节假日安排) from a CSV file."""
import argparse
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from gridmap.events import services
from gridmap.events.calendar import CalendarFileError, package_covers, parse_calendar_csv


class HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's options order, the description as written."""


class Command(BaseCommand):
    help = """Enter one year's public holidays and make-up working days (调休) from a CSV file, as
the State Council publishes them: for a year the chinesecalendar package does not
cover yet (manage.py calendar_status lists the missing ones), or to override a
year it does.

The file (UTF-8; Excel: "CSV UTF-8") has a header row, then one row per day that
differs from the plain Monday-Friday week, every date in the same year:

  date,is_workday,name
  2027-02-08,0,春节          a holiday on a weekday
  2027-01-31,1,春节调休      a make-up working day on a weekend

  date        YYYY-MM-DD
  is_workday  1/0, true/false, yes/no or 班/休
  name        optional, up to 40 characters
Lines starting with # are comments. Example:
gis_data/templates/calendar_2027_example.csv

All or nothing, in one transaction: the year's existing calendar days are
replaced by the file's and the year is recorded as entered. A bad file stores
nothing, and every bad row is reported with its row number and field. Due times
computed from then on are no longer provisional for that year.
"""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = HelpFormatter  # keep the file's layout above
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file (date,is_workday,name)")
        parser.add_argument("--year", type=int, help="the year the file must hold (default: the year of its first row)")
        parser.add_argument("--user", help="username recorded as having entered the year")
        parser.add_argument("--source", help="where the arrangement comes from, e.g. 国办发明电〔2026〕N号 (default: the file name)")
        parser.add_argument("--dry-run", action="store_true", help="check the file and say what it would do; store nothing")

    def handle(self, *args, file, year=None, user=None, source=None, dry_run=False, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot read it ({exc.strerror})") from None
        try:
            year, days = parse_calendar_csv(data, year)
        except CalendarFileError as exc:
            raise CommandError(f"{file}: nothing stored, {len(exc.problems)} problem(s):\n" + "\n".join(exc.problems)) from None
        entered_by = None
        if user:
            entered_by = get_user_model().objects.filter(username=user).first()
            if entered_by is None:
                raise CommandError(f"--user: no user {user!r}")
        off = sum(1 for d, work, _ in days if not work and d.weekday() < 5)
        on = sum(1 for d, work, _ in days if work and d.weekday() >= 5)
        summary = f"{year}: {len(days)} days ({off} holidays on weekdays, {on} make-up working days on weekends)"
        if package_covers(year):
            summary += f"; chinesecalendar also covers {year}: these rows override it"
        if dry_run:
            self.stdout.write(f"{summary}; dry run, nothing stored")
            return
        try:
            done = services.enter_calendar_year(year, days, source=source or f"CSV {path.name}", user=entered_by)
        except ValidationError as exc:
            raise CommandError(f"{file}: nothing stored: {'; '.join(exc.messages)}") from None
        self.stdout.write(self.style.SUCCESS(f"{summary}; entered, replacing {done['replaced']} earlier rows"))
