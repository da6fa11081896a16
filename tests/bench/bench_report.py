"""Report-and-assign under load, through the real HTTP stack.

Set-up: a scratch database with the demo district at scale 1 (20 grids, about 400 buildings),
a patroller with a session, and gunicorn (DEBUG off, several workers) on a free loopback port.
Load: wrk, bounded in time, the same number of connections for both endpoints:
  - reference: GET /healthz (Django + one `SELECT 1`),
  - measured:  POST /api/events/report/ (JSON; session cookie + CSRF cookie and X-CSRFToken
    header, as DRF's SessionAuthentication wants), every request with a unique client_id, a
    grid-level category and a random point inside the district's grids; each one is placed,
    numbered, logged (report → accept → assign), routed to its grid leader with a due time,
    checked for duplicates and put in the leader's inbox.
Prints requests/s and p50/p99 latency for both, the cost ratio (health req/s ÷ report req/s), how
the CPU was shared between wrk, gunicorn and PostgreSQL, and checks afterwards that every event was
stored once, assigned, logged and notified.
Targets (2 cores): ≥ 300 reports/s, p99 < 200 ms, report ≤ 3× the health check.

Requires wrk (Debian: `apt-get install wrk`), gunicorn (a main dependency) and, for --profile, py-spy
(a dev dependency). The CPU lines say how much the load generator and any other process on the
machine took: on a busy machine the figures drop, so read them together with "other processes".
Run: scripts/gridmap bench tests/bench/bench_report.py [--duration 20] [--connections 16] [--workers 4]
     [--worker-class gthread --gunicorn-threads 4] [--profile FILE (py-spy samples of the workers)]
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _benchdb import ROOT, drop_database, use_scratch_database

DB = "gridmap_bench_report"
CATEGORIES = ["0101", "0102", "0201", "0204", "0206", "0401", "0402", "0404"]  # handled in the grid

LUA_COMMON = r"""
local next_tid = 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
function init(args)
  math.randomseed(tid * 7919 + os.time())
  counter = 0
  NONCE = args[1] or "00000000"  -- one per run, so client ids never repeat across runs
end
done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""

LUA_REPORT = r"""
request = function()
  counter = counter + 1
  local p = points[math.random(#points)]
  local body = string.format(
    '{"category": "%s", "lon": %.7f, "lat": %.7f, "accuracy_m": 8, "description": "bench report %d", "client_id": "%s-%04x-4000-8000-%012x"}',
    cats[math.random(#cats)], p[1], p[2], counter, NONCE, tid, counter)
  return wrk.format("POST", "/api/events/report/", nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids) -> float:
    """utime + stime of the processes (seconds), from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / tick


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_up(url: str, proc, timeout=30.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"gunicorn did not answer {url} within {timeout} s")


def run_wrk(url, script: Path, seconds: float, connections: int, threads: int, pg_pids, app_pids) -> dict:
    """One bounded wrk run; returns its figures, the CPU seconds each party used and its nonce
    (the first part of every client id it sent: see `run_events`)."""
    nonce = secrets.token_hex(4)
    before = cpu_seconds(pg_pids), cpu_seconds(app_pids), machine_busy()
    with tempfile.TemporaryFile("w+") as out:
        started = time.monotonic()
        proc = subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
                                 "-s", str(script), url, "--", nonce], stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    line = next((x for x in text.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        sys.exit(f"wrk failed ({proc.returncode}):\n{text}")
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["nonce"] = nonce
    result["cpu"] = {"wrk": usage.ru_utime + usage.ru_stime, "gunicorn": cpu_seconds(app_pids) - before[1],
                     "postgres": cpu_seconds(pg_pids) - before[0], "wall": wall,
                     "machine": machine_busy()[0] - before[2][0]}
    return result


def smoke(base: str, intake: "Intake") -> None:
    """One report before the load, so a set-up mistake shows its error instead of N failures."""
    (lon, lat) = intake.points[0]
    body = json.dumps({"category": CATEGORIES[0], "lon": lon, "lat": lat, "description": "smoke"}).encode()
    request = urllib.request.Request(f"{base}/api/events/report/", data=body, method="POST", headers={
        "Cookie": intake.cookie, "X-CSRFToken": intake.csrf, "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            if r.status == 201:
                return
            sys.exit(f"the first report got HTTP {r.status}: {r.read()[:500]!r}")
    except urllib.error.HTTPError as e:
        sys.exit(f"the first report got HTTP {e.code}: {e.read()[:500]!r}")


def print_profile(path: Path, top: int = 18) -> None:
    """Where the workers' CPU went (samples of threads holding the GIL): self time by function,
    and time inside gridmap's own functions."""
    from collections import Counter

    own, inside, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames or not n.isdigit():
            continue
        n = int(n)
        total += n
        own[frames[-1].split(" (")[0] + " (" + frames[-1].rsplit("/", 1)[-1]] += n
        for f in {f for f in frames if "gridmap/" in f}:
            inside[f.split(" (")[0] + " (" + f.split("gridmap/", 1)[1]] += n
    print(f"py-spy: {total} samples of the gunicorn workers ({path})")
    print("  self time:")
    for name, n in own.most_common(top):
        print(f"    {n / total * 100:5.1f}%  {name}")
    print("  inside gridmap functions (inclusive):")
    for name, n in inside.most_common(top):
        print(f"    {n / total * 100:5.1f}%  {name}")


def make_scripts(tmp: Path, intake: "Intake") -> tuple[Path, Path]:
    headers = (f'wrk.headers["Cookie"] = "{intake.cookie}"\n'
               f'wrk.headers["X-CSRFToken"] = "{intake.csrf}"\n'
               'wrk.headers["Content-Type"] = "application/json"\n'
               'wrk.headers["Accept"] = "application/json"\n')
    health = tmp / "health.lua"
    health.write_text(LUA_COMMON + 'wrk.method = "GET"\nwrk.path = "/healthz"\n')
    report = tmp / "report.lua"
    table = ",".join(f"{{{x:.7f},{y:.7f}}}" for x, y in intake.points)
    report.write_text(
        LUA_COMMON + headers
        + f"points = {{{table}}}\ncats = {{{','.join(repr(c) for c in CATEGORIES)}}}\n"
        + LUA_REPORT
    )
    return health, report


def options(description: str) -> argparse.ArgumentParser:
    """The options of every intake benchmark: load, server and scratch database."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20, help="seconds per measured run (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per endpoint (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: it shares the 2 cores)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread; or sync)")
    parser.add_argument("--gunicorn-threads", type=int, default=4,
                        help="threads per gthread worker (default 4: a report waits on ~20 database round trips)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser


def require_tools() -> Path:
    """wrk on the PATH and gunicorn in this environment; returns gunicorn's path."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), then run this again")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        sys.exit("gunicorn is not installed in this environment: `pip install gunicorn` (or `pip install -e .`)")
    return gunicorn


@dataclass
class Intake:
    """Who reports and where: a patroller with a session (cookie and CSRF token for every
    request) and random points inside the grids."""
    patroller: object
    cookie: str
    csrf: str
    points: list[tuple[float, float]]


def prepare(db: str) -> Intake:
    """The scratch database `db` with the demo district at scale 1 and a patroller signed in."""
    # the session's auth hash is keyed by SECRET_KEY: this process and gunicorn share one
    os.environ.setdefault("GRIDMAP_SECRET_KEY", secrets.token_urlsafe(40))
    use_scratch_database(db)
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from gridmap.core.models import Role, User
    from gridmap.demo.services import load_demo_district
    from gridmap.grids.models import Area, Level

    t0 = time.perf_counter()
    load_demo_district(seed=1, scale=1)
    print(f"demo district (scale 1) loaded in {time.perf_counter() - t0:.1f} s: "
          f"{Area.objects.filter(level=Level.GRID).count()} grids")

    top = Area.objects.filter(parent__isnull=True).first()
    patroller = User.objects.create_user("bench_patroller", password=secrets.token_urlsafe(12), role=Role.GRID_WORKER, area=top)
    session = SessionStore()
    session[SESSION_KEY] = str(patroller.pk)
    session[BACKEND_SESSION_KEY] = "gridmap.core.auth.AreaUserBackend"
    session[HASH_SESSION_KEY] = patroller.get_session_auth_hash()
    session.create()
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret: cookie and header carry the same value
    return Intake(patroller, f"sessionid={session.session_key}; csrftoken={csrf}", csrf, random_points(5000))


def random_points(n: int, within=None) -> list[tuple[float, float]]:
    """`n` random points (fixed seed) inside the union of the grids (every report lands in one),
    or inside the geometry `within`."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(coalesce(ST_GeomFromEWKB(%s),
                           (SELECT ST_Union(boundary) FROM grids_area WHERE level = 'grid')), %s, 42))).geom AS g) p""",
                    [bytes(within.ewkb) if within is not None else None, n])
        return cur.fetchall()


def run_events(nonce: str):
    """The events one wrk run reported: their client ids start with its nonce."""
    from gridmap.events.models import Event

    return Event.objects.filter(client_id__range=(uuid.UUID(nonce + "0" * 24), uuid.UUID(nonce + "f" * 24)))


class Server:
    """gunicorn serving the scratch database on a free loopback port."""

    def __init__(self, args, process: subprocess.Popen, base: str):
        self.args, self.process, self.base = args, process, base

    def pids(self) -> tuple[list[int], list[int]]:
        """The PostgreSQL backends of the scratch database and the gunicorn processes."""
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            pg = [p for (p,) in cur.fetchall()]
        return pg, [self.process.pid, *children(self.process.pid)]

    def run(self, script: Path, seconds: float) -> dict:
        return run_wrk(self.base + "/", script, seconds, self.args.connections, self.args.threads, *self.pids())


@contextmanager
def serve(args, gunicorn: Path, logs: Path | None = None):
    """gunicorn (DEBUG off, plain HTTP on loopback) for the duration of the block. With `logs`, a
    directory: its access log (status and microseconds per request) goes to logs/access.log and
    its error log, with the traceback of every request that failed, to logs/error.log."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # plain HTTP on loopback, and one patroller sending thousands of reports: no redirect, no rate limit
    env = {**os.environ, "GRIDMAP_DEBUG": "0", "GRIDMAP_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "gridmap.settings",
           "GRIDMAP_SSL_REDIRECT": "0", "GRIDMAP_REPORT_RATE": "off", "PYTHONWARNINGS": "ignore:No directory at"}
    command = [str(gunicorn), "gridmap.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--worker-class", args.worker_class, "--threads", str(args.gunicorn_threads), "--log-level", "warning",
               "--backlog", "256"]
    stderr = None
    if logs is not None:
        command += ["--access-logfile", str(logs / "access.log"), "--access-logformat", "%(s)s %(D)s"]
        stderr = (logs / "error.log").open("w")
        env |= {"DJANGO_SETTINGS_MODULE": "_bench_settings",  # logs a failed request's traceback
                "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "bench"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    try:
        wait_up(f"{base}/healthz", server)
        yield Server(args, server, base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        if stderr is not None:
            stderr.close()


def print_runs(args, runs: list[tuple[str, dict]]) -> None:
    """The set-up in one line, then per run: req/s, latency, errors and how the CPU was shared."""
    cores = os.cpu_count()
    print(f"gunicorn: {args.workers} {args.worker_class} workers (threads {args.gunicorn_threads}); wrk: {args.threads} thread(s), "
          f"{args.connections} connections, {args.duration:g} s per run; {cores} cores shared by all")
    for name, r in runs:
        cpu = r["cpu"]
        busy = sum(cpu[k] for k in ("wrk", "gunicorn", "postgres"))
        print(f"  {name:26s} {r['rps']:8.0f} req/s   p50 {r['p50_us'] / 1000:6.1f} ms   p90 {r['p90_us'] / 1000:6.1f} ms   "
              f"p99 {r['p99_us'] / 1000:6.1f} ms   max {r['max_us'] / 1000:6.1f} ms   errors {r['errors']}  non-2xx {r['non2xx']}")
        print(f"  {'':26s} CPU of {cores} cores over {cpu['wall']:.1f} s: wrk {cpu['wrk'] / cpu['wall'] * 100:.0f}%, "
              f"gunicorn {cpu['gunicorn'] / cpu['wall'] * 100:.0f}%, postgres {cpu['postgres'] / cpu['wall'] * 100:.0f}% "
              f"of {cores * 100}%; whole machine {cpu['machine'] / cpu['wall'] * 100:.0f}%, so other processes "
              f"{max(0, cpu['machine'] - busy) / cpu['wall'] * 100:.0f}%); per request: app {cpu['gunicorn'] / max(r['requests'], 1) * 1000:.2f} ms, "
              f"db {cpu['postgres'] / max(r['requests'], 1) * 1000:.2f} ms; load generator {cpu['wrk'] / max(busy, 1e-9) * 100:.0f}% of the CPU used")


def intake_checks(events, result: dict, connections: int) -> dict[str, bool]:
    """What every report must leave behind. The run `result` (wrk's figures): each answer 2xx and
    each report it sent stored (some answered after wrk stopped counting). `events` (a queryset
    of reports, that run's or more): each client id once, placed in a grid and assigned, its
    log rows report → accept → assign once each (and a row for each boundary change that moved
    or kept it), one inbox message per assignment (its first, and each move to another grid)."""
    from django.db import connection

    from gridmap.events.models import EventAction, Notification

    measured = run_events(result["nonce"]).count()
    in_flight = measured - result["requests"]  # sent before the deadline, answered after wrk stopped counting
    total = events.count()
    with connection.cursor() as cur:
        sql, params = events.order_by().values("pk").query.sql_with_params()
        cur.execute(f"""
            WITH e(id) AS ({sql}), a AS (
                SELECT x.event_id, x.action, count(*) AS n, count(x.assignee_id) AS assigned
                FROM {EventAction._meta.db_table} x WHERE x.event_id IN (SELECT id FROM e) GROUP BY 1, 2),
            notes AS (
                SELECT m.event_id, count(*) AS n FROM {Notification._meta.db_table} m
                WHERE m.kind = 'assigned' AND m.event_id IN (SELECT id FROM e) GROUP BY 1)
            SELECT (SELECT count(*) FROM e WHERE (SELECT count(*) FROM a WHERE a.event_id = e.id
                                                  AND a.action IN ('report', 'accept', 'assign')) < 3),
                   (SELECT count(*) FROM a WHERE n > 1 AND action IN ('report', 'accept', 'assign')),
                   (SELECT coalesce(sum(n), 0) FROM a WHERE action = 'boundary'),
                   (SELECT coalesce(sum(n), 0) FROM a WHERE action NOT IN ('report', 'accept', 'assign', 'boundary')),
                   (SELECT count(*) FROM e WHERE coalesce((SELECT n FROM notes WHERE notes.event_id = e.id), 0)
                        <> (SELECT coalesce(sum(assigned), 0) FROM a WHERE a.event_id = e.id AND a.action IN ('assign', 'boundary')))""",
                    params)
        missing, doubled, boundary, others, notes_off = cur.fetchone()
    duplicates = total - events.values("client_id").distinct().count()
    return {
        "every response 2xx": result["non2xx"] == 0 and result["errors"] == 0,
        f"events stored {measured} = answered {result['requests']} (+ up to {connections} in flight)": 0 <= in_flight <= connections,
        f"each client_id once ({duplicates} duplicates)": duplicates == 0,
        "all placed in a grid and assigned": not (events.exclude(status="assigned").exists() or events.filter(assignee__isnull=True).exists()
                                                  or events.filter(grid__isnull=True).exists()),
        f"log rows report, accept, assign once each ({missing} events missing one, {doubled} doubled; "
        f"{boundary} boundary-change rows, {others} others)": missing == doubled == others == 0,
        f"one inbox message per assignment ({notes_off} events with more or fewer)": notes_off == 0,
    }


def print_checks(checks: dict[str, bool]) -> None:
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")


def main():
    parser = options(__doc__)
    parser.add_argument("--profile", metavar="FILE", help="sample the gunicorn workers with py-spy during the report run "
                                                          "(collapsed stacks to FILE) and print where the time goes")
    args = parser.parse_args()
    gunicorn = require_tools()
    intake = prepare(DB)
    from gridmap.events.models import Event

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with serve(args, gunicorn) as server, tempfile.TemporaryDirectory() as tmp:
        smoke(server.base, intake)
        health_lua, report_lua = make_scripts(Path(tmp), intake)
        server.run(health_lua, args.warmup)
        server.run(report_lua, args.warmup)
        time.sleep(1)  # let the warm-up's last requests finish
        health = server.run(health_lua, args.duration)
        spy = None
        if args.profile:
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses", "--nonblocking", "--gil",
                                    "--pid", str(server.process.pid), "--duration", str(max(1, round(args.duration))),
                                    "--format", "raw", "--output", args.profile],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        report = server.run(report_lua, args.duration)
        if spy is not None:
            spy.wait(60)

    print(f"load average before/after the runs: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print_runs(args, [("GET /healthz (reference)", health), ("POST /api/events/report/", report)])
    ratio = health["rps"] / report["rps"]
    print(f"report-and-assign costs {ratio:.2f}× the health check (req/s ratio; p50 ratio "
          f"{report['p50_us'] / max(health['p50_us'], 1):.2f}×)")

    # every report stored once, placed, assigned, logged three times and in the leader's inbox
    # (the bench's own reports: the demo district brings events of its own)
    checks = intake_checks(Event.objects.filter(reporter=intake.patroller), report, args.connections)
    print_checks(checks)
    targets = {"≥ 300 reports/s": report["rps"] >= 300, "p99 < 200 ms": report["p99_us"] < 200_000, "≤ 3× health": ratio <= 3}
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))

    if args.profile:
        print_profile(Path(args.profile))
    if not args.keep:
        drop_database(DB)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
