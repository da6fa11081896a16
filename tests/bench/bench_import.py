"""Building import benchmark: N buildings (default 100,000) from a GeoPackage.

Reference: `ogr2ogr -f PostgreSQL` loading the same file into the same (scratch) database.
Measured: gridmap's `import_data buildings` path (services.import_file) with validation on:
read with pyogrio, CRS/range/validity checks with shapely 2, COPY + INSERT ... SELECT into
places_building with the triggers aside, then set-based placement into 100 grids.
Target: gridmap ≤ 2× ogr2ogr. Prints both times, rows/s and the ratio; writes the file and a
scratch database itself (seeded) and removes both afterwards.
Run: scripts/gridmap bench tests/bench/bench_import.py [--rows N]
"""
import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from _benchdb import drop_database, use_scratch_database

DB = "gridmap_bench_import"
X0, Y0, SIZE = 113.90, 22.50, 0.10  # 10 × 10 grids of 0.01° over this square


def make_file(path: Path, n: int, seed: int) -> None:
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    x = X0 + rng.random(n) * SIZE
    y = Y0 + rng.random(n) * SIZE
    d = 0.0001 + rng.random(n) * 0.0003
    gpd.GeoDataFrame(
        {"code": [f"B{i:07d}" for i in range(n)], "name": [f"{i % 40 + 1}栋" for i in range(n)],
         "floors_above": rng.integers(1, 34, n), "use": rng.choice(["residential", "commercial", "mixed"], n),
         "address": [f"测试路{i}号" for i in range(n)]},
        geometry=shapely.box(x, y, x + d, y + d), crs="EPSG:4326",
    ).to_file(path, layer="buildings", engine="pyogrio")


def make_grids() -> None:
    from django.contrib.gis.geos import GEOSGeometry, Polygon

    from gridmap.grids.models import GridLayer, Level
    from gridmap.grids.services import create_area

    layer = GridLayer.objects.create(code="social", name="综治网格", is_primary=True)
    community = create_area(code="440305001001", name="bench", level=Level.COMMUNITY)
    step = SIZE / 10
    for i in range(10):
        for j in range(10):
            x, y = X0 + j * step, Y0 + SIZE - (i + 1) * step
            create_area(code=f"440305001001{i * 10 + j + 1:03d}", name=f"g{i}{j}", level=Level.GRID,
                        parent=community, layer=layer, boundary=GEOSGeometry(Polygon.from_bbox((x, y, x + step, y + step)).wkt, srid=4326))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    dsn = use_scratch_database(DB)
    from django.db import connection

    from gridmap.core.io.services import import_file
    from gridmap.places.models import Building

    make_grids()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "buildings.gpkg"
        make_file(path, args.rows, args.seed)

        started = time.perf_counter()
        subprocess.run(["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), "-nln", "bench_ogr",
                        "-lco", "GEOMETRY_NAME=footprint", "-overwrite"], check=True)
        ogr = time.perf_counter() - started

        started = time.perf_counter()
        report = import_file("buildings", path)
        ours = time.perf_counter() - started

    assert report.loaded == args.rows and not report.errors, report.errors[:5]
    placed = Building.objects.filter(grid__isnull=False).count()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM bench_ogr")
        (ogr_rows,) = cur.fetchone()
    print(f"rows                       {args.rows:>10,}")
    print(f"ogr2ogr -f PostgreSQL      {ogr:>10.2f} s  {ogr_rows / ogr:>10,.0f} rows/s")
    print(f"gridmap import (validated) {ours:>10.2f} s  {report.loaded / ours:>10,.0f} rows/s  ({placed:,} placed in a grid)")
    print(f"ratio gridmap / ogr2ogr    {ours / ogr:>10.2f}   (target ≤ 2.00)")
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
