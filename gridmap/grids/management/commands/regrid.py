import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from gridmap.core.commands import database_guard
from gridmap.grids import services


class Command(BaseCommand):
    help = (
        "Re-place every located record in its primary-layer grid, set-based in PostGIS "
        "(buildings, organisations, facilities by their point; dwellings, households and persons "
        "through their building; visits by their GPS point). Safe to run at any time; only rows "
        "whose grid changes are written. Records outside every grid are left unassigned (grid empty)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--table", action="append", choices=services.POINT_PLACED,
            help="only re-place this table (repeatable); the cascade to dwellings and people always runs",
        )
        parser.add_argument(
            "--cluster", action="store_true",
            help="first rewrite the tables in the order of their location index (CLUSTER): faster "
                 "placement at city scale, but locks each table while it runs (maintenance window)",
        )

    def handle(self, *args, table=None, cluster=False, **options):
        # regrid is one transaction: a connection lost halfway moves no record (exit code 75).
        with database_guard("the database connection was lost during regrid; no record was moved"):
            self._regrid(table, cluster, **options)

    def _regrid(self, table, cluster, **options):
        started = time.perf_counter()
        if cluster:
            services.cluster_by_location(table)
        steps = len(table or services.POINT_PLACED) + len(services.CASCADE_TABLES)
        with tqdm(total=steps, desc="regrid", unit="table", disable=options["verbosity"] == 0) as bar:
            result = services.regrid(tables=table, on_step=lambda name, rows: (bar.set_postfix_str(name), bar.update()))
        for name, count in result.changed.items():
            self.stdout.write(f"{name:24s} {count:>9,d} rows moved")
        self.stdout.write(self.style.SUCCESS(f"{result.total:,d} rows moved in {time.perf_counter() - started:.1f}s"))
