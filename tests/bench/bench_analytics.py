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
    from django.core.cache import cache
    from django.contrib.gis.geos import Polygon
    from django.db.models import Count

    from gridmap.analytics import dashboards, heatmap, hotspots, periods
    from gridmap.analytics.selection import Selection, events
    from gridmap.events.models import Category
    from gridmap.grids.models import Area, Level

    cache.clear()
    district = Area.objects.get(level=Level.DISTRICT)
    w, s, e, n = district.boundary.extent
    street = Area.objects.filter(level=Level.STREET).order_by("code").first()
    disputes = Category.objects.get(code="01")
    ids = tuple(sorted(Category.objects.filter(parent=disputes).values_list("id", flat=True)) + [disputes.id])
    filters = {
        "all events, 2 years": Selection(area=None, period=periods.days(*_span())),
        "disputes, last quarter": Selection(area=None, period=periods.named("last_quarter"), category_codes=("01",), category_ids=ids),
    }
    cx, cy = street.boundary.centroid.coords
    # a 1280 × 800 screen at zoom 16 (street zoom) around a street's centre
    half_w, half_h = 640 * heatmap.TILE_M_PER_PX_EQUATOR / 2 ** 16 / 111_320, 400 * heatmap.TILE_M_PER_PX_EQUATOR / 2 ** 16 / 111_320
    viewport = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    district_zoom = _zoom_to_fit((w, s, e, n))
    figures = []
    print(f"district extent {e - w:.3f}° × {n - s:.3f}°: zoom {district_zoom} on a 1280 × 800 screen; "
          f"street viewport at zoom 16 around {street.name}")
    for label, sel in filters.items():
        print(f"\n-- {label} ({sel.period.label})")
        ref_ms, count = bare_count_ms(events(sel), runs)
        ms = median_ms(lambda: heatmap.bins(sel, heatmap.EVENTS, (w, s, e, n), district_zoom), runs)
        answer = heatmap.bins(sel, heatmap.EVENTS, (w, s, e, n), district_zoom)
        assert answer["total"] == count, (answer["total"], count)  # the bins hold every event of the filter
        figures.append(_line(f"bins, whole district ({len(answer['bins'])} bins of {answer['bin']['size_m']:.0f} m)",
                             ms, ref_ms, count, "bins_district"))
        naive_ms = median_ms(lambda: _naive_bins(sel, answer["bin"]), runs)
        print(f"   {'reference: floor(x/d) GROUP BY over the same events':<58} {naive_ms:8.1f} ms   bins are "
              f"{ms / naive_ms:.2f}× it")

        box = Polygon.from_bbox(viewport)
        vref_ms, vcount = bare_count_ms(events(sel).filter(point__bboverlaps=box), runs)
        ms = median_ms(lambda: heatmap.bins(sel, heatmap.EVENTS, viewport, 16), runs)
        answer = heatmap.bins(sel, heatmap.EVENTS, viewport, 16)
        figures.append(_line(f"bins, street viewport ({len(answer['bins'])} bins of {answer['bin']['size_m']:.0f} m)",
                             ms, vref_ms, vcount, "bins_viewport"))

        dashboards.dashboard(sel)  # warm: the statements once before the clock starts
        ms = median_ms(lambda: dashboards.dashboard(sel), runs)
        figures.append(_line("dashboard, district (warm)", ms, ref_ms, count, "dashboard_district"))

        params = hotspots.Params()
        cache.clear()
        started = time.perf_counter()
        answer = hotspots.hotspots(sel, params)
        cold = (time.perf_counter() - started) * 1000
        ms = median_ms(lambda: hotspots.hotspots(sel, params), runs)
        print(f"   Gi* first call (spatial weights built and cached): {cold:,.0f} ms")
        figures.append(_line(f"Gi* over all {len(answer['features']):,} grids ({params.weights}, FDR)", ms, ref_ms, count,
                             "gi_star_grids"))
    missed = [f for f in figures if not f]
    print(f"\n{len(figures) - len(missed)} of {len(figures)} figures within their targets")


def _naive_bins(sel, bin_: dict) -> None:
    """The plainest binning of the same events: floor(x/d), floor(y/d), count(*) … GROUP BY."""
    from django.db import connection

    categories = "AND category_id = ANY(%s)" if sel.category_ids else ""
    with connection.cursor() as cur:
        cur.execute(f"SELECT floor(ST_X(point) / %s), floor(ST_Y(point) / %s), count(*) FROM events_event "
                    f"WHERE reported_at >= %s AND reported_at < %s {categories} GROUP BY 1, 2",
                    [bin_["dlon"], bin_["dlat"], sel.period.start, sel.period.end] + ([list(sel.category_ids)] if categories else []))
        cur.fetchall()


def _line(label: str, ms: float, ref_ms: float, count: int, target: str) -> bool:
    ok = ms < TARGETS_MS[target]
    print(f"   {label:<58} {ms:8.1f} ms   bare count {ref_ms:7.1f} ms ({count:,} events)   "
          f"{ms / ref_ms:5.2f}× the count   target < {TARGETS_MS[target]} ms {'met' if ok else 'MISSED'}")
    return ok


def _zoom_to_fit(bbox, width_px: int = 1280, height_px: int = 800) -> int:
    """The largest whole zoom at which the box fits the screen (as Leaflet's fitBounds picks)."""
    import math

    w, s, e, n = bbox
    cos = math.cos(math.radians((s + n) / 2))
    z_w = math.log2(width_px * 360 / (256 * (e - w)))
    z_h = math.log2(height_px * 360 * cos / (256 * (n - s)))
    return int(min(z_w, z_h))


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
