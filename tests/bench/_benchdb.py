"""A scratch database for benchmarks on the same PostGIS server, so a bench never touches the
demo data. Import this before Django is set up."""
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def use_scratch_database(name: str, fresh: bool = True) -> str:
    """Point DATABASE_URL at database `name` (created, or re-created when `fresh`), set Django up
    and migrate it. Returns its libpq connection string."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set: run through `scripts/gridmap bench <script>`")
    parts = urlsplit(base)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridmap.settings")
    import django

    django.setup()
    admin = _admin_connection()
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone()
        if exists and fresh:
            cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return libpq_dsn()


def libpq_dsn() -> str:
    """The current database as a libpq connection string (for ogr2ogr, psql)."""
    from django.db import connection

    params = connection.get_connection_params()
    params["dbname"] = params.pop("database", None) or params.get("dbname")
    return " ".join(f"{k}={v}" for k, v in params.items() if v and k in ("dbname", "user", "host", "port", "password"))


def _admin_connection():
    """A connection to the `postgres` database with the same parameters Django uses
    (host and port may come from the URL's query string, e.g. a Unix socket directory)."""
    from django.db import connection

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    params.pop("database", None)
    admin = psycopg2.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory",)})
    admin.autocommit = True
    return admin


def copy_database(source: str, name: str) -> bool:
    """Create database `name` as a copy of `source` (kept by another benchmark) when `name` is
    absent and `source` exists; True when `name` now holds a copy to reuse. A file copy: seconds,
    where loading the ×100 demo takes most of an hour."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.exit("DATABASE_URL is not set: run through `scripts/gridmap bench <script>`")
    import dj_database_url

    url = dj_database_url.parse(base)
    admin = psycopg2.connect(dbname="postgres", user=url["USER"], host=url["HOST"], port=url["PORT"], password=url["PASSWORD"] or None)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname IN (%s, %s)", [source, name])
        found = {row[0] for row in cur.fetchall()}
        if name not in found and source in found:
            print(f"copying the ×100 demo from {source} into {name}", flush=True)
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            found.add(name)
    admin.close()
    return name in found


def drop_database(name: str) -> None:
    from django.db import connections

    connections.close_all()
    admin = _admin_connection()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def load_demo(name: str, scale: int, seed: int, reuse: bool) -> None:
    """The demo district ×`scale` in scratch database `name` (set up by `use_scratch_database`),
    loaded with each stage's time printed, or with `reuse` kept from an earlier --keep run."""
    import time

    from gridmap.demo.services import load_demo_district
    from gridmap.grids.models import Area, Level

    if reuse and Area.objects.exists():
        streets = Area.objects.filter(level=Level.STREET).count()
        if streets == scale:
            print(f"demo district ×{scale}: reused from {name}")
            return
        sys.exit(f"{name} holds a ×{streets} demo, not ×{scale}: run without --reuse")
    started = time.perf_counter()
    load_demo_district(seed=seed, scale=scale, on_stage=lambda s: print(f"  {time.perf_counter() - started:6.1f} s  {s}", flush=True))
    print(f"demo district ×{scale} loaded in {time.perf_counter() - started:.0f} s")
