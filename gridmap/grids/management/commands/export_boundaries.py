from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from gridmap.core import clock
from gridmap.core.io.reading import FileRefused
from gridmap.grids import selectors
from gridmap.grids.boundary_files import write_set
from gridmap.grids.models import GridLayer, Level


class Command(BaseCommand):
    help = ("Write the boundaries in force at a moment (default: now) to a GeoJSON, GeoPackage or "
            "Shapefile (by the file's suffix): code, name, parent, version, valid_from/valid_to, reason.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as-of", dest="as_of", help="a date (end of that day, Asia/Shanghai) or ISO date-time")
        parser.add_argument("--level", choices=Level.values, default=Level.GRID)
        parser.add_argument("--layer", help="grid layer code (default: the primary layer)")

    def handle(self, path, as_of=None, level=Level.GRID, layer=None, **options):
        when = clock.now()
        if as_of:
            when = parse_datetime(as_of)
            if when is None and parse_date(as_of) is not None:
                when = clock.end_of_day(parse_date(as_of))
            if when is None:
                raise CommandError(f"--as-of {as_of!r} is neither a date nor an ISO date-time")
        layer_obj = GridLayer.objects.filter(code=layer).first() if layer else None
        if layer and layer_obj is None:
            raise CommandError(f"no grid layer {layer!r}")
        try:
            n = write_set(path, selectors.areas_as_of(when, level, layer_obj).order_by("area__code"))
        except FileRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{n} boundaries as of {when:%Y-%m-%d %H:%M %Z} written to {path}"))
