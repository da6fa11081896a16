"""Killing the database under a running command or service, without stopping the shared cluster:
the backend of the connection doing the work is terminated (pg_terminate_backend) from a second
connection, to the server the same thing as a crash of that session. A `Blocker` holds a row lock
in its own open transaction, so the work waits on it at a known point after it has written
something; the backend that waits on the blocker is then terminated."""
import threading
import time
import urllib.parse

import psycopg2
from django.db import connection

# Every fault injected in this process, in order (what was killed where): for a look when a test fails.
INJECTED: list[str] = []


def raw_connection(autocommit=True):
    """A plain psycopg2 connection to the test database, outside Django's connection handling."""
    conn = psycopg2.connect(**connection.get_connection_params())
    conn.autocommit = autocommit
    return conn


def database_url(name: str | None = None) -> str:
    """DATABASE_URL of the test database (or of database `name` on the same server)."""
    s = connection.settings_dict
    host = urllib.parse.quote(s["HOST"] or "", safe="")
    password = f":{urllib.parse.quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    return f"postgis://{s['USER']}{password}@{host}:{s['PORT'] or 5432}/{name or s['NAME']}"


def terminate(pid: int, what: str, timeout: float = 10) -> None:
    """Terminate backend `pid` and wait until it is gone."""
    conn = raw_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cur.fetchone()[0], f"could not terminate backend {pid}"
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                if cur.fetchone() is None:
                    INJECTED.append(what)
                    return
                time.sleep(0.02)
    finally:
        conn.close()
    raise AssertionError(f"backend {pid} still there {timeout} s after pg_terminate_backend")


class Blocker:
    """`with Blocker(sql, params) as b:` runs `sql` (a SELECT ... FOR UPDATE) in an open
    transaction on its own connection; `b.kill_waiter(what)` starts a thread that waits for a
    backend blocked by it, records what that backend was doing, and terminates it. Leaving the
    block rolls the blocker back."""

    def __init__(self, sql, params=()):
        self.conn = raw_connection(autocommit=False)
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
        self.pid = self.conn.info.backend_pid
        self.victim: dict | None = None
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.thread is not None:
            self.thread.join(timeout=60)
        self.conn.rollback()
        self.conn.close()
        if self.error is not None and exc[0] is None:
            raise self.error

    def kill_waiter(self, what: str, timeout: float = 60) -> None:
        def run():
            try:
                conn = raw_connection()
                with conn.cursor() as cur:
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline:
                        cur.execute(
                            """SELECT pid, wait_event_type, backend_xid IS NOT NULL, left(query, 200)
                                 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))""", [self.pid])
                        row = cur.fetchone()
                        if row:
                            self.victim = dict(zip(["pid", "wait_event_type", "has_written", "query"], row))
                            cur.execute("""SELECT locktype, relation::regclass::text, mode FROM pg_locks
                                            WHERE pid = %s AND NOT granted""", [row[0]])
                            self.victim["waits_for"] = cur.fetchall()
                            break
                        time.sleep(0.02)
                    else:
                        raise AssertionError(f"nothing waited on the blocker within {timeout} s")
                conn.close()
                terminate(self.victim["pid"], what)
            except BaseException as exc:  # noqa: BLE001 - reported by __exit__
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
