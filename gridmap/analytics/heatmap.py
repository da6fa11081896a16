"""The heatmap's reads (统计热力图): counts per square bin sized to the zoom, the newest points of a
street view for a point-density layer, and per-grid counts and rates (per 1,000 residents, per
100 households) for the choropleth. Each count is one set-based statement over its table.

Bins live in a local metric plane: an equirectangular projection at the deployment's latitude
φ0 (settings.LEAFLET_CONFIG's centre), x = lon · 111 320 · cos φ0 m, y = lat · 110 574 m. Within a
city its scale is off by well under 1 % (cos φ varies ~0.3 % over 0.2° of latitude), so a bin is a
true square of `size_m` metres; and a point's bin is floor(lon / dlon), floor(lat / dlat) — two
divisions on ST_X/ST_Y instead of an ST_Transform of every point, so a million points bin in
about the time PostgreSQL takes to read them. Bins are aligned on (0°, 0°): the same zoom gives
the same bins wherever the view is, and each zoom's bins split into four at the next.

Layers derived from people (special groups, welfare) count persons where they live (their
dwelling's building point, their grid) and drop every bin and grid with fewer than
settings.GRIDMAP_MIN_PERSONS_PER_BIN of them, so no one can be picked out; the answer says how
many were dropped.
"""
import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db.models import BigIntegerField, Count, F, FloatField, Func, Q, QuerySet, Value
from django.db.models.functions import Cast, Floor
from django.utils.translation import gettext as _

from gridmap.core.geojson import feature_collection
from gridmap.grids.models import Area, Level
from gridmap.people.models import Household, Person, SpecialGroupRecord, WelfareRecord

from . import selection as sel
from .selection import Selection
from .tables import Table

EVENTS, SPECIAL_GROUPS, WELFARE = "events", "special_groups", "welfare"
PEOPLE_LAYERS = (SPECIAL_GROUPS, WELFARE)
LAYERS = (EVENTS, *PEOPLE_LAYERS)
BIN_PX = 32  # a bin is about this many screen pixels wide at the zoom asked
MAX_BINS_ACROSS = 96  # more only for boxes wider than any screen: the bins then double in size
POINTS_LIMIT = 5000  # the point-density view's points per answer (the newest); more: "truncated"
M_PER_DEG_LAT = 110574.0
M_PER_DEG_LON_EQUATOR = 111320.0
TILE_M_PER_PX_EQUATOR = 156543.03392804097  # a web-map tile's metres per pixel at zoom 0


def lat0() -> float:
    return float(settings.LEAFLET_CONFIG["DEFAULT_CENTER"][0])


def min_persons() -> int:
    return settings.GRIDMAP_MIN_PERSONS_PER_BIN


@dataclass(frozen=True)
class Bins:
    """The square bins of one zoom: side `size_m` metres, `dlon` × `dlat` degrees; bin (gx, gy)
    spans [gx·dlon, (gx+1)·dlon) × [gy·dlat, (gy+1)·dlat)."""

    size_m: float
    dlon: float
    dlat: float

    def as_dict(self) -> dict:
        return {"size_m": round(self.size_m, 1), "dlon": self.dlon, "dlat": self.dlat, "lat0": lat0()}


def bins_for(zoom: int, bbox) -> Bins:
    """BIN_PX screen pixels at `zoom`, doubled until the box is at most MAX_BINS_ACROSS bins wide
    and high (so a bin size is always BIN_PX · 2^k pixels of some zoom: bins nest across zooms)."""
    cos0 = math.cos(math.radians(lat0()))
    size = BIN_PX * TILE_M_PER_PX_EQUATOR * cos0 / 2 ** zoom
    w, s, e, n = bbox
    span = max((e - w) * M_PER_DEG_LON_EQUATOR * cos0, (n - s) * M_PER_DEG_LAT)
    while span / size > MAX_BINS_ACROSS:
        size *= 2
    return metric_bins(size)


def metric_bins(size: float) -> Bins:
    """Square bins of `size` metres in the local plane."""
    cos0 = math.cos(math.radians(lat0()))
    return Bins(size, size / (M_PER_DEG_LON_EQUATOR * cos0), size / M_PER_DEG_LAT)


def _box(bbox) -> Polygon:
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    return box


class _Coordinate(Func):
    """ST_X or ST_Y of a point column, as a plain float: read in the statement itself (a selected
    geometry would come out as WKB and be parsed again for every row)."""

    output_field = FloatField()


def _group_by_bin(qs: QuerySet, point: str, bins: Bins) -> list[list[int]]:
    """[[gx, gy, rows], …] of `qs` by the bin of `point`: one GROUP BY statement. PostgreSQL
    expects one group per distinct point, so it aggregates a district in one process; told the
    events' points have few distinct values (ALTER TABLE events_event ALTER COLUMN point SET
    (n_distinct = 1000)), it aggregates in parallel workers, about twice as fast at a million."""
    def cell(function: str, size: float):
        return Cast(Floor(_Coordinate(F(point), function=function) / Value(size)), BigIntegerField())

    rows = (qs.order_by().annotate(gm_gx=cell("ST_X", bins.dlon), gm_gy=cell("ST_Y", bins.dlat))
            .values("gm_gx", "gm_gy").annotate(gm_n=Count("*")).order_by("gm_gx", "gm_gy"))
    return [[r["gm_gx"], r["gm_gy"], r["gm_n"]] for r in rows]


# --- who is counted -------------------------------------------------------------------------------

def people(selection: Selection, layer: str) -> QuerySet[Person]:
    """The persons of a people layer in the selection's area: with a special-group record (sealed
    ones never: they are the centre's alone) or a welfare record that held during the period."""
    period = selection.period
    held = Q(start__lte=period.last_day) & (Q(end__isnull=True) | Q(end__gte=period.first_day))
    records = SpecialGroupRecord.objects.filter(held, sealed=False) if layer == SPECIAL_GROUPS else WelfareRecord.objects.filter(held)
    qs = Person.objects.filter(pk__in=records.values("person_id"))
    if (ids := selection.grid_ids()) is not None:
        qs = qs.filter(grid_id__in=ids)
    return qs


def _suppress(counts: list[list[int]]) -> tuple[list[list[int]], int]:
    """The bins with at least min_persons() persons, and how many were dropped."""
    kept = [b for b in counts if b[2] >= min_persons()]
    return kept, len(counts) - len(kept)


# --- the answers ----------------------------------------------------------------------------------

def bins(selection: Selection, layer: str, bbox, zoom: int) -> dict:
    """The bins of the box at the zoom with their counts (events, or persons of a people layer,
    small bins dropped), and the totals shown."""
    grid = bins_for(zoom, bbox)
    suppressed = 0
    if layer == EVENTS:
        counts = _group_by_bin(sel.events(selection).filter(point__bboverlaps=_box(bbox)), "point", grid)
    else:
        located = people(selection, layer).filter(dwelling__building__location__bboverlaps=_box(bbox))
        counts, suppressed = _suppress(_group_by_bin(located, "dwelling__building__location", grid))
    return {
        "layer": layer, "zoom": zoom, "bbox": list(bbox), "bin": grid.as_dict(),
        "bins": counts, "total": sum(b[2] for b in counts), "max": max((b[2] for b in counts), default=0),
        **_people_note(layer, suppressed),
    }


def points(selection: Selection, bbox) -> dict:
    """The newest POINTS_LIMIT events of the box as [lat, lon] (the point-density view), and
    whether more matched."""
    qs = sel.events(selection).filter(point__bboverlaps=_box(bbox)).order_by("-reported_at", "-pk")
    rows = [p.coords for p in qs.values_list("point", flat=True)[:POINTS_LIMIT + 1]]
    return {
        "points": [[round(lat, 6), round(lon, 6)] for lon, lat in rows[:POINTS_LIMIT]],
        "limit": POINTS_LIMIT, "truncated": len(rows) > POINTS_LIMIT,
    }


def grid_table(selection: Selection, layer: str) -> Table:
    """Per grid of the area (the primary layer's; a grid retired since, when it has counts): the
    count, today's residents and households, and the count per 1,000 residents and per 100
    households — empty where the grid has no residents (households), never infinite. For a
    people layer a grid with fewer than min_persons() persons has its figures emptied and
    "suppressed" set."""
    ids = selection.grid_ids()
    in_area = (lambda qs: qs) if ids is None else (lambda qs: qs.filter(grid_id__in=ids))
    counted = sel.events(selection) if layer == EVENTS else people(selection, layer)
    counts = _by_grid(counted)
    residents = _by_grid(in_area(Person.objects.all()))
    households = _by_grid(in_area(Household.objects.all()))
    grids = Area.objects.filter(level=Level.GRID, layer__is_primary=True).filter(Q(retired_at__isnull=True) | Q(pk__in=list(counts)))
    if ids is not None:
        grids = grids.filter(pk__in=ids)
    rows = []
    for grid_id, code, name in grids.order_by("code").values_list("id", "code", "name"):
        n, res, hh = counts.get(grid_id, 0), residents.get(grid_id, 0), households.get(grid_id, 0)
        hidden = layer != EVENTS and 0 < n < min_persons()
        rows.append({
            "id": grid_id, "code": code, "name": name, "count": None if hidden else n,
            "residents": res, "households": hh,
            "per_1000_residents": None if hidden or not res else round(n * 1000 / res, 2),
            "per_100_households": None if hidden or not hh else round(n * 100 / hh, 2),
            "suppressed": hidden,
        })
    return Table(
        name=f"grids_{layer}", title=_("Counts per grid"),
        columns=[("code", _("Grid code")), ("name", _("Grid")), ("count", _("Count")), ("residents", _("Residents")),
                 ("households", _("Households")), ("per_1000_residents", _("Per 1,000 residents")),
                 ("per_100_households", _("Per 100 households"))],
        rows=rows, note=sel.boundaries(selection)["rule"],
    )


def grids(selection: Selection, layer: str) -> dict:
    """The choropleth's answer: the grid table's rows and, for a people layer, how many grids
    were suppressed."""
    table = grid_table(selection, layer)
    return {"layer": layer, "grids": table.rows, **_people_note(layer, sum(r["suppressed"] for r in table.rows))}


def outlines(selection: Selection) -> str:
    """The area's grids as drawn today (GeoJSON by PostGIS, id/code/name): the choropleth's shapes,
    loaded once per area while the counts change with the filters and the month."""
    qs = Area.objects.filter(level=Level.GRID, layer__is_primary=True, boundary__isnull=False)
    if (ids := selection.grid_ids()) is not None:
        qs = qs.filter(pk__in=ids)
    return feature_collection(qs, "boundary", {"id": "id", "code": "code", "name": "name"})


def _by_grid(qs: QuerySet) -> dict[int, int]:
    """{grid id: rows} in one GROUP BY."""
    return dict(qs.order_by().values_list("grid_id").annotate(n=Count("pk")).values_list("grid_id", "n"))


def _people_note(layer: str, suppressed: int) -> dict:
    if layer == EVENTS:
        return {}
    return {"min_persons": min_persons(), "suppressed": suppressed}
