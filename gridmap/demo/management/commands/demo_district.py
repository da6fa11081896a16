"""manage.py demo_district: generate and load the seeded demo district (演示区)."""
import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gridmap.demo import selectors, services


def _scale(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1000:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Generate a whole demo district (演示区, at Shenzhen Nanshan, county code 440305) from a seed and load "
        "it into an empty database: district → streets → communities → grids (CJ/T 213 codes, no gaps or "
        "overlaps) with named leaders and workers, a second grid layer (城管网格, layer `urban`: each "
        "community cut into strips, each with its leader), buildings, dwellings by unit and floor, households and "
        "people with valid GB 11643 ID numbers, rented rooms, welfare and special-group records, "
        "organisations with GB 32100 credit codes, facilities, inspections, visits, and staff accounts for "
        "every role (see `demo_logins`). The same --seed, --scale and --today always give the same "
        "district. A few records lie outside every grid on purpose: the unassigned queue. "
        "--status prints what is loaded, or nothing when the area tree is empty."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--scale", type=_scale, default=1.0,
            help="1 (default): one street, 6 communities, about 20 grids, 400 buildings, 8,000 households, "
                 "20,000 people, 300 organisations, 500 facilities. N ≥ 1: N such streets (10, 100 for "
                 "benchmarks; at 10 about 200,000 people). Below 1, for tests and quick looks: one street of "
                 "max(2, round(6 × scale)) communities × 2 grids sharing about 8,000 × scale households "
                 "(0.05: 4 grids, 400 households).",
        )
        parser.add_argument("--areas-only", action="store_true",
                            help="load only the area tree with its boundary versions and staff (geocoding benchmarks)")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="the date ages, leases and visit dates count from, YYYY-MM-DD (default: today)")
        parser.add_argument("--county", default="440305", help="6-digit GB/T 2260 county code the codes start with (default 440305)")
        parser.add_argument("--status", action="store_true", help="print what is loaded and exit; prints nothing if the database is empty")

    def handle(self, *args, seed, scale, areas_only, today, county, status, **options):
        if status:
            counts = selectors.summary()
            if counts:
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            return
        started = time.monotonic()
        stages = services.stages(scale, areas_only)
        with tqdm(total=len(stages), desc="demo district", unit="step", disable=options["verbosity"] == 0) as bar:
            def on_stage(stage):
                if stage != stages[0]:
                    bar.update(1)
                bar.set_postfix_str(stage)

            try:
                services.load_demo_district(seed=seed, scale=scale, today=today, county=county, areas_only=areas_only,
                                            on_stage=on_stage)
            except ValidationError as e:
                raise CommandError("; ".join(e.messages)) from None
            bar.update(1)
        counts = selectors.summary()
        self.stdout.write(self.style.SUCCESS(
            f"loaded in {time.monotonic() - started:.1f} s: " + ", ".join(f"{k}: {v}" for k, v in counts.items())))
