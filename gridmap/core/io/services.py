"""Import of any register from a file, driven by the register table: read, validate every row
(vectorised), then load the good rows in one transaction. Rows that fail are reported (row as
the user sees it in the file, field, reason, coordinate) and not loaded; whole-file problems
raise FileRefused and store nothing."""
import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from django.db import DatabaseError, connection, transaction

from gridmap.core import geo
from gridmap.core.crypto import digest
from . import parsing
from .columns import apply_mapping, destinations
from .loaders import load_rows
from .reading import LAT_HEADERS, LON_HEADERS, WKT_HEADERS, FileRefused, read
from .registers import REGISTERS
from .spec import Register, parser_for

MAX_SHOWN = 20  # issues quoted in an error message; the --errors file has them all


@dataclass
class Issue:
    row: int
    field: str
    reason: str
    value: str = ""
    coordinate: str = ""
    repaired: bool = False


@dataclass
class ImportReport:
    kind: str
    file: str
    read: int = 0
    loaded: int = 0
    issues: list[Issue] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # the file's columns that fed nothing

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if not i.repaired]

    @property
    def repairs(self) -> list[Issue]:
        return [i for i in self.issues if i.repaired]

    def add(self, row, field, reason, value="", coordinate="", repaired=False):
        self.issues.append(Issue(int(row), field, str(reason), str(value), coordinate, repaired))

    def write_csv(self, path) -> None:
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel opens it as UTF-8
            w = csv.writer(fh)
            w.writerow(["row", "field", "value", "reason", "coordinate", "outcome"])
            for i in sorted(self.issues, key=lambda i: (i.row, i.field)):
                w.writerow([i.row, i.field, i.value, i.reason, i.coordinate, "repaired" if i.repaired else "not loaded"])


class ImportRefused(Exception):
    """--strict and some rows are bad: nothing was stored. Carries the report."""

    def __init__(self, message: str, report: ImportReport):
        super().__init__(message)
        self.report = report


class _Rows:
    """Row bookkeeping during validation: which rows are bad, and why."""

    def __init__(self, report: ImportReport, rows: np.ndarray, frame: pd.DataFrame):
        self.report, self.rows, self.frame = report, rows, frame
        self.bad = np.zeros(len(rows), dtype=bool)

    def flag(self, mask, field: str, reason, coords: dict[int, str] | None = None, repaired=False):
        mask = mask.fillna(False).to_numpy(dtype=bool) if isinstance(mask, pd.Series) else np.asarray(mask, dtype=bool)
        for i in np.flatnonzero(mask & ~self.bad if not repaired else mask):
            why = reason.iloc[i] if isinstance(reason, pd.Series) else reason
            value = self.frame[field].iloc[i] if field in self.frame else ""
            self.report.add(self.rows[i], field, why, "" if pd.isna(value) else value,
                            (coords or {}).get(i, ""), repaired)
        if not repaired:
            self.bad |= mask


@transaction.atomic
def import_file(kind: str, path, *, crs: str | None = None, gcj02: bool = False, strict: bool = False,
                layer: str | None = None, columns: str | None = None, mapping=(), on_step=None) -> ImportReport:
    """Import FILE into register KIND; see the import_data command for the options. `columns` names
    a preset column mapping ("osm"), `mapping` gives "SOURCE=DESTINATION" items (see `columns`).
    `on_step(name)` is called after each stage: read, validated, loaded (progress bars)."""
    on_step = on_step or (lambda name: None)
    reg = REGISTERS[kind]
    src = read(path, layer)
    on_step("read")
    report = ImportReport(kind, Path(path).name, read=len(src.frame))
    rows = _Rows(report, src.rows, src.frame)
    consumed = apply_mapping(reg, src.frame, columns, mapping) if columns or mapping else set()
    present = _rename_aliases(reg, src.frame)
    report.ignored = _ignored(reg, src, present, consumed)
    _require_columns(reg, src, present)
    values = _parse(reg, src.frame, present, rows)
    values["_geom"] = _geometry(reg, src, crs, gcj02, rows) if reg.geometry else None
    if reg.check:
        for mask, fld, reason in reg.check(values, present):
            rows.flag(mask, fld, reason)
    _refuse_duplicates(reg, values, rows)
    try:
        with connection.cursor() as cur:
            _resolve_refs(cur, reg, values, present, rows)
            if strict and rows.bad.any():
                raise ImportRefused(_summary(report, "refused (--strict)"), report)
            on_step("validated")
            good = values[~rows.bad].assign(_row=src.rows[~rows.bad])
            if good.empty:
                report.loaded = 0
                return report
            try:
                report.loaded = (reg.load or load_rows)(cur, reg, good, present, report)
            except DatabaseError as exc:
                raise FileRefused(f"the database refused the rows: {exc}".strip()) from None
    finally:
        _locate(report, src)
    on_step("loaded")
    if strict and report.errors:
        raise ImportRefused(_summary(report, "refused (--strict)"), report)
    return report


def _locate(report: ImportReport, src) -> None:
    """Give every issue without a coordinate its row's (the first vertex, in the file's own CRS),
    so a row refused for a bad cell can be found on the map too."""
    if src.geoms is None:
        return
    index = {int(r): i for i, r in enumerate(src.rows)}
    for issue in report.issues:
        if not issue.coordinate and issue.row in index:
            geom = src.geoms[index[issue.row]]
            issue.coordinate = "" if geom is None or shapely.is_empty(geom) else _coord(shapely.force_2d(geom))


def _summary(report: ImportReport, what: str) -> str:
    lines = [f"{report.file}: {what}: {len(report.errors)} bad row(s) of {report.read}"]
    lines += [f"  row {i.row}, {i.field}: {i.reason}" + (f" at {i.coordinate}" if i.coordinate else "")
              for i in report.errors[:MAX_SHOWN]]
    return "\n".join(lines)


def _rename_aliases(reg: Register, frame: pd.DataFrame) -> set[str]:
    """Accept a column's aliases and its Shapefile name (DBF cuts names to 10 characters)."""
    aliases = {c.name: (*c.aliases, c.name[:10]) for c in reg.columns}
    aliases.update({c: (c[:10],) for r in reg.refs for c in r.columns})
    for name, others in aliases.items():
        alias = next((a for a in others if a in frame.columns), None)
        if name not in frame.columns and alias:
            frame.rename(columns={alias: name}, inplace=True)
    return set(frame.columns)


def _ignored(reg: Register, src, present: set[str], consumed: set[str]) -> list[str]:
    """Columns of the file that feed nothing (a hint that a --map is missing)."""
    known = set(destinations(reg)) | consumed | {"grid_code"}  # export_data adds the grid's code
    if src.tabular:
        known |= {*WKT_HEADERS, *LON_HEADERS, *LAT_HEADERS}
    known |= {a for c in reg.columns for a in (*c.aliases, c.name[:10])} | {c[:10] for r in reg.refs for c in r.columns}
    return sorted(present - known)


def _required(reg: Register, col) -> bool:
    if col.required is not None:
        return col.required
    f = reg.model_field(col)
    return not (f.null or f.blank or f.has_default())


def _require_columns(reg: Register, src, present: set[str]) -> None:
    needed = [c.name for c in reg.columns if _required(reg, c)]
    needed += [c for r in reg.refs if r.required for c in r.columns]
    missing = [c for c in dict.fromkeys(needed) if c not in present]
    if missing:
        raise FileRefused(f"missing required column(s): {', '.join(missing)} (found: {', '.join(sorted(present)) or 'none'})")
    if reg.geometry and reg.geometry.required and src.geoms is None:
        raise FileRefused("no geometry: give a GIS file, or a table with a 'wkt' column or 'lon' and 'lat' columns")


def _parse(reg: Register, frame: pd.DataFrame, present: set[str], rows: _Rows) -> pd.DataFrame:
    """Parse every register column (defaults where absent or empty) and every reference key."""
    n = len(frame)
    blank = pd.Series([""] * n, index=frame.index, dtype=object)
    out = {}
    for col in reg.columns:
        f = None if col.parse else reg.model_field(col)
        if col.name in present:
            values, errors = (col.parse or parser_for(f))(frame[col.name])
            rows.flag(errors.notna(), col.name, errors)
        else:
            values, errors = pd.Series(pd.NA, index=frame.index, dtype=object), pd.Series(pd.NA, index=frame.index, dtype=object)
        empty = values.isna() & errors.isna()
        if _required(reg, col):
            rows.flag(empty, col.name, "missing")
        elif f is not None and f.has_default() and not callable(f.default):
            values = values.where(~empty, f.default)
        elif f is not None and f.blank and not f.null:  # blank text fields are '' in Django, never NULL
            values = values.where(~empty, "")
        out[col.name] = values.astype(object)
    for c in reg.extra:
        out[c] = parsing.text(frame[c]) if c in present else blank
    for ref in reg.refs:
        for c in ref.columns:
            if c in out:
                continue
            cells = frame[c] if c in present else blank
            if c in ref.int_columns:
                nums, errors = parsing.parse_int(cells)
                rows.flag(errors.notna(), c, errors)
                out[c] = nums.astype(object).map(lambda v: pd.NA if pd.isna(v) else str(v))
            elif ref.many:
                out[c] = parsing.several(cells).map(lambda xs, up=ref.upper: [x.upper() for x in xs] if up else xs)
            else:
                text = parsing.text(cells)
                out[c] = (text.str.upper() if ref.upper else text).where(text != "", pd.NA)
    return pd.DataFrame(out, index=frame.index)


def _geometry(reg: Register, src, crs_option, gcj02: bool, rows: _Rows) -> pd.Series:
    """Geometries to WGS84 EWKB: CRS, GCJ-02, range, repair and type checks, all vectorised."""
    spec = reg.geometry
    n = len(src.frame)
    rows.flag(src.geom_errors.notna(), spec.field, src.geom_errors)
    if src.geoms is None:
        return pd.Series([None] * n, index=src.frame.index, dtype=object)
    try:
        crs = geo.resolve_crs("EPSG:4326" if src.tabular and not crs_option else src.crs, crs_option)
    except geo.GeoError as exc:
        raise FileRefused(str(exc)) from None
    original = shapely.force_2d(src.geoms)
    geoms = geo.to_wgs84(original, crs)
    if gcj02:
        if not crs.is_geographic:
            raise FileRefused(f"--gcj02 needs lon/lat coordinates, but the CRS is {crs.name}")
        geoms = geo.gcj02_geoms_to_wgs84(geoms)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    far = geo.out_of_range(geoms, crs)
    where = {i: _coord(original[i]) for i in np.flatnonzero(far)}
    if far.sum() > present.sum() / 2:
        first = np.flatnonzero(far)[0]
        raise FileRefused(
            f"{far.sum()} of {present.sum()} geometries lie outside the range of {crs.name} "
            f"(row {src.rows[first]} at {where[first]}); are the coordinates in another CRS? pass --crs"
        )
    rows.flag(far, spec.field, f"coordinate out of range for {crs.name}", where)
    kind = geo.FIELD_KINDS.get(spec.field)
    if kind is not None:  # the limits of geo.check_shape, as services and the admin apply them
        most, km = geo.limits(kind)
        many, wide = geo.over_limits(geoms, kind)
        many, wide = present & many, present & ~far & ~many & wide
        if most is not None:
            rows.flag(many, spec.field, f"more than {most:,} vertices")
        if km is not None:
            rows.flag(wide, spec.field, f"spans more than {km:g} km")
        far = far | many | wide
    if spec.required:
        rows.flag(~present, spec.field, "missing geometry")
    kinds = shapely.get_type_id(geoms)
    allowed = np.isin(kinds, [shapely.GeometryType[k.upper()].value for k in spec.kinds])
    wrong = present & ~allowed
    reason = pd.Series(pd.NA, index=range(n), dtype=object)
    reason[wrong] = [f"{shapely.GeometryType(t).name.title()} given; expected {' or '.join(spec.kinds)}"
                     for t in kinds[wrong]]
    rows.flag(wrong, spec.field, reason)
    if "Polygon" in spec.kinds:
        geoms = _repair(geoms, present & allowed & ~far, rows, spec.field)
    geoms = np.where(present, geoms, None)
    hexes = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    return pd.Series(hexes, index=src.frame.index, dtype=object)


def _coord(geom) -> str:
    xy = shapely.get_coordinates(geom)
    return f"{xy[0][0]:.6f} {xy[0][1]:.6f}" if len(xy) else ""


def _repair(geoms: np.ndarray, candidates: np.ndarray, rows: _Rows, field: str) -> np.ndarray:
    subset = np.flatnonzero(candidates)
    fixed, rep = geo.repair_polygons(geoms[subset])
    geoms = geoms.copy()
    geoms[subset] = fixed
    for j, reason, ok, change in zip(rep.index, rep.reason, rep.repaired, rep.change):
        i = subset[j]
        at = reason[reason.find("[") + 1:reason.find("]")] if "[" in reason else ""
        mask = np.zeros(len(geoms), dtype=bool)
        mask[i] = True
        if ok:
            rows.flag(mask, field, f"invalid polygon ({reason}) repaired; area changed {change:.2%}", {i: at}, repaired=True)
        else:
            shown = "more than 100%" if not np.isfinite(change) else f"{change:.1%}"
            rows.flag(mask, field, f"invalid polygon ({reason}); a repair would change its area by {shown} (limit 1%)",
                      {i: at})
    return geoms


def _refuse_duplicates(reg: Register, values: pd.DataFrame, rows: _Rows) -> None:
    if not reg.key:
        return
    keys = values[list(reg.key)]
    complete = keys.notna().all(axis=1) & (keys != "").all(axis=1)
    dup = complete & keys.duplicated(keep="first")
    if dup.any():
        pos = pd.Series(np.arange(len(keys)), index=keys.index)[complete]
        first = pos.groupby([keys.loc[complete, c] for c in reg.key]).transform("first")
        first_row = pd.Series(rows.rows[first.reindex(keys.index, fill_value=0)], index=keys.index)
        rows.flag(dup, reg.key[0], "same " + "/".join(reg.key) + " as row " + first_row.astype(str))


def _resolve_refs(cur, reg: Register, values: pd.DataFrame, present: set[str], rows: _Rows) -> None:
    """Look every reference up by natural key, one query per reference; unknown keys are row errors."""
    for ref in reg.refs:
        id_col = f"{ref.field}_ids" if ref.many else f"{ref.field}_id"
        if ref.many:
            items = values[ref.columns[0]]
            wanted = sorted({x for xs in items[~rows.bad] for x in xs})
            found = _lookup(cur, ref, [(w,) for w in wanted])
            missing = items.map(lambda xs: [x for x in xs if (x,) not in found])
            rows.flag(missing.map(bool), ref.columns[0], "unknown: " + missing.map(", ".join))
            values[id_col] = items.map(lambda xs: [found[(x,)] for x in xs if (x,) in found])
            continue
        keys = values[list(ref.columns)]
        given = keys.notna().all(axis=1)
        partial = keys.notna().any(axis=1) & ~given
        rows.flag(partial, ref.columns[0], "give all of " + ", ".join(ref.columns))
        if ref.required:
            rows.flag(~keys.notna().any(axis=1), ref.columns[0], "missing")
        tuples = pd.Series(list(keys.itertuples(index=False, name=None)), index=values.index)
        found = _lookup(cur, ref, sorted(set(tuples[given & ~rows.bad])))
        ids = tuples.map(lambda t: found.get(t))
        unknown = given & ids.isna()
        if ref.in_file:
            unknown &= ~keys[ref.columns[0]].isin(set(values.loc[~rows.bad, ref.in_file]))
        rows.flag(unknown, ref.columns[0], "no " + ref.field.replace("_", " ") + " with "
                  + "/".join(ref.columns) + " " + tuples.map(lambda t: "/".join(map(str, t))))
        values[id_col] = ids.astype("Int64")


def _lookup(cur, ref, wanted: list[tuple]) -> dict[tuple, int]:
    if not wanted:
        return {}
    sent, keys = wanted, ref.keys
    if ref.hashed:  # an encrypted key: matched by its keyed hash
        sent = [tuple(digest(v, ref.hashed) for v in t) for t in wanted]
        keys = tuple(f"{k}_digest" for k in keys)
    arrays = [list(col) for col in zip(*sent)]
    keys = ", ".join(keys)
    unnest = ", ".join(["%s::text[]"] * len(arrays))
    cur.execute(f"SELECT r.id, {keys} FROM {ref.source} WHERE ({keys}) IN (SELECT * FROM unnest({unnest}))", arrays)
    found = {tuple(row[1:]): row[0] for row in cur.fetchall()}
    return {w: found[s] for w, s in zip(wanted, sent) if s in found}
