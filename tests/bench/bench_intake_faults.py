"""Intake under faults: bench_report's report run again while the deadline job runs and a grid
boundary moves back and forth; then everything that must hold is counted.

Set-up as bench_report.py (scratch database, demo district at scale 1, a patroller, gunicorn,
wrk), with 3000 more report points inside two neighbouring grids A and B of one community, half
of them in the strip of B within --edge-shift metres (default 40) of their shared edge: the
longest shared edge that the boundary editor lets A move there and back (tried first in a
transaction rolled back; why it refused longer ones is printed). Phases, one server:
  1. warm-up, then the plain report run (the reference, --duration seconds);
  2. the deadline job once (the demo's own backlog), then --overdue of the plain run's events are
     made due (an SQL update of due and warning times) one after another over the first 60% of
     the next run;
  3. the report run with faults, the same length, while in parallel
     - `manage.py check_deadlines` runs in a loop as cron would (a new process each time,
       --job-every seconds apart), warning and escalating those events as their times pass;
     - every --edge-every seconds a centre user commits a boundary change in the editor
       (grids.proposals.reshape + grids.services.commit_redraw, the default policy for open
       events): A takes the strip from B, then gives it back, and so on. Each is one transaction:
       new versions of both grids, the buildings, organisations, facilities and residents of the
       strip re-placed, open events followed, a Redraw recorded;
  4. the job once more, as a clean rerun: it must find nothing left to do.
Printed: both runs' req/s and latency side by side, and these counts, each an invariant (the exit
code is 1 when one fails):
  - every response 2xx (wrk), no 5xx and no traceback in gunicorn's logs;
  - events sent (2xx) = events stored (+ those in flight when wrk stopped), each client id once,
    each placed and assigned, its log rows report → accept → assign once each (plus one per
    boundary change that moved or kept it), one inbox message per assignment;
  - routing: each event's grid (the grid at report time) is the right answer for its point under
    a boundary state that the report could have seen. A change's state is current from its commit
    to the next one's. Change k commits after its Redraw's effective time (taken inside its
    transaction) and before the mover reads the clock once commit_redraw returns; so state k was
    current at some time within [effective time of change k, that clock reading after change
    k+1]. A report reads the boundaries in one statement, after it took `reported_at` and before
    its response, and no request took longer than the slowest in gunicorn's access log: so the
    states it could see are those current at some time within [reported_at, reported_at +
    slowest request]. The right answer under a state is the documented rule, computed here from
    the boundary versions the changes wrote: the primary-layer grid covering the point (lowest
    code on a shared edge), not flagged; else the nearest within EVENT_NEAREST_GRID_M, flagged
    outside; else none. An event after the last change has one possible state: the final one.
  - re-placement: after the run every point-placed record lies in the grid the final boundaries
    give it (same rule), and dwellings, households and people in their building's or dwelling's;
  - events follow: every open grid-level event of the bench not yet taken up by a handler (the
    default policy moves these) is handled in the grid its point lies in under the final
    boundaries;
  - boundary versions of every grid changed: one per change, numbered without gaps, one open
    version equal to the grid's boundary, each closed one ending where the next starts;
  - escalation: each event made due escalated exactly once, none escalated twice, each event's
    log steps numbered without gaps, at most one warning each, the job's own counts = the log
    rows, every job run exit code 0; the clean rerun escalates and warns nothing and adds no row.

Requires wrk (`apt-get install wrk`) and gunicorn, like bench_report.py.
Run: scripts/gridmap bench tests/bench/bench_intake_faults.py [--duration 20] [--connections 16]
     [--edge-every 2] [--edge-shift 40] [--job-every 1] [--overdue 300] [--keep]
"""
import datetime as dt
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _benchdb import ROOT, drop_database
from bench_report import (
    intake_checks,
    make_scripts,
    options,
    prepare,
    print_checks,
    print_runs,
    random_points,
    require_tools,
    run_events,
    serve,
    smoke,
)

DB = "gridmap_bench_intake_faults"
JOB = [sys.executable, "manage.py", "check_deadlines", "--no-progress"]


@dataclass
class Edge:
    """Two neighbouring grids and the strip of `b` along their shared edge that moves between them."""
    a: int
    b: int
    a_code: str
    b_code: str
    shared_m: float
    strip: object  # GEOS multipolygon
    strip_m2: float


def shared_edges(shift_m: float) -> list[Edge]:
    """Every pair of grids of one community (primary layer) that share an edge, longest edge
    first, each way round, with the part of the second within `shift_m` metres of that edge."""
    from django.contrib.gis.geos import GEOSGeometry
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            WITH pair AS (
                SELECT a.id AS a, a.code AS a_code, b.id AS b, b.code AS b_code, b.boundary AS b_geom,
                       ST_CollectionExtract(ST_Intersection(a.boundary, b.boundary), 2) AS edge
                FROM grids_area a JOIN grids_area b ON b.parent_id = a.parent_id AND b.layer_id = a.layer_id AND b.id <> a.id
                JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
                WHERE a.level = 'grid' AND b.level = 'grid' AND ST_Intersects(a.boundary, b.boundary)),
            s AS (SELECT *, ST_Multi(ST_CollectionExtract(ST_Intersection(b_geom, ST_Buffer(edge::geography, %s)::geometry), 3)) AS strip
                  FROM pair WHERE NOT ST_IsEmpty(edge))
            SELECT a, b, a_code, b_code, ST_Length(edge::geography), ST_AsEWKB(strip), ST_Area(strip::geography)
            FROM s ORDER BY 5 DESC, a_code, b_code""", [shift_m])
        return [Edge(a, b, a_code, b_code, shared_m, GEOSGeometry(memoryview(strip)), strip_m2)
                for a, b, a_code, b_code, shared_m, strip, strip_m2 in cur.fetchall()]


class DryRun(Exception):
    """Rolls a trial back."""


def movable_edge(shift_m: float, author) -> tuple[Edge, list[str]]:
    """The longest shared edge that the boundary editor lets A move there and back (tried in a
    transaction rolled back), and why it refused each longer one."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    refused = []
    for edge in shared_edges(shift_m):
        try:
            with transaction.atomic():
                mover = EdgeMover(edge, author, 0, threading.Event())
                mover.move()
                mover.move()
                raise DryRun
        except DryRun:
            return edge, refused
        except ValidationError as exc:
            refused.append(f"{edge.a_code} → {edge.b_code}: {' '.join(exc.messages)}")
    sys.exit("the boundary editor refused to move every shared edge:\n" + "\n".join(refused))


@dataclass
class Change:
    versions: dict[int, int]  # grid id → the AreaBoundary id this change wrote
    started: dt.datetime
    effective: dt.datetime  # taken inside the change's transaction, before its commit
    done: dt.datetime  # read after commit_redraw returned, after its commit


class EdgeMover(threading.Thread):
    """A centre user moving the shared edge back and forth in the boundary editor until `stop`
    is set: A takes the strip, then gives it back (to B, the neighbour along it). Records every
    change, and the error that ends it if any."""

    def __init__(self, edge: Edge, author, every: float, stop: threading.Event):
        super().__init__(name="edge mover")
        from gridmap.grids.models import Area
        from gridmap.grids.proposals import shape_of

        a = shape_of(Area.objects.get(pk=edge.a).boundary)
        self.a, self.shapes = edge.a, [a.union(shape_of(edge.strip)), a]
        self.author, self.every, self.stop = author, every, stop
        self.changes: list[Change] = []
        self.error: str | None = None

    def move(self) -> None:
        """The next change: a proposal on the grids as they are now, committed."""
        from gridmap.core import clock
        from gridmap.grids import proposals
        from gridmap.grids.models import Area
        from gridmap.grids.services import commit_redraw

        started = clock.now()
        proposal = proposals.reshape(Area.objects.get(pk=self.a), self.shapes[len(self.changes) % 2])
        redraw = commit_redraw(proposal, author=self.author, reason="bench: shared edge moved")
        self.changes.append(Change(dict(redraw.versions.values_list("area_id", "pk")), started, redraw.effective_from,
                                   clock.now()))

    def run(self):
        from django.db import connection

        try:
            while not self.stop.wait(self.every):
                self.move()
        except Exception as exc:  # noqa: BLE001 - counted as a failed invariant
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()


class JobLoop(threading.Thread):
    """`manage.py check_deadlines` in a new process every `every` seconds, until a run that
    started after `stop` was set has ended (set it once nothing else holds events: the job skips
    rows another transaction has locked, and a later run takes them)."""

    def __init__(self, every: float, stop: threading.Event):
        super().__init__(name="deadline job")
        self.every, self.stop = every, stop
        self.runs: list[tuple[int, str]] = []  # (exit code, last line of its output)

    def run(self):
        while True:
            last = self.stop.is_set()
            self.runs.append(run_job())
            if last:
                return
            self.stop.wait(self.every)

    def totals(self) -> tuple[int, int]:
        """(warned, escalated) as the runs reported them."""
        counts = [re.fullmatch(r"warned (\d+), escalated (\d+)", line) for _rc, line in self.runs]
        return sum(int(m[1]) for m in counts if m), sum(int(m[2]) for m in counts if m)


def run_job() -> tuple[int, str]:
    """(exit code, the job's summary line, or the first line of its error)."""
    done = subprocess.run(JOB, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode == 0:
        return 0, done.stdout.strip().splitlines()[-1]
    errors = [x for x in done.stderr.splitlines() if re.match(r"[\w.]+(Error|Exception|Gone): ", x)]
    return done.returncode, (errors or done.stderr.strip().splitlines() or ["(no output)"])[-1]


def make_due(events, start: dt.datetime, span_s: float, warn_s: float) -> list[int]:
    """Make `events` due one after another from `start` over `span_s` seconds, each warned
    `warn_s` seconds before (the SQL update the brief allows: no service sets a due time)."""
    from django.db import connection

    ids = list(events.values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute("""UPDATE events_event e SET due_at = %s + r.k * %s * interval '1 second',
                              warn_at = %s + (r.k * %s - %s) * interval '1 second', warned = false
                       FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM events_event WHERE id = ANY(%s)) r
                       WHERE r.id = e.id""",
                    [start, span_s / max(len(ids) - 1, 1), start, span_s / max(len(ids) - 1, 1), warn_s, ids])
    return ids


def gunicorn_logs(logs: Path) -> dict:
    """5xx answers and the slowest request (µs) in the access log; tracebacks in the error log."""
    statuses, slowest = [], 0
    for line in (logs / "access.log").read_text().splitlines():
        status, micros = line.split()
        statuses.append(int(status))
        slowest = max(slowest, int(micros))
    text = (logs / "error.log").read_text()
    errors = [x for x in text.splitlines() if "Traceback" in x or "[ERROR]" in x]
    return {"requests": len(statuses), "5xx": sum(s >= 500 for s in statuses), "slowest_us": slowest, "errors": errors,
            "error_log": text}


def routing(events, first_versions: dict[int, int], changes: list[Change], slowest_us: int) -> dict:
    """Each event's stored (grid, outside flag) against the right answers under the boundary
    states it could have seen (see the module's docstring). `first_versions`: every primary grid's
    boundary version at the start."""
    import json

    from django.conf import settings
    from django.db import connection

    # state 0 is the start; state k the one change k made, current from its commit to the next one's
    versions = dict(first_versions)
    states = [(0, dict(versions), None, changes[0].done if changes else None)]
    for k, change in enumerate(changes, 1):
        versions |= change.versions
        states.append((k, dict(versions), change.effective, changes[k].done if k < len(changes) else None))
    sql, params = events.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_state (n int, seen_from timestamptz, seen_to timestamptz)")
        cur.execute("CREATE TEMP TABLE bench_state_grid (n int, id bigint, code text, boundary geometry)")
        for n, v, seen_from, seen_to in states:
            cur.execute("INSERT INTO bench_state VALUES (%s, %s, %s)", [n, seen_from, seen_to])
            cur.execute("""INSERT INTO bench_state_grid SELECT %s, g.id, g.code, v.geom
                           FROM grids_area g JOIN grids_areaboundary v ON v.id = (%s::jsonb ->> g.id::text)::bigint""",
                        [n, json.dumps(v)])
        cur.execute("CREATE INDEX ON bench_state_grid USING gist (boundary)")
        cur.execute("ANALYZE bench_state_grid")
        cur.execute(f"""
            WITH e AS (SELECT e.id, e.number, e.point, e.reported_at, e.grid_id, e.outside_grid
                       FROM events_event e WHERE e.id IN ({sql})),
            c AS (
                SELECT e.id, s.n, coalesce(i.id, near.id) AS grid_id, i.id IS NULL AS outside,
                       e.grid_id IS NOT DISTINCT FROM coalesce(i.id, near.id) AND e.outside_grid = (i.id IS NULL) AS ok
                FROM e JOIN bench_state s ON (s.seen_from IS NULL OR s.seen_from <= e.reported_at + %s * interval '1 microsecond')
                                         AND (s.seen_to IS NULL OR s.seen_to >= e.reported_at)
                LEFT JOIN LATERAL (SELECT g.id FROM bench_state_grid g WHERE g.n = s.n AND ST_Intersects(g.boundary, e.point)
                                   ORDER BY g.code LIMIT 1) i ON true
                LEFT JOIN LATERAL (SELECT g.id FROM bench_state_grid g
                                   WHERE i.id IS NULL AND g.n = s.n AND ST_DWithin(g.boundary::geography, e.point::geography, %s)
                                   ORDER BY ST_Distance(g.boundary::geography, e.point::geography), g.code LIMIT 1) near ON true),
            per_event AS (
                SELECT id, bool_or(ok) AS ok, count(DISTINCT (grid_id, outside)) > 1 AS depends,
                       max(n) = %s AND count(*) = 1 AS final_only
                FROM c GROUP BY id)
            SELECT count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE depends), count(*) FILTER (WHERE final_only),
                   (SELECT count(*) FROM e WHERE NOT EXISTS (SELECT 1 FROM per_event p WHERE p.id = e.id)),
                   (SELECT string_agg(format('%%s in %%s%%s', e.number, coalesce(g.code, 'no grid'),
                                             CASE WHEN e.outside_grid THEN ' (outside)' ELSE '' END), ', ')
                    FROM (SELECT * FROM per_event WHERE NOT ok ORDER BY id LIMIT 5) p JOIN e USING (id)
                    LEFT JOIN grids_area g ON g.id = e.grid_id)
            FROM per_event""",
            [*params, slowest_us, settings.EVENT_NEAREST_GRID_M, len(changes)])
        total, right, depends, final_only, no_state, wrong = cur.fetchone()
        cur.execute("DROP TABLE bench_state, bench_state_grid")
    return {"events": total + no_state, "right": right, "depends": depends, "final_only": final_only, "wrong": wrong or ""}


def misplaced_records() -> dict[str, int]:
    """Records whose grid is not the one the current boundaries give them: point-placed tables
    by the rule (covering primary grid, lowest code), the others by their building or dwelling."""
    from django.db import connection

    from gridmap.grids.services import POINT_PLACED

    rule = """(SELECT g.id FROM grids_area g JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
               WHERE g.level = 'grid' AND ST_Intersects(g.boundary, t.location) ORDER BY g.code LIMIT 1)"""
    queries = {table: f"SELECT count(*) FROM {table} t WHERE t.grid_id IS DISTINCT FROM {rule}" for table in POINT_PLACED}
    queries |= {
        "places_dwelling": """SELECT count(*) FROM places_dwelling d JOIN places_building b ON b.id = d.building_id
                              WHERE d.grid_id IS DISTINCT FROM b.grid_id""",
        "people_household": """SELECT count(*) FROM people_household h JOIN places_dwelling d ON d.id = h.dwelling_id
                               WHERE h.grid_id IS DISTINCT FROM d.grid_id""",
        "people_person": """SELECT count(*) FROM people_person p JOIN places_dwelling d ON d.id = p.dwelling_id
                            WHERE p.grid_id IS DISTINCT FROM d.grid_id""",
    }
    out = {}
    with connection.cursor() as cur:
        for table, sql in queries.items():
            cur.execute(sql)
            out[table] = cur.fetchone()[0]
    return out


def unfollowed(reporter) -> tuple[int, int, str]:
    """The reporter's open grid-level events that no handler has taken up yet (the default policy
    moves these with a boundary change), whose point lies in a grid under the current boundaries
    (same rule): (how many, how many not handled in that grid, the first few of those)."""
    from django.db import connection

    from gridmap.events.workflow import NOT_TAKEN_UP

    with connection.cursor() as cur:
        cur.execute("""
            WITH e AS (
                SELECT e.id, e.number, e.area_id, e.reported_at, (
                    SELECT g.id FROM grids_area g JOIN grids_gridlayer l ON l.id = g.layer_id AND l.is_primary
                    WHERE g.level = 'grid' AND ST_Intersects(g.boundary, e.point) ORDER BY g.code LIMIT 1) AS now_in
                FROM events_event e WHERE e.reporter_id = %s AND e.level = 'grid' AND e.status = ANY(%s))
            SELECT count(*) FILTER (WHERE now_in IS NOT NULL), count(*) FILTER (WHERE area_id <> now_in),
                   string_agg(format('%%s reported %%s handled in %%s, its point in %%s', number,
                                     to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI:SS.MS'),
                                     (SELECT code FROM grids_area WHERE id = area_id), (SELECT code FROM grids_area WHERE id = now_in)),
                              '; ' ORDER BY number) FILTER (WHERE area_id <> now_in)
            FROM e""", [reporter.pk, list(NOT_TAKEN_UP)])
        total, wrong, listed = cur.fetchone()
    return total, wrong, "; ".join((listed or "").split("; ")[:5])


def boundary_versions(area_ids) -> dict[int, tuple]:
    """Per area: (versions, highest version number, open versions, each closed one ending where
    the next starts, the open one equal to the area's boundary)."""
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for area in area_ids:
            cur.execute("""SELECT count(*), max(version), count(*) FILTER (WHERE valid_to IS NULL),
                                  bool_and(valid_to IS NULL OR valid_to = (SELECT n.valid_from FROM grids_areaboundary n
                                                                           WHERE n.area_id = v.area_id AND n.version = v.version + 1)),
                                  (SELECT ST_Equals(a.boundary, o.geom) FROM grids_area a JOIN grids_areaboundary o
                                   ON o.area_id = a.id AND o.valid_to IS NULL WHERE a.id = %s)
                           FROM grids_areaboundary v WHERE v.area_id = %s""", [area, area])
            out[area] = cur.fetchone()
    return out


def escalations(due_ids: list[int], since: dt.datetime) -> dict[str, int]:
    """The deadline job's traces on the events made due, and on any event since `since`."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""
            SELECT (SELECT count(*) FROM events_event e WHERE e.id = ANY(%(due)s)
                       AND (SELECT count(*) FROM events_eventaction x WHERE x.event_id = e.id AND x.action = 'escalate') = 1),
                   (SELECT count(*) FROM (SELECT event_id FROM events_eventaction WHERE action = 'escalate' AND at >= %(since)s
                                          GROUP BY event_id HAVING count(*) > 1) twice),
                   (SELECT count(*) FROM events_eventaction WHERE action = 'escalate' AND at >= %(since)s),
                   (SELECT count(*) FROM events_eventaction WHERE action = 'escalate' AND at >= %(since)s AND NOT event_id = ANY(%(due)s)),
                   (SELECT count(*) FROM (SELECT event_id FROM events_eventaction WHERE event_id = ANY(%(due)s)
                                          GROUP BY event_id HAVING min(seq) <> 1 OR max(seq) <> count(*)) gaps),
                   (SELECT count(*) FROM (SELECT event_id FROM events_notification WHERE kind = 'warning' AND event_id = ANY(%(due)s)
                                          GROUP BY event_id HAVING count(*) > 1) warned_twice),
                   (SELECT count(*) FROM events_notification WHERE kind = 'warning' AND created_at >= %(since)s),
                   (SELECT count(*) FROM events_eventaction),
                   (SELECT count(*) FROM events_notification)""", {"due": due_ids, "since": since})
        names = ["escalated_once", "escalated_twice", "escalate_rows", "others", "seq_gaps", "warned_twice", "warnings",
                 "log_rows", "notifications"]
        return dict(zip(names, cur.fetchone()))


def main():
    parser = options(__doc__)
    parser.add_argument("--edge-every", type=float, default=2, help="seconds between boundary changes (default 2)")
    parser.add_argument("--edge-shift", type=float, default=40, help="metres the shared edge moves (default 40)")
    parser.add_argument("--job-every", type=float, default=1, help="seconds between deadline job runs (default 1)")
    parser.add_argument("--overdue", type=int, default=300, help="events made due during the run (default 300)")
    args = parser.parse_args()
    gunicorn = require_tools()
    intake = prepare(DB)
    from gridmap.core import clock
    from gridmap.core.models import Role, User
    from gridmap.events import services
    from gridmap.grids.models import Area, AreaBoundary

    centre = User.objects.create_user("bench_centre", role=Role.CENTRE_ADMIN)
    edge, refused = movable_edge(args.edge_shift, centre)
    both = Area.objects.get(pk=edge.a).boundary.union(Area.objects.get(pk=edge.b).boundary)
    intake.points += random_points(1500, edge.strip) + random_points(1500, both)
    first_versions = dict(AreaBoundary.objects.filter(valid_to__isnull=True, area__level="grid", area__layer__is_primary=True)
                          .values_list("area_id", "pk"))
    if refused:
        print(f"the boundary editor refused to move {len(refused)} longer shared edges, e.g. {refused[0]}")
    print(f"moving edge: grids {edge.a_code} | {edge.b_code}, shared edge {edge.shared_m:.0f} m, strip of {edge.b_code} "
          f"{args.edge_shift:g} m wide ({edge.strip_m2:,.0f} m²); {len(intake.points)} report points, "
          f"3000 of them in the two grids, 1500 in the strip")

    with tempfile.TemporaryDirectory() as tmp:
        with serve(args, gunicorn, logs=Path(tmp)) as server:
            smoke(server.base, intake)
            _health, report_lua = make_scripts(Path(tmp), intake)
            server.run(report_lua, args.warmup)
            time.sleep(1)  # let the warm-up's last requests finish
            plain = server.run(report_lua, args.duration)
            time.sleep(1)
            plain_checks = intake_checks(run_events(plain["nonce"]), plain, args.connections)

            backlog = services.check_deadlines()  # the demo's own overdue events, before the clock starts
            start = clock.now() + dt.timedelta(seconds=1)
            due_ids = make_due(run_events(plain["nonce"]).filter(status="assigned", level="grid").order_by("pk")[:args.overdue],
                               start, 0.6 * args.duration, 0.3 * args.duration)
            stop_moving, stop_job = threading.Event(), threading.Event()
            mover, job = EdgeMover(edge, centre, args.edge_every, stop_moving), JobLoop(args.job_every, stop_job)
            since = clock.now()
            mover.start()
            job.start()
            faults = server.run(report_lua, args.duration)  # longer than the due times' spread
            stop_moving.set()
            mover.join()
            stop_job.set()
            job.join()
            time.sleep(1)  # the requests in flight when wrk stopped
        logs = gunicorn_logs(Path(tmp))

    before = escalations(due_ids, since)
    rerun = run_job()
    after = escalations(due_ids, since)
    warned, escalated = job.totals()
    events = run_events(faults["nonce"])
    routed = routing(events, first_versions, mover.changes, logs["slowest_us"])
    misplaced = misplaced_records()
    followed, not_followed, not_followed_listed = unfollowed(intake.patroller)
    made = {a: sum(a in c.versions for c in mover.changes) for a in {a for c in mover.changes for a in c.versions}}
    versions = boundary_versions(made)
    codes = dict(Area.objects.filter(pk__in=made).values_list("pk", "code"))
    first_counts = dict(AreaBoundary.objects.filter(pk__in=[first_versions[a] for a in made]).values_list("area_id", "version"))

    mean_change = sum((c.done - c.started).total_seconds() for c in mover.changes) / max(len(mover.changes), 1)
    print_runs(args, [("POST report (plain)", plain), ("POST report (faults)", faults)])
    print(f"with faults: {faults['rps']:.0f} req/s vs {plain['rps']:.0f} plain ({faults['rps'] / plain['rps']:.2f}×), "
          f"p99 {faults['p99_us'] / 1000:.1f} ms vs {plain['p99_us'] / 1000:.1f} ms ({faults['p99_us'] / max(plain['p99_us'], 1):.2f}×)")
    print(f"faults during the run: {len(mover.changes)} boundary changes ({edge.a_code} takes the strip, gives it back; "
          f"every {args.edge_every:g} s, {mean_change:.2f} s each); {len(job.runs)} deadline job runs (warned {warned}, escalated {escalated}; "
          f"before the run the demo's backlog: warned {backlog['warned']}, escalated {backlog['escalated']}); "
          f"{len(due_ids)} events made due over the first {0.6 * args.duration:.0f} s")
    print(f"events sent (2xx) {faults['requests'] - faults['non2xx']}, stored {events.count()}; routed: {routed['right']} of "
          f"{routed['events']} right ({routed['final_only']} could only see the final boundaries, {routed['depends']} reported "
          f"across a change whose right answer depended on the moment); "
          f"slowest request {logs['slowest_us'] / 1000:.0f} ms")
    print("plain run:")
    print_checks(plain_checks)
    print("run with faults:")
    checks = intake_checks(events, faults, args.connections)
    checks |= {
        f"gunicorn: {logs['5xx']} answers 5xx of {logs['requests']}, {len(logs['errors'])} errors logged": logs["5xx"] == 0 and not logs["errors"],
        f"each event in the grid of its point under a boundary state it could see ({routed['events'] - routed['right']} not"
        + (f": {routed['wrong']}" if routed["wrong"] else "") + ")": routed["right"] == routed["events"] == events.count(),
        "records in the grid of the final boundaries (" + ", ".join(f"{t} {n}" for t, n in misplaced.items()) + " misplaced)":
            not any(misplaced.values()),
        f"open events not yet taken up handled in their point's grid ({not_followed} of {followed} not"
        + (f": {not_followed_listed}" if not_followed else "") + ")": not_followed == 0,
        f"boundary changes made: {len(mover.changes)}" + (f", stopped by {mover.error}" if mover.error else ""):
            mover.error is None and len(mover.changes) >= 1,
    }
    for area, (count, top, open_, chained, current) in versions.items():
        checks[f"grid {codes[area]}: versions 1..{top} ({first_counts[area]} before, {made[area]} written), one open = its boundary, chained"] = (
            count == top == first_counts[area] + made[area] and open_ == 1 and chained and current)
    checks |= {
        f"deadline job runs exit 0: {sum(rc == 0 for rc, _ in job.runs)} of {len(job.runs)}"
        + "".join(f"; exit {rc}: {line}" for rc, line in job.runs if rc)[:300]: all(rc == 0 for rc, _ in job.runs),
        f"events made due escalated once: {before['escalated_once']} of {len(due_ids)}": before["escalated_once"] == len(due_ids),
        f"no event escalated twice ({before['escalated_twice']}), log steps without gaps ({before['seq_gaps']} events with)":
            before["escalated_twice"] == 0 and before["seq_gaps"] == 0,
        f"at most one warning each ({before['warned_twice']} warned twice)": before["warned_twice"] == 0,
        f"the job's counts = the log: escalated {escalated} = {before['escalate_rows']} escalate rows "
        f"({before['others']} of other events), warned {warned} = {before['warnings']} warnings":
            escalated == before["escalate_rows"] and warned == before["warnings"],
        f"clean rerun: '{rerun[1]}', log rows {before['log_rows']} → {after['log_rows']}, inbox {before['notifications']} → "
        f"{after['notifications']}": rerun == (0, "warned 0, escalated 0") and before == after,
    }
    print_checks(checks)
    if logs["errors"]:
        print("gunicorn's error log (first 80 lines):\n" + "\n".join(logs["error_log"].splitlines()[:80]))
    if not args.keep:
        drop_database(DB)
    sys.exit(0 if all(checks.values()) and all(plain_checks.values()) else 1)


if __name__ == "__main__":
    main()
