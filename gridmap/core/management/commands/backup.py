"""manage.py backup OUT_DIR — the whole state: the database (pg_dump) and the uploaded files.

OUT_DIR gets three files:
  database.dump   pg_dump custom format (-Fc) of the whole database, no owners or grants
  media.tar       every file under MEDIA_ROOT (event photos …), paths relative to it
  manifest.json   row count and checksum of every table, size and SHA-256 of every file, taken
                  from the same snapshot as the dump, so `restore` can prove the copy whole
The dump and the manifest read one exported snapshot (REPEATABLE READ): the app may keep
writing while the backup runs. `restore` (see its --help) loads a backup into an empty database."""
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from gridmap.core import clock
from gridmap.core.commands import database_guard

FORMAT = 1
DUMP, MEDIA, MANIFEST = "database.dump", "media.tar", "manifest.json"

# Every ordinary table of the database's own schemas, without the rows extensions own (PostGIS's
# spatial_ref_sys comes with the extension, not with the dump).
TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                  AND d.deptype = 'e')
 ORDER BY 1, 2"""


def table_checksums(cur) -> dict[str, dict]:
    """{schema.table: {"rows": n, "md5": …}}: the md5 of the sorted md5s of every row's text form,
    so it does not depend on the physical order of the rows or on their ids' sequence."""
    # the text form of a row depends on these: pin them (the backup and the restored copy are
    # read by different sessions, maybe on servers with other defaults)
    cur.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; "
                "SET extra_float_digits = 1; SET bytea_output = 'hex'")
    cur.execute(TABLES_SQL)
    out = {}
    for schema, table in cur.fetchall():
        name = f'"{schema}"."{table}"'
        cur.execute(f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                    f"FROM (SELECT md5(t::text) AS h FROM {name} t) rows")
        count, digest = cur.fetchone()
        out[f"{schema}.{table}"] = {"rows": count, "md5": digest}
    return out


def media_files(root: Path) -> dict[str, dict]:
    """{relative path: {"bytes": n, "sha256": …}} of every file under `root`."""
    out = {}
    if not root.is_dir():
        return out
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out[path.relative_to(root).as_posix()] = {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}
    return out


def pg_tool(name: str, server_version: int | None = None) -> str:
    """The pg_dump/pg_restore of the server's major version (Debian keeps each under
    /usr/lib/postgresql/N/bin, not on PATH), else the newest found, else PATH.
    GRIDMAP_PG_BIN names the directory outright."""
    if os.environ.get("GRIDMAP_PG_BIN"):
        return str(Path(os.environ["GRIDMAP_PG_BIN"]) / name)
    candidates = []
    if server_version:
        candidates.append(Path(f"/usr/lib/postgresql/{server_version // 10000}/bin") / name)
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                         key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, reverse=True)
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if not found:
        raise CommandError(f"{name} not found: install postgresql-client or set GRIDMAP_PG_BIN")
    return found


def libpq_args(db: dict) -> tuple[list[str], dict]:
    """Connection options and environment for a libpq tool from a Django DATABASES entry."""
    args = ["--no-password"]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def run_tool(argv: list[str], env: dict, what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise CommandError(f"{what} failed ({Path(argv[0]).name} exit {done.returncode}): "
                           + (" / ".join(lines[-3:]) or "no message"))


class Command(BaseCommand):
    help = (
        "Back up the whole state into OUT_DIR (created; must be empty): database.dump (pg_dump -Fc of the "
        "database), media.tar (every uploaded file under MEDIA_ROOT) and manifest.json (row count and "
        "checksum of every table and SHA-256 of every file, from the same snapshot as the dump). The app "
        "may keep running. Load it with `manage.py restore OUT_DIR --database-url URL` into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("out_dir", help="directory to write (created if missing; must be empty)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Django database alias (default: default)")

    def handle(self, out_dir, database, verbosity=1, **options):
        out = Path(out_dir)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CommandError(f"{out}: not an empty directory; a backup goes into a new one")
        out.mkdir(parents=True, exist_ok=True)
        with database_guard("the database connection was lost during the backup; "
                            f"{out} is incomplete, delete it", using=database):
            manifest = self.dump(out, database)
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=str) + "\n")
        rows = sum(t["rows"] for t in manifest["tables"].values())
        size = sum(f.stat().st_size for f in out.iterdir())
        self.stdout.write(f"backup {out}: {len(manifest['tables'])} tables, {rows:,d} rows, "
                          f"{len(manifest['media'])} files, {size / 2**20:.1f} MB")

    def dump(self, out: Path, alias: str) -> dict:
        conn = connections[alias]
        db = conn.settings_dict
        media_root = Path(settings.MEDIA_ROOT)
        conn.ensure_connection()
        with conn.cursor() as cur:  # one snapshot for the dump and the manifest
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                cur.execute("SELECT pg_export_snapshot(), current_setting('server_version_num')::int")
                snapshot, version = cur.fetchone()
                args, env = libpq_args(db)
                run_tool([pg_tool("pg_dump", version), *args, "-Fc", "--no-owner", "--no-privileges",
                          f"--snapshot={snapshot}", "-f", str(out / DUMP), "-d", db["NAME"]], env, "pg_dump")
                tables = table_checksums(cur)
                cur.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
                migrations = dict(cur.fetchall())
            finally:
                cur.execute("ROLLBACK")
        with tarfile.open(out / MEDIA, "w") as tar:
            files = media_files(media_root)
            for rel in files:
                tar.add(media_root / rel, arcname=rel, recursive=False)
        return {"format": FORMAT, "created_at": clock.now().isoformat(), "database": db["NAME"],
                "server_version": version, "migrations": migrations, "tables": tables, "media": files}


def read_manifest(in_dir: Path) -> dict:
    try:
        manifest = json.loads((in_dir / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"{in_dir}: no readable {MANIFEST} ({exc}); not a gridmap backup") from None
    if manifest.get("format") != FORMAT:
        raise CommandError(f"{in_dir}: backup format {manifest.get('format')!r}, this gridmap reads {FORMAT}")
    for name in (DUMP, MEDIA):
        if not (in_dir / name).is_file():
            raise CommandError(f"{in_dir}: {name} is missing")
    return manifest

