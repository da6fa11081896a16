"""Writing validated rows: COPY into a temp table, then one INSERT ... SELECT per register
(upsert on the register's natural key); areas and households have their own steps."""
import csv
import io
from contextlib import nullcontext

import pandas as pd
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.contrib.gis.db import models
from django.db import connection

from gridmap.core.crypto import DigestField, EncryptedCharField, digest, encrypt
from gridmap.grids.models import LEVEL_ORDER, Area, GridLayer
from gridmap.grids.services import ASSIGN_SQL, bulk_placement, create_area, regrid, set_boundary


def copy_frame(cur, table: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
    """Create temp `table` with `types` and COPY `frame` into it. Text columns read an empty
    cell as '' (Django's blank), every other type as NULL."""
    cur.execute(f"CREATE TEMP TABLE {table} ({', '.join(f'{c} {t}' for c, t in types.items())}) ON COMMIT DROP")
    buf = io.StringIO()
    frame[list(types)].to_csv(buf, index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL)
    buf.seek(0)
    texts = [c for c, t in types.items() if t.startswith(("varchar", "text"))]
    force = f", FORCE_NOT_NULL ({', '.join(texts)})" if texts else ""
    cur.copy_expert(f"COPY {table} ({', '.join(types)}) FROM STDIN WITH (FORMAT csv{force})", buf)


def _conflict_columns(conflict: str) -> list[str]:
    return [c.strip() for c in conflict.split(")")[0].strip("( ").split(",")]


def load_rows(cur, reg, rows: pd.DataFrame, present: set[str], report) -> int:
    """The generic load: every column of the register, refs as ids, geometry as EWKB."""
    meta = reg.model._meta
    types = {"_row": "integer"}
    exprs = {}
    updated = []
    for col in reg.columns:
        f = meta.get_field(col.field_name)
        types[f.column] = f.db_type(connection)
        exprs[f.column] = f.column
        if col.name in present:
            updated.append(f.column)
    for ref in reg.refs:
        if not ref.many:
            column = meta.get_field(ref.field).column
            types[column], exprs[column] = "bigint", column
            if set(ref.columns) <= present:
                updated.append(column)
    if reg.geometry:
        f = meta.get_field(reg.geometry.field)
        types["_geom"] = "geometry"
        exprs[f.column] = "ST_Multi(_geom)" if isinstance(f, models.MultiPolygonField) else "_geom"
        updated.append(f.column)
    rows = _sealed(meta, rows, types, exprs, updated)
    with bulk_placement() if reg.bulk else nullcontext():
        loaded = _insert(cur, reg, rows, present, types, exprs, updated)
    cur.execute("DROP TABLE _import, _loaded")
    return loaded


def _sealed(meta, rows: pd.DataFrame, types: dict, exprs: dict, updated: list) -> pd.DataFrame:
    """Encrypted fields go in as tokens, each with its keyed hash taken from the clear value, both
    computed over the whole column before the COPY (gridmap.core.crypto)."""
    sealed = {f.column: f for f in meta.concrete_fields if isinstance(f, EncryptedCharField) and f.column in types}
    if not sealed:
        return rows
    rows = rows.copy()
    for f in meta.concrete_fields:
        source = f.of if isinstance(f, DigestField) else None
        if source in sealed:
            rows[f.column] = rows[source].map(lambda v, n=f.normalise: digest(v, n) if isinstance(v, str) else "")
            types[f.column], exprs[f.column] = f.db_type(connection), f.column
            if source in updated:
                updated.append(f.column)
    for column in sealed:
        rows[column] = rows[column].map(lambda v: encrypt(v) if isinstance(v, str) else v)
    return rows


def _insert(cur, reg, rows, present, types, exprs, updated) -> int:
    """COPY, then one INSERT ... SELECT (upsert on the key); only columns the file has are updated.
    Bulk registers get their grid before the insert (placing the temp table's points with the
    shared ASSIGN_SQL), so no row is written twice."""
    meta = reg.model._meta
    copy_frame(cur, "_import", rows, types)
    source = "_import"
    if reg.bulk:
        cur.execute(f"""CREATE TEMP TABLE _pts ON COMMIT DROP AS SELECT _row AS id, {reg.point_sql} AS location FROM _import;
                        CREATE INDEX ON _pts USING gist (location); ANALYZE _pts""")
        cur.execute(ASSIGN_SQL.format(target="_placed", table="_pts", where="t.location IS NOT NULL"))
        exprs = {**exprs, "grid_id": "p.grid_id"}
        updated = [*updated, "grid_id"]
        source = "_import LEFT JOIN _placed p ON p.id = _import._row"
    keys = _conflict_columns(reg.conflict) if reg.conflict else []
    conflict = ""
    if reg.conflict:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updated if c not in keys)
        conflict = f"ON CONFLICT {reg.conflict} DO " + (f"UPDATE SET {sets}" if sets else "NOTHING")
    returning = ", ".join(["id", *keys])
    cur.execute(f"CREATE TEMP TABLE _loaded ON COMMIT DROP AS SELECT {returning}, true AS fresh FROM {meta.db_table} LIMIT 0")
    cur.execute(
        f"""WITH ins AS (
              INSERT INTO {meta.db_table} ({', '.join(exprs)})
              SELECT {', '.join(exprs.values())} FROM {source} ORDER BY _row {conflict}
              RETURNING {returning}, xmax = 0)
            INSERT INTO _loaded SELECT * FROM ins"""
    )
    loaded = cur.rowcount
    for ref in reg.refs:
        if ref.many and ref.columns[0] in present:
            _link_many(cur, reg, ref, rows, keys)
    if reg.bulk:
        cur.execute("DROP TABLE _pts, _placed")
        cur.execute("SELECT EXISTS (SELECT 1 FROM _loaded WHERE NOT fresh)")
        if cur.fetchone()[0]:  # updated rows may have moved: what stands on them follows
            _place_loaded(cur, meta.db_table)
    return loaded


def _place_loaded(cur, table: str) -> None:
    """Re-place what is in the updated rows' extent set-based, then cascade building → dwelling →
    household/person (the triggers stood aside)."""
    cur.execute(f"""SELECT ST_AsEWKB(ST_SetSRID(ST_Extent(t.location)::geometry, 4326))
                    FROM {table} t JOIN _loaded l USING (id) WHERE NOT l.fresh""")
    (extent,) = cur.fetchone()
    cur.execute(f"ANALYZE {table}")  # fresh statistics, or the planner may see an empty table and loop
    if extent is not None:
        regrid(extent=GEOSGeometry(memoryview(extent)), tables=[table])


def _link_many(cur, reg, ref, rows: pd.DataFrame, keys: list[str]) -> None:
    """Replace the many-to-many links of the loaded rows with those in the file."""
    f = reg.model._meta.get_field(ref.field)
    through, own, other = f.m2m_db_table(), f.m2m_column_name(), f.m2m_reverse_name()
    pairs = rows[["_row", f"{ref.field}_ids"]].explode(f"{ref.field}_ids").dropna()
    pairs.columns = ["_row", "target"]
    copy_frame(cur, "_pairs", pairs, {"_row": "integer", "target": "bigint"})
    join = " AND ".join(f"l.{k} = i.{k}" for k in keys)
    cur.execute(f"DELETE FROM {through} m USING _loaded l WHERE m.{own} = l.id")
    cur.execute(
        f"""INSERT INTO {through} ({own}, {other})
            SELECT DISTINCT l.id, p.target FROM _pairs p
            JOIN _import i ON i._row = p._row JOIN _loaded l ON {join}"""
    )
    cur.execute("DROP TABLE _pairs")


def load_areas(cur, reg, rows: pd.DataFrame, present: set[str], report) -> int:
    """Areas go through the area services one by one (there are few), parents first, so the tree
    paths and boundary versions stay right; then everything is re-placed set-based."""
    rank = {level: i for i, level in enumerate(LEVEL_ORDER)}
    rows = rows.assign(_rank=rows["level"].map(rank)).sort_values(["_rank", "_row"], kind="stable")
    done: dict[str, Area] = {}
    _areas(rows, done, report)
    regrid()
    return len(done)


def _areas(rows: pd.DataFrame, done: dict, report) -> None:
    for r in rows.to_dict("records"):
        if pd.notna(r["parent_code"]) and pd.isna(r["parent_id"]) and r["parent_code"] not in done:
            report.add(r["_row"], "parent_code", f"parent {r['parent_code']} was not loaded (see its row)")
            continue
        parent = done.get(r["parent_code"]) or (Area.objects.get(pk=r["parent_id"]) if pd.notna(r["parent_id"]) else None)
        layer = GridLayer.objects.get(pk=r["layer_id"]) if pd.notna(r["layer_id"]) else None
        geom = GEOSGeometry(r["_geom"]) if pd.notna(r["_geom"]) else None
        try:
            area = Area.objects.filter(code=r["code"]).first()
            if area is None:
                area = create_area(code=r["code"], name=r["name"], level=r["level"], parent=parent, layer=layer,
                                   boundary=geom, reason=f"imported from {report.file}")
            else:
                area.name, area.level, area.parent, area.layer = r["name"], r["level"], parent, layer
                area.full_clean(exclude=["path", "boundary"])
                area.save()
                if geom is not None and (area.boundary is None or not area.boundary.equals_exact(geom, 1e-9)):
                    set_boundary(area, geom, reason=f"imported from {report.file}", regrid_now=False)
            Area.objects.filter(pk=area.pk).update(phone=r["phone"])
        except ValidationError as exc:
            report.add(r["_row"], "code", "; ".join(exc.messages))
            continue
        done[r["code"]] = area


def load_households(cur, reg, rows: pd.DataFrame, present: set[str], report) -> int:
    """One row per member: the households are upserted by number, then each listed household
    gets exactly the members in the file and its head from the row with relation 'head'."""
    households = rows.drop_duplicates("number")
    types = {"_row": "integer", "number": "varchar(30)", "kind": "varchar(12)", "dwelling_id": "bigint"}
    copy_frame(cur, "_import", households, types)
    updates = ["kind"] * ("kind" in present) + ["dwelling_id"] * ({"building_code", "room"} <= present)
    action = f"UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in updates)}" if updates else "NOTHING"
    cur.execute(
        f"""CREATE TEMP TABLE _loaded ON COMMIT DROP AS SELECT id, number FROM people_household LIMIT 0;
            WITH ins AS (
              INSERT INTO people_household (number, kind, dwelling_id)
              SELECT number, kind, dwelling_id FROM _import ORDER BY _row
              ON CONFLICT (number) DO {action} RETURNING id, number)
            INSERT INTO _loaded SELECT * FROM ins"""
    )
    loaded = cur.rowcount
    members = rows[rows["member_id"].notna()]
    copy_frame(cur, "_members", members, {"number": "varchar(30)", "member_id": "bigint", "relation": "varchar(14)"})
    cur.execute(
        """DELETE FROM people_householdmember m USING _loaded l WHERE m.household_id = l.id;
           DELETE FROM people_householdmember m USING _members n WHERE m.person_id = n.member_id;
           INSERT INTO people_householdmember (household_id, person_id, relation)
           SELECT l.id, n.member_id, n.relation FROM _members n JOIN _loaded l USING (number);
           UPDATE people_household h SET head_id = (
               SELECT person_id FROM people_householdmember m WHERE m.household_id = h.id AND m.relation = 'head')
           WHERE h.id IN (SELECT id FROM _loaded) OR h.head_id IN (SELECT member_id FROM _members);
           DROP TABLE _import, _loaded, _members"""
    )
    return loaded
