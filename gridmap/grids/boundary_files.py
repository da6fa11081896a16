"""Whole boundary sets as files (整套边界): read a GeoJSON, Shapefile or GeoPackage of grids
into (code, name, shape) rows for proposals.import_set — from a path (manage.py import_boundaries)
or an upload (the editor's API: GeoJSON, GeoPackage or a zipped Shapefile, size- and type-checked)
— and write the boundaries in force at any moment back out. Every bad row is named (row, field,
coordinate); a file with any is refused whole, nothing stored."""
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gridmap.core import geo
from gridmap.core.io.reading import FileRefused, read

from .topology import invalid_spot

CODE_COLUMNS = ("code", "grid_code", "编码", "网格编码")
NAME_COLUMNS = ("name", "grid_name", "名称", "网格名称")
WRITERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
# An upload: its suffix, and how its first bytes start (a renamed file of another type is refused
# before GDAL opens it). A Shapefile comes zipped, its .shp with the .shx, .dbf and .prj beside it.
UPLOADS = {".geojson": b"{", ".json": b"{", ".gpkg": b"SQLite format 3\x00", ".zip": b"PK\x03\x04"}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# A street's grids with surveyed edges are well under 1 MB; the commit sends the set back as JSON
# (about 2.5× a GeoPackage's bytes), which must stay under DATA_UPLOAD_MAX_MEMORY_SIZE (10 MB).
# Larger sets, a whole city's: manage.py import_boundaries.
MAX_UPLOAD_BYTES = 4 * 2**20
MAX_UNZIPPED_BYTES = 100 * 2**20


def _column(frame, names):
    return next((n for n in names if n in frame.columns), None)


def _row_error(row: int, field: str, reason: str, *, code: str = "", spot=None) -> ValidationError:
    """A bad row, its number, field and spot (lon, lat) kept apart for the editor to mark it."""
    return ValidationError(_("row %(row)s%(code)s, %(field)s: %(reason)s"), code="bad_row", params={
        "row": row, "code": f" ({code})" if code else "", "field": field, "reason": reason,
        "spot": None if spot is None else [round(spot.x, 7), round(spot.y, 7)]})


def checked_rows(rows) -> list[tuple[str, str, object]]:
    """(row number, code, name, lon/lat geometry) → [(code, name, polygon)], each geometry checked
    and repaired as a drawn one (geo.check_shape). Raises ValidationError listing every bad row
    (`feature_errors` gives them apart)."""
    out, errors = [], []
    for row, code, name, geom in rows:
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            errors.append(_row_error(row, "geometry", _("a polygon, got %(type)s") % {
                "type": _("nothing") if geom is None else geom.geom_type}, code=code))
            continue
        try:
            shape = geo.check_shape(geom, kind="boundary")
        except ValidationError as exc:
            errors.append(_row_error(row, "geometry", " ".join(exc.messages), code=code, spot=invalid_spot(geom)))
            continue
        if shape.geom_type == "MultiPolygon" and len(shape.geoms) == 1:
            shape = shape.geoms[0]
        if len(code) > 32 or len(name) > 100:
            errors.append(_row_error(row, "code" if len(code) > 32 else "name", _("too long"), code=code[:32]))
            continue
        out.append((code, name, shape))
    if errors:
        raise ValidationError(errors)
    codes = [c for c, _n, _s in out if c]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise ValidationError([_("code %(code)s appears on several rows") % {"code": c} for c in twice])
    return out


def feature_errors(exc: ValidationError) -> list[dict]:
    """A refused set's errors as the editor shows them: the message, its code where it has one
    (bad_row, unchanged …), and the row (feature number), field and spot where a row is to blame."""
    return [{"message": e.message % e.params if e.params else e.message, **({"code": e.code} if e.code else {}),
             **{k: v for k, v in (e.params or {}).items() if k in ("row", "field", "spot")}}
            for e in exc.error_list]


def read_set(path, *, crs: str | None = None, gcj02: bool = False) -> list[tuple[str, str, object]]:
    """The grids of a boundary file, in lon/lat: [(code or "", name or "", polygon)]. Raises
    FileRefused for the file as a whole, ValidationError listing every bad row."""
    src = read(path)
    if src.tabular or src.geoms is None:
        raise FileRefused(_("%(file)s: a boundary set is a GeoJSON, Shapefile or GeoPackage of polygons") % {
            "file": Path(path).name})
    try:
        source_crs = geo.resolve_crs(src.crs, crs)
    except geo.GeoError as exc:
        raise FileRefused(str(exc)) from None
    geoms = geo.to_wgs84(shapely.force_2d(src.geoms), source_crs)
    if gcj02:
        geoms = geo.gcj02_geoms_to_wgs84(geoms)
    code_col, name_col = _column(src.frame, CODE_COLUMNS), _column(src.frame, NAME_COLUMNS)

    def cell(col, i):
        return "" if col is None else str(src.frame[col].iloc[i] or "").strip()

    return checked_rows((row, cell(code_col, i), cell(name_col, i), geom)
                        for i, (row, geom) in enumerate(zip(src.rows, geoms)))


def read_upload(upload, *, crs: str | None = None, gcj02: bool = False) -> list[tuple[str, str, object]]:
    """`read_set` for an uploaded file (Django's UploadedFile): a GeoJSON, a GeoPackage or a zip
    holding one Shapefile, at most MAX_UPLOAD_BYTES, its type told by its suffix and first bytes."""
    name = Path(upload.name or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOADS:
        raise FileRefused(_("%(file)s: upload a .geojson, a .gpkg or a .zip holding a Shapefile") % {"file": name})
    if upload.size > MAX_UPLOAD_BYTES:
        raise FileRefused(_("%(file)s: %(mb).1f MB is over the %(limit)s MB limit") % {
            "file": name, "mb": upload.size / 2**20, "limit": MAX_UPLOAD_BYTES // 2**20})
    head = upload.read(64)
    upload.seek(0)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(UPLOADS[suffix]):
        raise FileRefused(_("%(file)s is not a %(type)s file") % {"file": name, "type": suffix[1:]})
    with tempfile.TemporaryDirectory(prefix="gridmap-set-") as tmp:
        if suffix == ".zip":
            path = _unzipped_shapefile(upload, Path(tmp), name)
        else:
            path = Path(tmp) / f"set{suffix}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
        return read_set(path, crs=crs, gcj02=gcj02)


def _unzipped_shapefile(upload, into: Path, name: str) -> Path:
    """The one Shapefile of a zip, its parts written under fixed names in `into` (never a path
    from the archive), at most MAX_UNZIPPED_BYTES in all whatever the archive claims."""
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        raise FileRefused(_("%(file)s is not a zip file") % {"file": name}) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            raise FileRefused(_("%(file)s: a zip holding one Shapefile (.shp, .shx, .dbf and .prj), found %(n)s .shp") % {
                "file": name, "n": len(shps)})
        stem = shps[0].filename[:-4]
        parts = {m.filename[len(stem):].lower(): m for m in members
                 if m.filename[:len(stem)] == stem and m.filename[len(stem):].lower() in SHAPEFILE_PARTS}
        missing = [s for s in (".shx", ".dbf") if s not in parts]
        if missing:
            raise FileRefused(_("%(file)s: the Shapefile lacks its %(parts)s") % {"file": name, "parts": ", ".join(missing)})
        budget = MAX_UNZIPPED_BYTES
        for suffix, member in parts.items():
            with archive.open(member) as src, (into / f"set{suffix}").open("wb") as out:
                while chunk := src.read(2**20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise FileRefused(_("%(file)s unpacks to over %(limit)s MB") % {
                            "file": name, "limit": MAX_UNZIPPED_BYTES // 2**20})
                    out.write(chunk)
    return into / "set.shp"


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


# The editor's export formats: ?format= → (the download's suffix, its media type). A Shapefile's
# parts go out zipped, as they come in.
EXPORTS = {"geojson": (".geojson", "application/geo+json"), "gpkg": (".gpkg", "application/geopackage+sqlite3"),
           "shp": (".zip", "application/zip")}


def set_file(versions, fmt: str) -> tuple[bytes, str, str]:
    """`write_set` as a download: (its bytes, its suffix, its media type)."""
    suffix, media_type = EXPORTS[fmt]
    with tempfile.TemporaryDirectory(prefix="gridmap-set-") as tmp:
        path = Path(tmp) / ("grids.shp" if fmt == "shp" else f"grids{suffix}")
        write_set(path, versions)
        if fmt == "shp":
            with zipfile.ZipFile(Path(tmp) / "grids.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                for part in sorted(Path(tmp).glob("grids.*")):
                    if part.suffix != ".zip":
                        archive.write(part, part.name)
            path = Path(tmp) / "grids.zip"
        return path.read_bytes(), suffix, media_type
