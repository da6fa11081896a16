"""Boundary benchmark (issue 12): committed boundary changes at the ×100 demo district.

(1) Split one grid: proposals.split along the east–west line that halves its households best
    without crossing a building; the impact preview (selectors.impact) and the commit
    (services.commit_redraw). Target: commit < 500 ms.
(2) Redraw every grid of one street in one commit: proposals.import_set with each grid of the
    street reshaped — every vertex inside a community moved east and north by up to --shift
    metres, those on a community's outline kept, so shared edges move and the grids still tile
    their communities — then the preview and the commit, timed per step.
(3) The naive reference, in the same run over the same rows ((a) each run right after one of the
    commit's, so a change in the machine's load weighs on both alike; (b) after them): the new boundaries written
    straight into grids_area, then a plain `UPDATE … SET grid_id = g.id FROM grids_area g WHERE
    ST_Intersects(g.boundary, t.location)` per located table, limited to the changed ground,
    (a) with the row triggers cascading to dwellings, households and people, and (b) with the
    triggers aside and the cascade as plain UPDATEs over the dependants of those buildings; the
    faster of the two is the reference. Targets: the street's re-geocoding ≥ 150,000 rows/s and
    ≥ 1.5× the reference — judged on the re-geocoding inside the commit (regrid: the work the
    reference does), and printed for the whole commit too (with the topology check on fresh
    sheets, the boundary versions and the open events that follow).

Rows re-geocoded: the rows whose grid is recomputed by the change — the located rows in the
changed ground (old and new shapes of the changed grids: buildings, organisations, facilities,
visits with a GPS point) and the dwellings, households and people of those buildings — the
same count for the commit and the reference. Rows moved: those whose grid actually changed.
After each commit the ground is checked: rows placed against gridmap_grid_at (the row
triggers' rule) or against their building are counted ("placed wrong", 0 when right).

Every timed run is inside a transaction that is rolled back (deferred constraints checked
before the clock stops), so the database stays as loaded and runs can repeat; each figure is
the median of --runs. A benchmark, not a test: it asserts nothing about speed.

Loading the ×100 demo takes 35–50 min here: keep it with --keep and reuse it with --reuse.
Run: scripts/gridmap bench tests/bench/bench_boundaries.py [--scale 100] [--reuse] [--keep] [--runs 5]
"""
import argparse
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import replace

from _benchdb import drop_database, load_demo, use_scratch_database

DB = "gridmap_bench_boundaries"
COMMIT_TARGET_MS = 500
RATE_TARGET = 150_000
RATIO_TARGET = 1.5
M_PER_DEG_LAT = 110_540.0


# --- timing ---------------------------------------------------------------------------------

class Steps:
    """Wall time per named step of a commit, by wrapping module attributes for the run."""

    def __init__(self):
        self.seconds = defaultdict(float)

    @contextmanager
    def watching(self, targets):
        undo = []
        for owner, name, label in targets:
            if isinstance(owner, dict):  # a follower: frozen, so swapped for a copy with a timed `follow`
                original = owner[name]
                owner[name] = replace(original, follow=self._wrap(original.follow, label))
                undo.append(lambda owner=owner, name=name, original=original: owner.__setitem__(name, original))
            else:
                original = getattr(owner, name)
                setattr(owner, name, self._wrap(original, label))
                undo.append(lambda owner=owner, name=name, original=original: setattr(owner, name, original))
        try:
            yield self
        finally:
            for restore in undo:
                restore()

    def _wrap(self, fn, label):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
        return timed


def commit_steps():
    """What commit_redraw spends its time on: the sheets of the topology check, the impact
    preview, the boundary versions, the re-placement and the followers (open events)."""
    from gridmap.grids import followers, selectors, services, topology

    targets = [(selectors, "grid_sheets", "sheets (topology check)"), (topology.Sheet, "check", "topology check"), (selectors, "impact", "impact preview"),
               (services, "_new_versions", "boundary versions"), (services, "regrid", "regrid")]
    return targets + [(followers.FOLLOWERS, key, f"follower {key}") for key in followers.FOLLOWERS]


def rolled_back(fn, *, steps: Steps | None = None):
    """Run `fn` in a transaction that is rolled back; (seconds, result), deferred constraints
    checked inside the time."""
    from django.db import connection, transaction

    with transaction.atomic():
        started = time.perf_counter()
        if steps is None:
            result = fn()
        else:
            with steps.watching(commit_steps()):
                result = fn()
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, result


def median_run(fn, runs: int, *, steps: bool = False, between=None):
    """Median seconds of `runs` rolled-back runs, the last result, and the median per step;
    `between()` after each run (what is compared with it, run in turn with it)."""
    times, results, per_step = [], [], defaultdict(list)
    for _ in range(runs):
        watch = Steps() if steps else None
        seconds, result = rolled_back(fn, steps=watch)
        times.append(seconds)
        results.append(result)
        if watch:
            for label, s in watch.seconds.items():
                per_step[label].append(s)
        if between:
            between()
    return statistics.median(times), results[-1], {k: statistics.median(v) for k, v in per_step.items()}


# --- what the changes are -------------------------------------------------------------------

def split_proposal(street):
    """The street's grid with most households, split along the east–west line that halves its
    households best among those that cross no building (the topology check has no error and
    nothing to warn of there)."""
    import shapely
    from django.core.exceptions import ValidationError
    from django.db.models import Count

    from gridmap.grids import proposals, selectors
    from gridmap.grids.models import Area
    from gridmap.people.models import Household

    top = (Household.objects.filter(grid__layer__is_primary=True, grid__path__startswith=street.path, grid__retired_at__isnull=True)
           .values("grid").annotate(n=Count("id")).order_by("-n", "grid__code").first())
    grid = Area.objects.get(pk=top["grid"])
    sheet = selectors.sheet(grid.parent, grid.layer)
    west, south, east, north = proposals.shape_of(grid.boundary).bounds
    best, halves = None, -1
    for k in range(5, 96):  # every 1% of the height
        y = south + (north - south) * k / 100
        try:
            proposal = proposals.split(grid, shapely.LineString([(west - 0.001, y), (east + 0.001, y)]))
        except ValidationError:  # the line does not cut it in two here
            continue
        smaller = min(sheet.households(c.shape) for c in proposal.changes)
        if smaller > halves and not [f for f in proposal.check() if f.severity == "error" or f.kind == "through_building"]:
            best, halves = proposal, smaller
    if best is None:
        raise SystemExit(f"no clean east–west split of {grid.code} found")
    return grid, best


def street_proposal(street, shift_m: float, ramp_m: float):
    """Every primary grid of `street` reshaped: each vertex moved east and north by up to
    `shift_m`, in full from `ramp_m` inside its community's outline, not at all on it. One map
    for every grid, so a vertex two grids share moves alike in both and they still tile."""
    import numpy as np
    import shapely

    from gridmap.grids import proposals
    from gridmap.grids.models import Area, GridLayer, Level

    layer = GridLayer.objects.get(is_primary=True)
    grids = list(Area.objects.filter(level=Level.GRID, layer=layer, path__startswith=street.path, retired_at__isnull=True)
                 .select_related("parent").order_by("code"))
    outlines = {}
    features = []
    for g in grids:
        if g.parent_id not in outlines:
            outlines[g.parent_id] = proposals.shape_of(g.parent.boundary).boundary
        outline = outlines[g.parent_id]
        lat = outline.centroid.y
        m_per_deg_lon = M_PER_DEG_LAT * np.cos(np.radians(lat))

        def move(xy, outline=outline, m_per_deg_lon=m_per_deg_lon):
            d = shapely.distance(shapely.points(xy), outline)  # degrees, near enough for a ramp
            w = np.clip(d * M_PER_DEG_LAT / ramp_m, 0, 1)
            return np.column_stack([xy[:, 0] + w * shift_m / m_per_deg_lon, xy[:, 1] + w * shift_m * 0.7 / M_PER_DEG_LAT])

        features.append((g.code, g.name, shapely.transform(proposals.shape_of(g.boundary), move)))
    proposal = proposals.import_set(layer, features)
    errors = [f.message for f in proposal.check() if f.severity == "error"]
    if errors:
        raise SystemExit("the street's redraw does not pass the topology check: " + "; ".join(errors[:5]))
    return grids, proposal


# --- rows in the changed ground -------------------------------------------------------------

LOCATED = ["places_building", "places_organisation", "places_facility", "people_visit"]
DEPENDANTS = {
    "places_dwelling": "SELECT d.id FROM places_dwelling d JOIN _ground_buildings b ON b.id = d.building_id",
    "people_household": """SELECT h.id FROM people_household h JOIN places_dwelling d ON d.id = h.dwelling_id
                           JOIN _ground_buildings b ON b.id = d.building_id""",
    "people_person": """SELECT p.id FROM people_person p JOIN places_dwelling d ON d.id = p.dwelling_id
                        JOIN _ground_buildings b ON b.id = d.building_id""",
}


def ground_rows(extent_wkb: bytes) -> dict[str, int]:
    """Rows whose grid a change over `extent` recomputes, per table (see the module's note)."""
    from django.db import connection, transaction

    counts = {}
    with transaction.atomic(), connection.cursor() as cur:
        for table in LOCATED:
            cur.execute(f"SELECT count(*) FROM {table} WHERE ST_Intersects(location, ST_GeomFromWKB(%s, 4326))", [extent_wkb])
            counts[table] = cur.fetchone()[0]
        cur.execute("""CREATE TEMP TABLE _ground_buildings ON COMMIT DROP AS SELECT id FROM places_building
                       WHERE ST_Intersects(location, ST_GeomFromWKB(%s, 4326))""", [extent_wkb])
        for table, sql in DEPENDANTS.items():
            cur.execute(f"SELECT count(*) FROM ({sql}) s")
            counts[table] = cur.fetchone()[0]
        cur.execute("DROP TABLE _ground_buildings")
    return counts


# --- the naive reference --------------------------------------------------------------------

NAIVE_PLACE = """UPDATE {table} t SET grid_id = g.id FROM grids_area g JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
                 WHERE g.level = 'grid' AND ST_Intersects(g.boundary, t.location)
                   AND ST_Intersects(t.location, ST_GeomFromWKB(%s, 4326))"""
NAIVE_CASCADE = [
    """UPDATE places_dwelling d SET grid_id = b.grid_id FROM places_building b
       WHERE b.id = d.building_id AND ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326))""",
    """UPDATE people_household h SET grid_id = d.grid_id FROM places_dwelling d JOIN places_building b ON b.id = d.building_id
       WHERE d.id = h.dwelling_id AND ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326))""",
    """UPDATE people_person p SET grid_id = d.grid_id FROM places_dwelling d JOIN places_building b ON b.id = d.building_id
       WHERE d.id = p.dwelling_id AND ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326))""",
]


def naive(proposal, extent_wkb: bytes, *, triggers: bool):
    """The proposal's shapes written straight into grids_area (not timed), then the plain
    UPDATEs over the changed ground (timed). Returns a function for `median_run`."""
    import shapely
    from django.db import connection

    def run():
        with connection.cursor() as cur:
            for c in proposal.changes:
                cur.execute("UPDATE grids_area SET boundary = %s WHERE id = %s",
                            [None if c.shape is None else f"SRID=4326;{shapely.to_wkt(shapely.multipolygons([c.shape]) if c.shape.geom_type == 'Polygon' else c.shape)}",
                             c.grid.pk])
            started = time.perf_counter()
            if not triggers:
                cur.execute("SET LOCAL gridmap.bulk = 'on'")
            for table in LOCATED:
                cur.execute(NAIVE_PLACE.format(table=table), [extent_wkb])
            if not triggers:
                for sql in NAIVE_CASCADE:
                    cur.execute(sql, [extent_wkb])
            return time.perf_counter() - started

    return run


# --- report ---------------------------------------------------------------------------------

def ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


# After a commit, rows of the changed ground whose grid disagrees with the placement rule
# (gridmap_grid_at, what the row triggers use) or with what they stand on: 0 when it is right.
WRONG = {
    **{table: f"""SELECT count(*) FROM {table} t WHERE ST_Intersects(t.location, ST_GeomFromWKB(%s, 4326))
                  AND t.grid_id IS DISTINCT FROM gridmap_grid_at(t.location)""" for table in LOCATED},
    "places_dwelling": """SELECT count(*) FROM places_dwelling d JOIN places_building b ON b.id = d.building_id
                          WHERE ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326)) AND d.grid_id IS DISTINCT FROM b.grid_id""",
    "people_household": """SELECT count(*) FROM people_household h JOIN places_dwelling d ON d.id = h.dwelling_id
                           JOIN places_building b ON b.id = d.building_id
                           WHERE ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326)) AND h.grid_id IS DISTINCT FROM d.grid_id""",
    "people_person": """SELECT count(*) FROM people_person p JOIN places_dwelling d ON d.id = p.dwelling_id
                        JOIN places_building b ON b.id = d.building_id
                        WHERE ST_Intersects(b.location, ST_GeomFromWKB(%s, 4326)) AND p.grid_id IS DISTINCT FROM d.grid_id""",
}


def outcome(commit, extent_wkb: bytes) -> tuple[dict[str, int], int]:
    """Rows per table whose grid the commit changes, and rows of the ground placed wrong after
    it (every placed row's grid kept, the commit run, compared, checked, all rolled back)."""
    from django.db import connection, transaction

    tables = LOCATED + list(DEPENDANTS)
    with transaction.atomic(), connection.cursor() as cur:
        for table in tables:
            cur.execute(f"CREATE TEMP TABLE _was_{table} ON COMMIT DROP AS SELECT id, grid_id FROM {table}")
        commit()
        moved, wrong = {}, 0
        for table in tables:
            cur.execute(f"""SELECT count(*) FROM {table} t JOIN _was_{table} w ON w.id = t.id
                            WHERE t.grid_id IS DISTINCT FROM w.grid_id""")
            moved[table] = cur.fetchone()[0]
            cur.execute(WRONG[table], [extent_wkb])
            wrong += cur.fetchone()[0]
        transaction.set_rollback(True)
    return moved, wrong


def print_steps(per_step: dict, total: float) -> None:
    for label, s in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"      {label:<28}{s * 1000:9.1f} ms")
    print(f"      {'(the rest)':<28}{(total - sum(per_step.values())) * 1000:9.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100, help="demo district scale (the issue asks ×100; 35–50 min to load)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--street", type=int, default=1, help="which street (in code order) to redraw")
    parser.add_argument("--shift", type=float, default=200.0, help="metres every inner vertex of the street moves")
    parser.add_argument("--ramp", type=float, default=300.0, help="metres from a community's outline to a full shift")
    parser.add_argument("--runs", type=int, default=5, help="rolled-back runs of each timed step (median)")
    parser.add_argument("--reuse", action="store_true", help="reuse the scratch database of an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    use_scratch_database(DB, fresh=not args.reuse)
    load_demo(DB, args.scale, args.seed, args.reuse)
    import shapely
    from django.contrib.auth import get_user_model
    from django.db import connection

    from gridmap.grids import selectors, services
    from gridmap.grids.models import Area, Level

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("""SELECT (SELECT count(*) FROM grids_area a JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
                               WHERE a.level = 'grid'), (SELECT count(*) FROM places_building),
                              (SELECT count(*) FROM people_household), (SELECT count(*) FROM people_person),
                              (SELECT count(*) FROM people_visit)""")
        n_grids, n_buildings, n_households, n_people, n_visits = cur.fetchone()
    print(f"data: ×{args.scale} demo, {n_grids:,d} primary grids, {n_buildings:,d} buildings, {n_households:,d} households, "
          f"{n_people:,d} people, {n_visits:,d} visits")
    author = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.order_by("pk").first()
    street = Area.objects.filter(level=Level.STREET).order_by("code")[args.street - 1]

    # (1) one grid split
    grid, split = split_proposal(street)
    extent_wkb = shapely.to_wkb(split.extent())
    ground = ground_rows(extent_wkb)
    commit = lambda: services.commit_redraw(split, author=author, reason="benchmark split")
    moved, wrong = outcome(commit, extent_wkb)
    preview_s, _r, _s = median_run(lambda: selectors.impact(split), args.runs)
    commit_s, _r, steps = median_run(commit, args.runs, steps=True)
    print(f"\n(1) split grid {grid.code} ({ground['people_household']:,d} households): {sum(ground.values()):,d} rows re-geocoded, "
          f"{sum(moved.values()):,d} moved, {wrong:,d} placed wrong after (median of {args.runs})")
    print(f"    preview (selectors.impact)      {preview_s * 1000:9.1f} ms")
    print(f"    commit  (commit_redraw)         {commit_s * 1000:9.1f} ms   target < {COMMIT_TARGET_MS} ms: {ok(commit_s * 1000 < COMMIT_TARGET_MS)}")
    print_steps(steps, commit_s)

    # (2) every grid of a street in one commit, (3) against the naive UPDATEs
    grids, redraw = street_proposal(street, args.shift, args.ramp)
    extent_wkb = shapely.to_wkb(redraw.extent())
    ground = ground_rows(extent_wkb)
    rows = sum(ground.values())
    commit = lambda: services.commit_redraw(redraw, author=author, reason="benchmark street redraw")
    moved, wrong = outcome(commit, extent_wkb)
    preview_s, _r, _s = median_run(lambda: selectors.impact(redraw), args.runs)
    naive_runs = defaultdict(list)

    def reference(label, triggers):
        naive_runs[label].append(rolled_back(naive(redraw, extent_wkb, triggers=triggers))[1])

    # (a) in turn with the commit, so a change in the machine's load weighs on both alike; (b) after
    # them all: rolled back, its updates of every row on the ground's buildings leave dead row
    # versions that would slow whatever runs next there
    commit_s, _r, steps = median_run(commit, args.runs, steps=True,
                                     between=lambda: reference("(a) row triggers cascade", True))
    for _ in range(args.runs):
        reference("(b) triggers aside, plain cascade", False)
    regrid_s = steps.get("regrid", float("nan"))
    naive_s = {label: statistics.median(seconds) for label, seconds in naive_runs.items()}
    reference = min(naive_s.values())
    print(f"\n(2) street {street.code} {street.name}: {len(grids)} grids redrawn in one commit (inner vertices moved {args.shift:g} m), "
          f"median of {args.runs}")
    print("    rows re-geocoded: " + ", ".join(f"{t} {n:,d}" for t, n in ground.items()) + f" — {rows:,d} in all")
    print("    rows moved:       " + ", ".join(f"{t} {n:,d}" for t, n in moved.items()) + f" — {sum(moved.values()):,d} in all; "
          f"{wrong:,d} rows of the ground placed wrong after (checked against gridmap_grid_at and their building)")
    print(f"    preview (selectors.impact)      {preview_s * 1000:9.1f} ms")
    print(f"    commit  (commit_redraw)         {commit_s * 1000:9.1f} ms  {rows / commit_s:>10,.0f} rows/s")
    print_steps(steps, commit_s)
    print(f"    re-geocoding (regrid in commit) {regrid_s * 1000:9.1f} ms  {rows / regrid_s:>10,.0f} rows/s")
    print("(3) naive reference, same rows, same run")
    for label, s in naive_s.items():
        print(f"    {label:<32}{s * 1000:9.1f} ms  {rows / s:>10,.0f} rows/s")
    print(f"    targets: street redraw ≥ {RATE_TARGET:,d} rows/s and ≥ {RATIO_TARGET}× the reference ({rows / reference:,.0f} rows/s)")
    for label, s in (("whole commit", commit_s), ("regrid in commit", regrid_s)):
        rate = rows / s
        print(f"    {label:<20}{rate:>10,.0f} rows/s ({ok(rate >= RATE_TARGET)}), {reference / s:5.2f}× reference ({ok(reference / s >= RATIO_TARGET)})")
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
