"""import_data KIND FILE: load a register from a GIS file or a table (see --help)."""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gridmap.core.commands import database_guard
from gridmap.core.geo import GeoError
from gridmap.core.io.columns import PRESETS
from gridmap.core.io.reading import FileRefused
from gridmap.core.io.registers import REGISTERS
from gridmap.core.io.services import ImportRefused, import_file


class Command(BaseCommand):
    help = (
        "Import a register from a file. Spatial registers (areas, buildings, organisations, facilities) "
        "read GeoJSON, Shapefile or GeoPackage (or CSV/XLSX with a 'wkt' column or 'lon'/'lat' columns); "
        "tabular ones (dwellings, rented_dwellings, households, persons, visits) read CSV or XLSX. Column "
        "names are those export_data writes. Rows with errors are not loaded and are listed (row as seen in "
        "the file: the line for CSV/XLSX, the feature number for GIS files); the good rows are loaded. Rows "
        "are matched on their natural key (code, ID number, building_code/unit/room…) and updated if they "
        "exist. The whole import is one transaction: if it fails, nothing is stored. Buildings need only a "
        "footprint: with no code one is derived (osm-w123 from an OpenStreetMap id, else geo-<hash of the "
        "footprint>, the same in every import); with no name the map shows the address or code; floors may be "
        "3.5 or '3;4' (the largest), else come from height_m at about 3 m a floor, else stay unknown. "
        "Other headers: --map SOURCE=DESTINATION, or --columns osm for OpenStreetMap tags (see gis_data/README.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(REGISTERS), help="register to load")
        parser.add_argument("file", help="input file (.geojson .json .shp .gpkg .csv .xlsx)")
        parser.add_argument("--crs", help="CRS of the coordinates, e.g. EPSG:4490 or EPSG:4547; overrides what "
                            "the file declares; needed when a GIS file declares none. CSV/XLSX default to EPSG:4326")
        parser.add_argument("--gcj02", action="store_true", help="coordinates are GCJ-02 (Chinese web maps: "
                            "Amap/Gaode, Tencent); convert them to WGS84")
        parser.add_argument("--strict", action="store_true", help="refuse the whole file if any row is bad")
        parser.add_argument("--layer", help="layer of a multi-layer GeoPackage, or sheet of an XLSX workbook")
        parser.add_argument("--errors", metavar="REPORT.csv", help="write every refused or repaired row to this CSV")
        parser.add_argument("--columns", choices=sorted(PRESETS), help="a preset column mapping: osm reads the "
                            "OpenStreetMap tags of building footprints: " + ", ".join(
                                f"{s}→{d}" for s, d in PRESETS["osm"]["buildings"]))
        parser.add_argument("--map", action="append", default=[], metavar="SOURCE=DESTINATION",
                            help="read the file's column SOURCE as DESTINATION (repeatable), e.g. --map "
                            "building:levels=floors_above --map 名称=name; several sources for one destination: the "
                            "first non-empty wins; SOURCE a+b joins two columns (addr:street+addr:housenumber=address); "
                            "overrides the preset's sources for DESTINATION")

    def handle(self, kind, file, crs, gcj02, strict, layer, errors, columns, map, **options):
        # One transaction: a connection lost halfway leaves nothing of the file (exit code 75).
        with database_guard(f"{file}: the database connection was lost during the import; "
                            "nothing from this file was stored"):
            self._import(kind, file, crs, gcj02, strict, layer, errors, columns, map, **options)

    def _import(self, kind, file, crs, gcj02, strict, layer, errors, columns, map, **options):
        with tqdm(total=3, desc=f"import {kind}", unit="stage", disable=options["verbosity"] < 1, file=self.stderr) as bar:
            def step(name):
                bar.set_postfix_str(name)
                bar.update()
            try:
                report = import_file(kind, file, crs=crs, gcj02=gcj02, strict=strict, layer=layer,
                                     columns=columns, mapping=map, on_step=step)
            except ImportRefused as exc:
                if errors:
                    exc.report.write_csv(errors)
                raise CommandError(str(exc)) from None
            except (FileRefused, GeoError) as exc:
                raise CommandError(f"{file}: {exc}; nothing was stored") from None
        if errors:
            report.write_csv(errors)
        self.stdout.write(f"{kind}: read {report.read}, loaded {report.loaded}, "
                          f"refused {len(report.errors)} row(s), repaired {len(report.repairs)}")
        if report.ignored:
            self.stdout.write(f"  columns not read: {', '.join(report.ignored)} (--map SOURCE=DESTINATION reads one)")
        for issue in report.issues[:20]:
            what = "repaired" if issue.repaired else "refused"
            at = f" at {issue.coordinate}" if issue.coordinate else ""
            self.stdout.write(f"  row {issue.row} {issue.field}: {what}: {issue.reason}{at}")
        if len(report.issues) > 20:
            self.stdout.write(f"  … {len(report.issues) - 20} more" + (f" in {errors}" if errors else "; use --errors FILE"))
