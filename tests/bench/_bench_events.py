"""A million events for the analytics benchmark, written by one set-based INSERT per table into
a scratch database that already holds the ×100 demo (so every event lies on a building of a
real grid). The history is made relative to now: two years of reports, older ones mostly
closed; a third of the events crowd into the buildings that come first (the first streets), so
hotspots exist to be found. Each event gets its report, accept and (when closed) verify steps in
the action log, as the workflow writes them, so acceptance and closure times can be measured.
"""
import importlib
import time

from django.db import connection, transaction

from gridmap.core import clock

# the events' own copy of their log's figures (decided_at, returns, reopenings), as the workflow keeps it
LOG_FIGURES_SQL = importlib.import_module("gridmap.events.migrations.0011_log_figures").BACKFILL

EVENTS_SQL = """
WITH b AS (
    SELECT row_number() OVER (ORDER BY id) AS rn, id, location, grid_id
    FROM places_building WHERE grid_id IS NOT NULL
), nb AS (SELECT count(*) AS n FROM b),
cats AS (
    SELECT array_agg(id ORDER BY code) AS ids, count(*) AS n FROM events_category
    WHERE NOT EXISTS (SELECT 1 FROM events_category c WHERE c.parent_id = events_category.id)
), disputes AS (
    SELECT array_agg(c.id ORDER BY c.code) AS ids, count(*) AS n FROM events_category c
    JOIN events_category p ON p.id = c.parent_id WHERE p.code IN ('01', '02')
), draw AS (
    SELECT i, random() AS r_place, random() AS r_skew, random() AS r_cat, random() AS r_age,
           random() AS r_state, random() AS r_close, random() AS r_sat, random() AS r_level,
           random() AS r_dx, random() AS r_dy
    FROM generate_series(1, %(n)s) AS i
), e AS (
    SELECT d.*,
           1 + floor(CASE WHEN d.r_skew < 0.33 THEN power(d.r_place, 3) ELSE d.r_place END * nb.n)::bigint AS pick,
           %(now)s::timestamptz - (d.r_age * interval '730 days') AS at,
           CASE WHEN d.r_cat < 0.6 THEN disputes.ids[1 + floor(d.r_cat / 0.6 * disputes.n)::int]
                ELSE cats.ids[1 + floor((d.r_cat - 0.6) / 0.4 * cats.n)::int] END AS category_id
    FROM draw d, nb, cats, disputes
)
INSERT INTO events_event (number, client_id, urgency, point, address, description, channel, reporter_name,
    reporter_phone, reported_at, outside_grid, status, level, due_at, warned, ever_overdue, escalations,
    closed_at, satisfaction, version, area_id, building_id, category_id, grid_id, due_provisional, public)
SELECT 'BENCH' || lpad(e.i::text, 9, '0'), gen_random_uuid(), 'normal',
       ST_SetSRID(ST_MakePoint(ST_X(b.location) + (e.r_dx - 0.5) * 0.0004, ST_Y(b.location) + (e.r_dy - 0.5) * 0.0004), 4326),
       '', 'benchmark event', (ARRAY['patrol', 'grid_worker', 'hotline', 'web', 'open311'])[1 + floor(e.r_level * 5)::int],
       '', '', e.at, false, s.status,
       CASE WHEN e.r_level < 0.75 THEN 'grid' WHEN e.r_level < 0.87 THEN 'community' WHEN e.r_level < 0.95 THEN 'street'
            ELSE 'district' END,
       e.at + interval '5 days', false,
       s.status <> 'rejected' AND coalesce(s.closed_at, %(now)s::timestamptz) > e.at + interval '5 days', 0, s.closed_at,
       CASE WHEN s.closed_at IS NULL OR e.r_sat < 0.3 THEN ''
            ELSE (ARRAY['very_satisfied', 'satisfied', 'satisfied', 'average', 'dissatisfied'])[1 + floor((e.r_sat - 0.3) / 0.7 * 5)::int] END,
       0, b.grid_id, b.id, e.category_id, b.grid_id, false, true
FROM e JOIN b ON b.rn = e.pick
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.at < %(now)s::timestamptz - interval '30 days' OR e.r_state < 0.5
                THEN (CASE WHEN e.r_state < 0.04 THEN 'rejected' WHEN e.r_state < 0.5 THEN 'archived' ELSE 'closed' END)
                ELSE (ARRAY['reported', 'accepted', 'assigned', 'handling', 'replied'])[1 + floor((e.r_state - 0.5) / 0.5 * 5)::int] END AS status
) st
CROSS JOIN LATERAL (
    SELECT st.status,
           CASE WHEN st.status IN ('closed', 'archived')
                THEN least(e.at + power(e.r_close, 2) * interval '12 days', %(now)s::timestamptz) END AS closed_at
) s
ORDER BY e.at  -- stored in the order they were reported, as a live table fills: a period's rows lie together
"""

ACTIONS_SQL = """
INSERT INTO events_eventaction (event_id, seq, action, from_status, to_status, at, note, public_note)
SELECT e.id, step.seq, step.action, step.from_status, step.to_status, step.at, '', ''
FROM events_event e
CROSS JOIN LATERAL (VALUES
    (0, 'report', '', 'reported', e.reported_at),
    (1, CASE WHEN e.status = 'rejected' THEN 'reject' ELSE 'accept' END, 'reported',
        CASE WHEN e.status = 'rejected' THEN 'rejected' ELSE 'accepted' END,
        e.reported_at + (abs(hashtext(e.number)) %% 4000) * interval '1 minute'),
    (2, 'verify', 'replied', 'closed', e.closed_at)
) AS step(seq, action, from_status, to_status, at)
WHERE e.number LIKE 'BENCH%%' AND step.at IS NOT NULL AND (step.seq < 1 OR e.status <> 'reported')
"""


def top_up(total: int) -> None:
    """Add benchmark events until the events table holds `total` rows, with their log steps."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM events_event")
        have = cur.fetchone()[0]
    if have >= total:
        print(f"events: {have:,} already (wanted {total:,})")
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(EVENTS_SQL, {"n": total - have, "now": clock.now()})
        added = cur.rowcount
        cur.execute(ACTIONS_SQL, {})
        steps = cur.rowcount
        cur.execute(LOG_FIGURES_SQL)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE events_event")
        cur.execute("VACUUM ANALYZE events_eventaction")
    print(f"events: {added:,} added ({steps:,} log steps) in {time.perf_counter() - started:.0f} s, {have + added:,} in all")
