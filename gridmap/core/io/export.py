"""Export of any register to GeoJSON, GeoPackage or CSV, in the same columns the import reads,
so an exported file imports back unchanged. Located registers add their grid's code."""
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from django.conf import settings
from django.db import connection

from gridmap.core.crypto import decrypt

from .reading import FileRefused
from .registers import REGISTERS
from .spec import Register

FORMATS = (".geojson", ".gpkg", ".csv")


def export_sql(reg: Register) -> str:
    """One SELECT giving the file's columns: fields, references by natural key, geometry, grid code."""
    meta = reg.model._meta
    select, joins = [], []
    for col in reg.columns:
        select.append(f't.{meta.get_field(col.field_name).column} AS "{col.name}"')
    for i, ref in enumerate(reg.refs):
        keys = ", ".join(f"{k} AS c{j}" for j, k in enumerate(ref.keys))
        if ref.many:
            f = meta.get_field(ref.field)
            select.append(
                f"(SELECT string_agg(k.c0, ';' ORDER BY k.c0) FROM {f.m2m_db_table()} m "
                f"JOIN (SELECT r.id, {keys} FROM {ref.source}) k ON k.id = m.{f.m2m_reverse_name()} "
                f'WHERE m.{f.m2m_column_name()} = t.id) AS "{ref.columns[0]}"'
            )
            continue
        joins.append(f"LEFT JOIN (SELECT r.id, {keys} FROM {ref.source}) r{i} ON r{i}.id = t.{meta.get_field(ref.field).column}")
        select += [f'r{i}.c{j} AS "{c}"' for j, c in enumerate(ref.columns)]
    if reg.geometry:
        select.append(f"ST_AsBinary(t.{meta.get_field(reg.geometry.field).column}) AS _geom")
    if any(f.name == "grid" for f in meta.get_fields()):
        select.append('g.code AS "grid_code"')
        joins.append("LEFT JOIN grids_area g ON g.id = t.grid_id")
    order = ", ".join(f'"{c}"' for c in (reg.sort or reg.key)) or "t.id"
    return f"SELECT {', '.join(select)} FROM {meta.db_table} t {' '.join(joins)} ORDER BY {order}, t.id"


def export_file(kind: str, path) -> int:
    """Write register KIND to PATH (.geojson, .gpkg or .csv); returns the number of rows."""
    reg = REGISTERS[kind]
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise FileRefused(f"cannot export to {path.suffix or 'a file without suffix'}; use {', '.join(FORMATS)}")
    sql = reg.export_sql or export_sql(reg)
    with connection.cursor() as cur:
        cur.execute(sql)
        names = [d.name for d in cur.description]
        frame = pd.DataFrame.from_records(cur.fetchall(), columns=names)
    frame = _opened(reg, frame)
    frame = frame.apply(_plain).convert_dtypes()
    geoms = None
    if "_geom" in frame:
        geoms = shapely.from_wkb(frame.pop("_geom").map(lambda b: None if b is None else bytes(b)).to_numpy())
    if path.suffix.lower() == ".csv":
        if geoms is not None:
            if reg.geometry.points_only:
                xy = np.full((len(frame), 2), np.nan)
                has = ~shapely.is_missing(geoms)
                xy[has] = shapely.get_coordinates(geoms[has])
                frame["lon"], frame["lat"] = xy[:, 0], xy[:, 1]
            else:
                frame["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
        frame.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel opens it as UTF-8
    else:
        geometry = geoms if geoms is not None else np.full(len(frame), None, dtype=object)
        gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
        if path.exists():
            path.unlink()  # GDAL would append to an existing GeoPackage
        gdf.to_file(path, layer=kind, engine="pyogrio",
                    driver="GPKG" if path.suffix.lower() == ".gpkg" else "GeoJSON")
    return len(frame)


def _opened(reg: Register, frame: pd.DataFrame) -> pd.DataFrame:
    """Encrypted columns decrypted (a many-reference cell holds tokens joined by ';': each
    decrypted, then sorted), and the rows put back in the order of the register's sort columns
    when one of them was encrypted (the database could only order the tokens)."""
    sealed = [c for c in reg.sealed_columns() if c in frame]
    for c in sealed:
        frame[c] = frame[c].map(lambda v: ";".join(sorted(map(decrypt, v.split(";")))) if isinstance(v, str) else v)
    order = list(reg.sort or reg.key)
    if not reg.export_sql and set(order) & set(sealed):
        frame = frame.sort_values(order, kind="stable").reset_index(drop=True)
    return frame


def _plain(col: pd.Series) -> pd.Series:
    """Values a file can hold: dates as ISO text, times as local ISO text."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return col.map(lambda v: v.astimezone(tz).isoformat() if hasattr(v, "astimezone") and hasattr(v, "hour")
                   else v.isoformat() if hasattr(v, "isoformat") else v)
