"""Read a register file — GeoJSON, Shapefile, GeoPackage (pyogrio) or CSV, XLSX (pandas) — into
raw cells, one geometry per row and the row numbers the user sees in the file."""
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from . import parsing

TABULAR = {".csv", ".xlsx"}
VECTOR = {".geojson", ".json", ".shp", ".gpkg"}
USE_ARROW = importlib.util.find_spec("pyarrow") is not None

# Geometry columns a table may carry instead of a real geometry.
WKT_HEADERS = ("wkt", "geometry")
LON_HEADERS = ("lon", "lng", "longitude", "经度")
LAT_HEADERS = ("lat", "latitude", "纬度")


class FileRefused(Exception):
    """The whole file is refused (unreadable, empty, wrong columns or CRS); nothing is stored."""


@dataclass
class Source:
    frame: pd.DataFrame               # raw cells, headers stripped and lower-cased
    geoms: np.ndarray | None          # one shapely geometry (or None) per row; None: no geometry at all
    geom_errors: pd.Series            # per-row reason a geometry cell could not be read
    crs: object                       # what the file declares (None for tables and .prj-less files)
    rows: np.ndarray                  # row numbers as the user sees them
    tabular: bool


def read(path: str | Path, layer: str | None = None) -> Source:
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileRefused(f"{path}: no such file")
    if suffix in TABULAR:
        frame = _read_table(path, suffix, layer)
        rows = np.arange(len(frame)) + 2  # line 1 holds the headers
        geoms, errors = _table_geometry(frame)
        return Source(frame, geoms, errors, None, rows, True)
    if suffix in VECTOR:
        gdf = _read_vector(path, layer)
        spatial = hasattr(gdf, "geometry")  # a GeoPackage attribute table reads as a plain DataFrame
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name) if spatial else gdf).reset_index(drop=True)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        geoms = np.asarray(gdf.geometry.values, dtype=object) if spatial else None
        errors = pd.Series(pd.NA, index=frame.index, dtype=object)
        return Source(frame, geoms, errors, gdf.crs if spatial else None, np.arange(len(frame)) + 1, False)
    raise FileRefused(f"{path.name}: unsupported file type {suffix or '(none)'}; use one of "
                      + ", ".join(sorted(TABULAR | VECTOR)))


def _read_table(path: Path, suffix: str, sheet: str | None) -> pd.DataFrame:
    try:
        if suffix == ".csv":
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            except UnicodeDecodeError:  # Excel in China saves CSV as GBK
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
        else:
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise FileRefused(f"{path.name} is empty") from None
    except Exception as exc:  # pandas and openpyxl raise many kinds; all mean "cannot read"
        raise FileRefused(f"cannot read {path.name}: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if frame.empty:
        raise FileRefused(f"{path.name} holds no rows")
    return frame


def _read_vector(path: Path, layer: str | None):
    try:
        layers = pyogrio.list_layers(path)
        if layer is None and len(layers) > 1:
            raise FileRefused(f"{path.name} has several layers ({', '.join(layers[:, 0])}); pass --layer NAME")
        gdf = pyogrio.read_dataframe(path, layer=layer, use_arrow=USE_ARROW)
    except FileRefused:
        raise
    except Exception as exc:  # pyogrio.errors.DataSourceError, DataLayerError, GDAL errors
        raise FileRefused(f"cannot read {path.name}: {exc}") from None
    if gdf.empty:
        raise FileRefused(f"{path.name} holds no rows")
    return gdf


def _first(frame: pd.DataFrame, names) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def _table_geometry(frame: pd.DataFrame):
    """A table's geometry from a WKT column or lon/lat columns; None if it has neither."""
    errors = pd.Series(pd.NA, index=frame.index, dtype=object)
    wkt = _first(frame, WKT_HEADERS)
    if wkt:
        cells = parsing.text(frame[wkt])
        geoms = shapely.from_wkt(cells.where(cells != "", None).to_numpy(), on_invalid="ignore")
        errors[(cells != "") & shapely.is_missing(geoms)] = "not readable WKT"
        return geoms, errors
    lon, lat = _first(frame, LON_HEADERS), _first(frame, LAT_HEADERS)
    if lon and lat:
        x, ex = parsing.parse_float(frame[lon])
        y, ey = parsing.parse_float(frame[lat])
        errors = ex.where(ex.notna(), ey)
        both = x.notna() & y.notna()
        geoms = np.full(len(frame), None, dtype=object)
        geoms[both.to_numpy()] = shapely.points(x[both].to_numpy(float), y[both].to_numpy(float))
        errors[x.isna() != y.isna()] = "give both lon and lat, or neither"
        return geoms, errors
    return None, errors
