"""manage.py backup and restore: the whole state (database and uploaded files) restored into a
new, empty database on the same cluster is the same, table by table and file by file."""
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from gridmap.events import services
from gridmap.events.models import EventPhoto
from gridmap.events.photos import read_photo

from .killing import database_url, raw_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def empty_database():
    """A new database made as the app's role (CREATEDB; postgis comes from template1); dropped after."""
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    admin = raw_connection()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def photo(colour):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return read_photo(SimpleUploadedFile(f"{colour}.jpg", out.getvalue(), content_type="image/jpeg"))


def rows_of(dbname=None):
    """{table: sorted text of every row} of every table the manifest covers, read independently of it."""
    from gridmap.core.management.commands.backup import TABLES_SQL
    params = {**connection.get_connection_params(), **({"dbname": dbname} if dbname else {})}
    params.pop("database", None)
    import psycopg2
    conn = psycopg2.connect(**params)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            cur.execute(TABLES_SQL)
            out = {}
            for schema, table in cur.fetchall():
                cur.execute(f'SELECT t::text FROM "{schema}"."{table}" t ORDER BY 1')
                out[f"{schema}.{table}"] = [r[0] for r in cur.fetchall()]
            # where every id sequence stands: a restored copy must not hand out an id again
            cur.execute("SELECT schemaname || '.' || sequencename || ' ' || coalesce(last_value, 0) FROM pg_sequences "
                        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
            out["<sequences>"] = [r[0] for r in cur.fetchall()]
        return out
    finally:
        conn.close()


def test_backup_restores_into_an_empty_database_row_for_row_and_byte_for_byte(
        estate, users, dispute, settings, tmp_path, empty_database):
    settings.MEDIA_ROOT = tmp_path / "media"
    for i, colour in enumerate(["orange", "teal"]):
        services.report_event(reporter=users["worker_a"], category=dispute, lon=113.92, lat=22.55 + i * 0.001,
                              description=f"楼道堆放杂物 {i}", channel="patrol", photos=[photo(colour)])
    assert EventPhoto.objects.count() == 2
    source_files = {p.relative_to(settings.MEDIA_ROOT): p.read_bytes() for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}
    assert len(source_files) == 2

    out = io.StringIO()
    call_command("backup", str(tmp_path / "backup"), stdout=out)
    assert re.match(r"backup .*: \d+ tables, [\d,]+ rows, 2 files", out.getvalue()), out.getvalue()
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["database.dump", "manifest.json", "media.tar"]

    restored_media = tmp_path / "restored-media"
    out = io.StringIO()
    call_command("restore", str(tmp_path / "backup"), database_url=database_url(empty_database),
                 media_root=str(restored_media), stdout=out)
    assert "matches the backup" in out.getvalue(), out.getvalue()

    before, after = rows_of(), rows_of(empty_database)
    assert sorted(after) == sorted(before)
    for table in before:
        assert len(after[table]) == len(before[table]), table
        assert after[table] == before[table], table
    assert len(before["<sequences>"]) > 20
    checked = sum(len(v) for k, v in before.items() if k != "<sequences>")
    assert checked > 100 and len(before["public.people_person"]) >= 10
    assert {p.relative_to(restored_media): p.read_bytes() for p in restored_media.rglob("*") if p.is_file()} == source_files
    print(f"\nbackup/restore: {len(before) - 1} tables, {checked} rows and {len(source_files)} files compared, 0 lost")

    with pytest.raises(CommandError, match="not empty"):  # never over a database that holds data
        call_command("restore", str(tmp_path / "backup"), database_url=database_url(empty_database),
                     media_root=str(tmp_path / "other-media"), stdout=io.StringIO())


def test_backup_refuses_a_directory_that_holds_files(db, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("x")
    with pytest.raises(CommandError, match="not an empty directory"):
        call_command("backup", str(tmp_path / "old"), stdout=io.StringIO())
