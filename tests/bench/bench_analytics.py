"""Analytics benchmark (issue 13): 1,000,000 events in the ×100 demo district.

Timed, each against the bare `SELECT count(*)` over the same filter measured in the same run:
heat bins for the whole district and for a street's viewport, the district dashboard (warm:
its statements run once before the clock starts, the answer cache off), Gi* over all grids.
Targets: bins < 200 ms (district), < 50 ms (viewport); dashboard < 500 ms warm; Gi* < 2 s.

The scratch database is the ×100 demo: copied from the boundary benchmark's kept database
when there is one (--from), else loaded (35–50 min); the events are topped up to --events by
set-based INSERTs (_bench_events.py). Keep it with --keep and reuse it with --reuse.
Run: scripts/gridmap bench tests/bench/bench_analytics.py [--reuse] [--keep] [--runs 5]
"""
import argparse
import statistics
import time

from _benchdb import copy_database, drop_database, load_demo, use_scratch_database

DB = "gridmap_bench_analytics"
TARGETS_MS = {"bins_district": 200, "bins_viewport": 50, "dashboard_district": 500, "gi_star_grids": 2000}


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bare_count_ms(qs, runs: int) -> tuple[float, int]:
    """The reference: SELECT count(*) over the same events."""
    n = qs.count()
    return median_ms(qs.count, runs), n


def run(runs: int) -> None:
    from gridmap.analytics import periods
    from gridmap.analytics.selection import Selection, events

    everything = Selection(area=None, period=periods.days(*_span()))
    ms, n = bare_count_ms(events(everything), runs)
    print(f"bare count, whole district, {everything.period.label}: {n:,} events in {ms:.1f} ms")


def _span():
    from django.db.models import Max, Min
    from django.utils import timezone

    from gridmap.events.models import Event

    span = Event.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
    return timezone.localdate(span["first"]), timezone.localdate(span["last"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the table (topped up)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each step (median)")
    parser.add_argument("--from", dest="source", default="gridmap_bench_boundaries",
                        help="copy the ×100 demo from this kept database when it exists")
    parser.add_argument("--reuse", action="store_true", help="reuse the scratch database of an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    if not args.reuse:
        args.reuse = copy_database(args.source, DB)
    use_scratch_database(DB, fresh=not args.reuse)
    load_demo(DB, args.scale, args.seed, args.reuse)

    from _bench_events import top_up
    top_up(args.events)

    try:
        run(args.runs)
    finally:
        if not args.keep:
            drop_database(DB)


if __name__ == "__main__":
    main()
