"""What a management command does when the database goes away: one clear line, a distinct exit
code, no traceback.

A command's work wrapped in `database_guard(...)` turns a lost or unreachable connection
(the server restarted or crashed, the backend was terminated, the network dropped) into
`DatabaseGone`, a CommandError: `manage.py` prints "DatabaseGone: <message>" on stderr and exits
with EX_TEMPFAIL (75, "temporary failure: try again", which cron wrappers and systemd can retry
on). The transaction that was open is lost with the connection, so the caller's message says
what that means (nothing stored, or what was done so far is kept). Any other error passes
through unchanged. Django opens a fresh connection for the next query (CONN_HEALTH_CHECKS), so a
long-running process recovers by itself once the database is back."""
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import InterfaceError, OperationalError

EX_TEMPFAIL = 75


class DatabaseGone(CommandError):
    """The database connection was lost or could not be made."""

    def __init__(self, message: str):
        super().__init__(message, returncode=EX_TEMPFAIL)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def lost_connection_error(exc: BaseException, using: str = DEFAULT_DB_ALIAS) -> BaseException | None:
    """The database error behind `exc` if it is a lost or unreachable connection, else None.
    Told by the error, not by the connection (Django may have reconnected by the time it gets
    here): an InterfaceError ("connection already closed"), or an OperationalError that libpq
    raised itself (no SQLSTATE: "server closed the connection unexpectedly", "connection to
    server ... failed") or with a connection or shutdown SQLSTATE (08xxx, 57P01-57P03). An
    OperationalError the server raised on a live connection (a lock or statement timeout, a
    deadlock, a serialization failure) is not a lost connection."""
    for link in _chain(exc):
        if isinstance(link, InterfaceError):
            return link
        if isinstance(link, OperationalError):
            driver = link.__cause__
            if not hasattr(driver, "pgcode"):  # not psycopg: look at the connection instead
                raw = connections[using].connection
                return link if raw is None or not connections[using].is_usable() else None
            code = driver.pgcode or ""
            if not code or code.startswith("08") or code in ("57P01", "57P02", "57P03"):
                return link
            return None
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


@contextmanager
def database_guard(lost: str, using: str = DEFAULT_DB_ALIAS):
    """Run a command's work; a lost connection becomes DatabaseGone("<lost> (<server's reason>)").
    `lost` is one sentence for the operator: what was going on and what is (not) stored, e.g.
    "the database connection was lost during the import; nothing from this file was stored"."""
    try:
        yield
    except DatabaseGone:
        raise
    except Exception as exc:  # re-raised below unless it is a lost connection
        error = lost_connection_error(exc, using)
        if error is None:
            raise
        try:  # drop the dead connection; the next query (a retry in this process) opens a new one
            connections[using].close()
        except Exception:  # noqa: BLE001,S110 - it is already gone
            pass
        raise DatabaseGone(f"{lost.rstrip('. ')}. Run it again when the database is back "
                           f"(server said: {first_line(error)}).") from None
