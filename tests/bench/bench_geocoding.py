"""Bulk geocoding benchmark: 1,000,000 points against the ×100 demo grids.

Compares, on the same data in the same run:
  * shapely STRtree in process (reference): tree build + query + lowest-code rule;
  * PostGIS, read-only assignment into a temp table: the planner's default (one indexed
    look-up per point, gridmap_grid_at) and the plan gridmap uses (grid polygon outer,
    prepared once, point index inner, parallel workers), on rows in load order and after
    CLUSTER on the location index;
  * the stored `regrid` update of places_facility (services.regrid), rows/s.
Checks that all of them give identical assignments. Prints figures and ratios; asserts nothing
about speed. Run: scripts/gridmap bench tests/bench/bench_geocoding.py [--points N] [--scale S]
"""
import argparse
import io
import time

import numpy as np

from _benchdb import drop_database, use_scratch_database

DB = "gridmap_bench_geocoding"


def timed(label, fn):
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    return value, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--scale", type=int, default=100, help="demo district scale for the grids")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    use_scratch_database(DB)
    import shapely
    from django.db import connection, transaction

    from gridmap.demo.services import load_demo_areas
    from gridmap.grids import services

    load_demo_areas(scale=args.scale, seed=args.seed)
    with connection.cursor() as cur:
        cur.execute(
            """SELECT a.id, a.code, ST_AsBinary(a.boundary) FROM grids_area a
               JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary WHERE a.level = 'grid' ORDER BY a.code"""
        )
        rows = cur.fetchall()
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(boundary) e FROM grids_area WHERE level='grid') s")
        xmin, ymin, xmax, ymax = cur.fetchone()
    grid_ids = np.array([r[0] for r in rows])  # already in code order: index = rank
    polygons = shapely.from_wkb([bytes(r[2]) for r in rows])
    print(f"grids: {len(rows):,d} (demo ×{args.scale}), points: {args.points:,d}")

    # points over the grids' extent and a 2% margin, so some fall outside every grid
    rng = np.random.default_rng(args.seed)
    dx, dy = (xmax - xmin) * 0.02, (ymax - ymin) * 0.02
    xy = np.column_stack([rng.uniform(xmin - dx, xmax + dx, args.points), rng.uniform(ymin - dy, ymax + dy, args.points)])
    # a few thousand points exactly on grid vertices: the edge rule must agree too
    verts = shapely.get_coordinates(shapely.boundary(polygons))
    xy[: min(5000, len(verts))] = verts[rng.choice(len(verts), min(5000, len(verts)), replace=False)]

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL gridmap.bulk = 'on'")
        wkb = shapely.to_wkb(shapely.set_srid(shapely.points(xy), 4326), hex=True, include_srid=True)
        buf = io.StringIO("".join(f"P{i}\thydrant\t{h}\tnormal\t\n" for i, h in enumerate(wkb)))
        cur.copy_expert("COPY places_facility (code, kind, geom, status, owner_department) FROM STDIN", buf)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE places_facility")
        cur.execute("SELECT substr(code, 2)::int, id FROM places_facility")
        fid = np.empty(args.points, dtype=np.int64)
        for idx, pk in cur.fetchall():
            fid[idx] = pk

    # --- reference: shapely STRtree in process ---------------------------------------------
    points = shapely.points(xy)

    def strtree():
        tree = shapely.STRtree(polygons)
        pt_idx, poly_idx = tree.query(points, predicate="intersects")
        best = np.full(len(points), len(polygons), dtype=np.int64)
        np.minimum.at(best, pt_idx, poly_idx)  # lowest code wins on shared edges
        return np.where(best < len(polygons), grid_ids[np.minimum(best, len(polygons) - 1)], 0)

    ref, t_ref = timed("strtree", strtree)
    ref_by_pk = dict(zip(fid.tolist(), ref.tolist()))
    print(f"shapely STRtree          {t_ref:7.2f} s  {args.points / t_ref:>12,.0f} points/s  (reference)")

    def postgis(sql):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS _answer")
            started = time.perf_counter()
            cur.execute(sql)
            seconds = time.perf_counter() - started
            cur.execute("SELECT t.id, coalesce(a.grid_id, 0) FROM places_facility t LEFT JOIN _answer a ON a.id = t.id")
            answer = dict(cur.fetchall())
            cur.execute("DROP TABLE _answer")
        return answer, seconds

    default_sql = "CREATE TEMP TABLE _answer AS SELECT t.id, gridmap_grid_at(t.location) AS grid_id FROM places_facility t"
    answer, t_default = postgis(default_sql)
    assert answer == ref_by_pk, "planner-default answer differs from STRtree"
    print(f"PostGIS planner default  {t_default:7.2f} s  {args.points / t_default:>12,.0f} points/s  ratio {t_ref / t_default:5.2f}× STRtree")

    best_sql = services.ASSIGN_SQL.format(target="_answer", table="places_facility", where="t.location IS NOT NULL")
    answer, t_best = postgis(best_sql)
    assert answer == ref_by_pk, "gridmap plan answer differs from STRtree"
    print(f"PostGIS gridmap plan     {t_best:7.2f} s  {args.points / t_best:>12,.0f} points/s  ratio {t_ref / t_best:5.2f}× STRtree  (rows in load order)")
    services.cluster_by_location(["places_facility"])
    answer, t_best = postgis(best_sql)
    assert answer == ref_by_pk, "gridmap plan answer differs from STRtree after CLUSTER"
    print(f"PostGIS gridmap plan     {t_best:7.2f} s  {args.points / t_best:>12,.0f} points/s  ratio {t_ref / t_best:5.2f}× STRtree  (after regrid --cluster; target ≥ 0.60)")

    # --- stored update through the service -----------------------------------------------
    with connection.cursor() as cur:
        cur.execute("SET gridmap.bulk = 'on'; UPDATE places_facility SET grid_id = NULL; RESET gridmap.bulk")
        cur.execute("VACUUM places_facility")
    result, t_regrid = timed("regrid", lambda: services.regrid(tables=["places_facility"]))
    with connection.cursor() as cur:
        cur.execute("SELECT id, coalesce(grid_id, 0) FROM places_facility")
        assert dict(cur.fetchall()) == ref_by_pk, "stored regrid differs from STRtree"
    moved = result.changed["places_facility"]
    print(f"regrid (stored update)   {t_regrid:7.2f} s  {moved / t_regrid:>12,.0f} rows/s    ({moved:,d} rows written; target ≥ 150,000 rows/s)")
    print("assignments identical: STRtree = planner default = gridmap plan = stored regrid")
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
