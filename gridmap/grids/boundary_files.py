"""Whole boundary sets as files (整套边界): read a GeoJSON, Shapefile or GeoPackage of grids
into (code, name, shape) rows for proposals.import_set, and write the boundaries in force at any
moment back out. Every bad row is named (row, field, coordinate); a file with any is refused
whole, nothing stored."""
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from django.core.exceptions import ValidationError

from gridmap.core import geo
from gridmap.core.io.reading import FileRefused, read

CODE_COLUMNS = ("code", "grid_code", "编码", "网格编码")
NAME_COLUMNS = ("name", "grid_name", "名称", "网格名称")
WRITERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}


def _column(frame, names):
    return next((n for n in names if n in frame.columns), None)


def read_set(path, *, crs: str | None = None, gcj02: bool = False) -> list[tuple[str, str, object]]:
    """The grids of a boundary file, in lon/lat: [(code or "", name or "", polygon)]. Raises
    FileRefused for the file as a whole, ValidationError listing every bad row."""
    src = read(path)
    if src.tabular or src.geoms is None:
        raise FileRefused(f"{Path(path).name}: a boundary set is a GeoJSON, Shapefile or GeoPackage of polygons")
    try:
        source_crs = geo.resolve_crs(src.crs, crs)
    except geo.GeoError as exc:
        raise FileRefused(str(exc)) from None
    geoms = geo.to_wgs84(shapely.force_2d(src.geoms), source_crs)
    if gcj02:
        geoms = geo.gcj02_geoms_to_wgs84(geoms)
    code_col, name_col = _column(src.frame, CODE_COLUMNS), _column(src.frame, NAME_COLUMNS)
    rows, errors = [], []
    for i, (row, geom) in enumerate(zip(src.rows, geoms)):
        code = "" if code_col is None else str(src.frame[code_col].iloc[i] or "").strip()
        name = "" if name_col is None else str(src.frame[name_col].iloc[i] or "").strip()
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            errors.append(f"row {row}, geometry: a polygon, got {'nothing' if geom is None else geom.geom_type}")
            continue
        try:
            shape = geo.check_shape(geom, kind="boundary")
        except ValidationError as exc:
            errors.append(f"row {row}{f' ({code})' if code else ''}, geometry: {' '.join(exc.messages)}")
            continue
        if shape.geom_type == "MultiPolygon" and len(shape.geoms) == 1:
            shape = shape.geoms[0]
        if len(code) > 32 or len(name) > 100:
            errors.append(f"row {row}, {'code' if len(code) > 32 else 'name'}: too long")
            continue
        rows.append((code, name, shape))
    if errors:
        raise ValidationError(errors)
    codes = [c for c, _n, _s in rows if c]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValidationError([f"code {c} appears on several rows" for c in twice])
    return rows


def write_set(path, versions) -> int:
    """Write boundary versions (selectors.areas_as_of) to a file whose type its suffix names."""
    path = Path(path)
    driver = WRITERS.get(path.suffix.lower())
    if driver is None:
        raise FileRefused(f"{path.name}: write .geojson, .gpkg or .shp")
    records = [{"code": v.area.code, "name": v.area.name, "parent": v.area.parent.code if v.area.parent else "",
                "version": v.version, "valid_from": v.valid_from.isoformat(),
                "valid_to": v.valid_to.isoformat() if v.valid_to else "", "reason": v.reason,
                "geometry": geo.to_shape(v.geom)} for v in versions]
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326") if records else gpd.GeoDataFrame(
        {"code": np.array([], dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    frame.to_file(path, driver=driver, engine="pyogrio")
    return len(records)
