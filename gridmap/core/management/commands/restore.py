"""manage.py restore IN_DIR --database-url URL — load a `backup` into an empty database and prove it."""
import subprocess
import tarfile
import tempfile
from pathlib import Path

import dj_database_url
import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gridmap.core.commands import DatabaseGone, first_line

from .backup import (
    DUMP,
    MEDIA,
    TABLES_SQL,
    libpq_args,
    media_files,
    pg_tool,
    read_manifest,
    run_tool,
    table_checksums,
)


def _connect(db: dict):
    params = {"dbname": db["NAME"], "host": db.get("HOST") or None, "port": db.get("PORT") or None,
              "user": db.get("USER") or None, "password": db.get("PASSWORD") or None}
    try:
        return psycopg2.connect(**{k: v for k, v in params.items() if v})
    except psycopg2.OperationalError as exc:
        raise DatabaseGone(f"cannot connect to the database {db['NAME']!r} to restore into "
                           f"(server said: {first_line(exc)}); create it first (createdb, from a "
                           "template with postgis) or check --database-url") from None


def _from_template(toc_line: str) -> bool:
    """The dump's entries that belong to the postgis extension, which the new database has from its
    template and which only a superuser may write: the comment on the extension and the rows of
    spatial_ref_sys outside PostGIS's own (the app adds none; only a superuser could)."""
    return "COMMENT - EXTENSION" in toc_line or ("TABLE DATA" in toc_line and " spatial_ref_sys " in toc_line)


def differences(expected: dict, got: dict, what: str) -> list[str]:
    out = []
    for key in sorted(set(expected) | set(got)):
        if key not in got:
            out.append(f"{what} {key} missing")
        elif key not in expected:
            out.append(f"{what} {key} not in the backup")
        elif expected[key] != got[key]:
            out.append(f"{what} {key}: backup {expected[key]}, restored {got[key]}")
    return out


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an EMPTY database (refused otherwise) given by "
        "--database-url (postgis://user@host:port/name; the database must exist, created from a template "
        "with postgis, e.g. createdb -O gridmap NAME), and its files into an empty --media-root (default: "
        "MEDIA_ROOT). One transaction: a failed restore leaves the database empty. Then every table's row "
        "count and checksum and every file's SHA-256 is compared with the backup's manifest; any difference "
        "fails the command. Point DATABASE_URL and MEDIA_ROOT of the app at the restored copy afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("in_dir", help="a directory written by `manage.py backup`")
        parser.add_argument("--database-url", required=True, help="the empty database to restore into")
        parser.add_argument("--media-root", help="where the uploaded files go (default: MEDIA_ROOT); empty or missing")

    def handle(self, in_dir, database_url, media_root=None, **options):
        source = Path(in_dir)
        manifest = read_manifest(source)
        db = dj_database_url.parse(database_url)
        media = Path(media_root or settings.MEDIA_ROOT)
        if media.exists() and any(media.iterdir()):
            raise CommandError(f"{media}: already holds files; restore the uploaded files into an empty directory "
                               "(--media-root)")
        conn = _connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute(TABLES_SQL)
                present = cur.fetchall()
                cur.execute("SELECT current_setting('server_version_num')::int")
                version = cur.fetchone()[0]
            conn.rollback()
            if present:
                raise CommandError(f"database {db['NAME']!r} is not empty ({len(present)} tables, e.g. "
                                   f"{present[0][0]}.{present[0][1]}); restore goes into an empty database")
            self.load(source / DUMP, db, version)
            media.mkdir(parents=True, exist_ok=True)
            with tarfile.open(source / MEDIA) as tar:
                tar.extractall(media, filter="data")
            try:
                with conn.cursor() as cur:
                    tables = table_checksums(cur)
                conn.rollback()
            except psycopg2.OperationalError as exc:
                raise DatabaseGone(f"the database connection was lost while checking the restored copy "
                                   f"(server said: {first_line(exc)}); the restore itself committed") from None
        finally:
            conn.close()
        wrong = differences(manifest["tables"], tables, "table") + differences(manifest["media"], media_files(media), "file")
        if wrong:
            raise CommandError(f"the restored copy differs from the backup in {len(wrong)} place(s): "
                               + "; ".join(wrong[:5]))
        rows = sum(t["rows"] for t in tables.values())
        self.stdout.write(f"restored {source} into {db['NAME']}: {len(tables)} tables, {rows:,d} rows, "
                          f"{len(manifest['media'])} files; every row count, table checksum and file hash "
                          "matches the backup")

    def load(self, dump: Path, db: dict, version: int) -> None:
        """pg_restore in one transaction, without what PostGIS brings itself (see _from_template)."""
        args, env = libpq_args(db)
        tool = pg_tool("pg_restore", version)
        with tempfile.NamedTemporaryFile("w", suffix=".list") as listing:
            toc = subprocess.run([tool, "-l", str(dump)], capture_output=True, text=True, check=True)
            listing.write("\n".join(line for line in toc.stdout.splitlines() if not _from_template(line)))
            listing.flush()
            run_tool([tool, *args, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                      "-L", listing.name, "-d", db["NAME"], str(dump)], env, "pg_restore")
