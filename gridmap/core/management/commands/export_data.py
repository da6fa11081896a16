"""export_data KIND OUT: write a register to GeoJSON, GeoPackage or CSV (see --help)."""
from django.core.management.base import BaseCommand, CommandError

from gridmap.core.io.export import FORMATS, export_file
from gridmap.core.io.reading import FileRefused
from gridmap.core.io.registers import REGISTERS
from gridmap.core.services import log_export

# Registers whose rows carry citizen ID numbers or private phones (the person's own, an owner's,
# a tenant's, a household member's, the visited person's): each export is an access-log row.
SENSITIVE_KINDS = {"persons", "households", "dwellings", "rented_dwellings", "visits"}


class Command(BaseCommand):
    help = (
        "Export a register in the columns import_data reads, so the file imports back unchanged. "
        f"Formats by suffix: {', '.join(FORMATS)}. Geometry is WGS84 (EPSG:4326); in CSV it is a 'wkt' "
        "column, or 'lon'/'lat' columns for point registers. Located registers add 'grid_code' "
        "(ignored on import: the grid is always computed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(REGISTERS), help="register to write")
        parser.add_argument("out", help="output file (.geojson, .gpkg or .csv); replaced if it exists")

    def handle(self, kind, out, **options):
        try:
            n = export_file(kind, out)
        except FileRefused as exc:
            raise CommandError(str(exc)) from None
        if kind in SENSITIVE_KINDS:
            log_export(None, REGISTERS[kind].model._meta.label_lower, n, f"export {kind}: {n} rows")
        self.stdout.write(f"{kind}: wrote {n} row(s) to {out}")
