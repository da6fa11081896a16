"""Column mapping on import: a file's own headers (OpenStreetMap tags, a surveying bureau's names)
onto a register's columns, given as `--map SRC=DEST` (repeatable) or a preset (`--columns osm`).

A destination takes, row by row, the first non-empty value of its sources in the order given; a
source `a+b` joins the non-empty cells of a and b (a street and a house number). A column the file
already has under the destination's name is replaced: list it as a source too to keep it, first
or as a fallback. An explicit --map for a destination replaces the preset's sources for it."""
import pandas as pd

from . import parsing
from .reading import FileRefused
from .spec import Register

# The OpenStreetMap tags a building footprint carries, as exported by Overpass turbo (GeoJSON: @id
# "way/123"), QuickOSM (full_id "w123", osm_id + osm_type), osmium or GDAL's OSM driver
# (osm_id for relations, osm_way_id for closed ways) or JOSM. `osm_id`, `osm_type`, `osm_way_id`
# and `osm_building` are read by the buildings register (a stable code, a use), never stored.
OSM_BUILDINGS = [
    ("name", "name"), ("name:zh", "name"), ("addr:housename", "name"),
    ("addr:full", "address"), ("addr:street+addr:housenumber", "address"),
    ("building:levels", "floors_above"), ("levels", "floors_above"),
    ("building:levels:underground", "floors_below"),
    ("height", "height_m"), ("building:height", "height_m"),
    ("full_id", "osm_id"), ("@id", "osm_id"), ("osm_id", "osm_id"), ("id", "osm_id"),
    ("osm_type", "osm_type"), ("osm_way_id", "osm_way_id"),
    ("building", "osm_building"),
]
PRESETS: dict[str, dict[str, list[tuple[str, str]]]] = {"osm": {"buildings": OSM_BUILDINGS}}


def parse_map(items) -> list[tuple[str, str]]:
    """["building:levels=floors_above", ...] → [(source, destination), ...], lower-cased as the
    reader lower-cases headers."""
    pairs = []
    for item in items or ():
        src, sep, dest = str(item).rpartition("=")
        if not sep or not src.strip() or not dest.strip():
            raise FileRefused(f"--map {item}: write SOURCE=DESTINATION, e.g. building:levels=floors_above")
        pairs.append((src.strip().lower(), dest.strip().lower()))
    return pairs


def destinations(reg: Register) -> list[str]:
    """The columns a mapping may fill: the register's own, its references' and its extras."""
    names = [c.name for c in reg.columns] + [c for r in reg.refs for c in r.columns] + list(reg.extra)
    return list(dict.fromkeys(names))


def apply_mapping(reg: Register, frame: pd.DataFrame, preset: str | None = None, items=()) -> set[str]:
    """Rename/combine `frame`'s columns in place; returns the source columns consumed."""
    pairs: list[tuple[str, str]] = []
    if preset:
        kinds = PRESETS.get(preset)
        if kinds is None:
            raise FileRefused(f"--columns {preset}: no such preset; there is {', '.join(sorted(PRESETS))}")
        if reg.kind not in kinds:
            raise FileRefused(f"--columns {preset} is for {', '.join(sorted(kinds))}, not {reg.kind}")
        pairs += kinds[reg.kind]
    explicit = parse_map(items)
    allowed = destinations(reg)
    for src, dest in explicit:
        if dest not in allowed:
            raise FileRefused(f"--map {src}={dest}: {reg.kind} has no column {dest}; it has {', '.join(allowed)}")
        missing = [p for p in _parts(src) if p not in frame.columns]
        if missing:
            raise FileRefused(f"--map {src}={dest}: the file has no column {', '.join(missing)} "
                              f"(found: {', '.join(sorted(frame.columns))})")
    overridden = {dest for _, dest in explicit}
    pairs = [(s, d) for s, d in pairs if d not in overridden] + explicit
    by_dest: dict[str, list[str]] = {}
    for src, dest in pairs:
        by_dest.setdefault(dest, []).append(src)
    consumed: set[str] = set()
    results = {}
    for dest, sources in by_dest.items():
        cells = []
        for src in sources:
            parts = [p for p in _parts(src) if p in frame.columns]
            if parts:
                cells.append(_joined(frame, parts))
                consumed.update(parts)
        if cells:
            results[dest] = _first_filled(cells)
    for dest, values in results.items():  # after reading every source: a destination may be one
        frame[dest] = values
    return consumed


def _parts(src: str) -> list[str]:
    return [p.strip() for p in src.split("+") if p.strip()]


def _joined(frame: pd.DataFrame, parts: list[str]) -> pd.Series:
    if len(parts) == 1:
        return frame[parts[0]]  # as read: a typed GIS column stays typed
    texts = [parsing.text(frame[p]) for p in parts]
    out = texts[0]
    for t in texts[1:]:
        out = pd.Series([_join(a, b) for a, b in zip(out, t)], index=frame.index, dtype=object)
    return out


def _join(a: str, b: str) -> str:
    """Two address parts: no space between Chinese text (科技园路 + 1号 → 科技园路1号), else one."""
    if not a or not b:
        return a or b
    cjk = ord(a[-1]) >= 0x2E80 or ord(b[0]) >= 0x2E80
    return f"{a}{'' if cjk else ' '}{b}"


def _first_filled(cells: list[pd.Series]) -> pd.Series:
    if len(cells) == 1:
        return cells[0]
    texts = [parsing.text(c) for c in cells]
    out = texts[0]
    for t in texts[1:]:
        out = out.where(out != "", t)
    return out
