"""Hotspots (热点分析): where events cluster more than chance allows, the "emerging" change over
the last weeks, and the places and households that keep coming back.

The statistic is Getis-Ord Gi* (esda.G_Local, star=True) over grids, square bins or hexagons:

  - weights are binary (transform "B") and every unit is its own neighbour, so the z-score is
    Getis & Ord's (1995) Gi* as ArcGIS computes it: (Σ_j w_ij x_j − x̄ W_i) / (S √((n W_i − W_i²)/(n−1)));
  - neighbours are queen contiguity (grids whose boundaries touch, even at a corner; the 8 bins
    around a bin, the 6 hexagons around a hexagon), the k nearest unit centres, or every centre
    within a distance band;
  - p is two-sided, from the normal distribution (or from permutations when asked), and the
    hot/cold classes at 90/95/99 % confidence use Benjamini–Hochberg adjusted p-values (q), so
    that about 5 % of the units called hot or cold at 95 % are false alarms however many units
    are tested.

Distances and bins are in the heatmap's local metric plane (heatmap.py: degrees times metres per
degree at the deployment's latitude): arithmetic on ST_X/ST_Y, not an ST_Transform of every
event, accurate to well under 1 % across a city and one cheap GROUP BY.
"""
import datetime as dt
import json
import math
import warnings
from dataclasses import dataclass

import numpy as np
import shapely
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, FloatField, Func, Max, Q, TextField, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from esda.getisord import G_Local
from libpysal.weights import KNN, DistanceBand, W, min_threshold_distance
from rest_framework.exceptions import ValidationError
from scipy.stats import false_discovery_control, norm

from gridmap.core import clock
from gridmap.core.geo import to_shape
from gridmap.events.workflow import State
from gridmap.grids.models import Area, AreaBoundary, Level

from . import heatmap, periods
from .periods import Period
from .selection import Selection, boundaries, choice, events

UNITS = ("grid", "bin", "hex")
WEIGHTS = ("queen", "knn", "distance")
CONFIDENCE = (99, 95, 90)  # a unit's class is the highest level whose 1 − level its q reaches
MAX_BINS = 20_000
MAX_PERMUTATIONS = 999
MAX_DRAWS = 2_000_000  # permutations × units: about a second of esda's work
SIMPLIFY_DEGREES = 0.00002  # ~2 m: grid outlines are drawn, not measured
RECURRING_LIMIT = 200  # places / households listed at most (the worst first)
WEIGHTS_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Params:
    """How the statistic is computed; every field is a query parameter of the API."""

    unit: str = "grid"
    weights: str = "queen"
    k: int = 6  # knn
    distance: float | None = None  # distance band, metres; None: the least that gives every unit a neighbour
    size: int = 500  # bin side, metres
    permutations: int = 0  # 0: analytical p-values

    def as_dict(self) -> dict:
        return {"unit": self.unit, "weights": self.weights, "k": self.k, "distance": self.distance,
                "size": self.size, "permutations": self.permutations}


def parse_params(params) -> Params:
    """The hotspot parameters of a query string; 400 naming the field when bad."""
    unit = choice(params, "unit", UNITS)
    weights = choice(params, "weights", WEIGHTS)
    distance = params.get("distance") or None
    if distance is not None:
        distance = float(number_param(params, "distance", 10, 50_000, float))
    return Params(unit=unit, weights=weights, k=number_param(params, "k", 1, 30, int, 6), distance=distance,
                  size=number_param(params, "size", 50, 10_000, int, 500),
                  permutations=number_param(params, "permutations", 0, MAX_PERMUTATIONS, int, 0))


def number_param(params, name, low, high, kind, default=None):
    raw = params.get(name) or default
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: _("a number from %(low)s to %(high)s") % {"low": low, "high": high}}) from None
    if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
        raise ValidationError({name: _("a number from %(low)s to %(high)s") % {"low": low, "high": high}})
    return value


# --- the units: grids or bins, with their counts, centres and shapes ----------------------------

@dataclass
class Units:
    """The units tested, in one order: keys, labels, centres in the local plane (metres),
    GeoJSON geometries, and (for bins) their lattice indices."""

    kind: str
    keys: list
    labels: list[dict]
    xy: np.ndarray
    geometries: list[dict]
    touching: float | None = None  # bins: the centre distance of queen neighbours


def _metres(lon, lat) -> np.ndarray:
    """Points in the heatmap's local metric plane (heatmap.py): x, y in metres."""
    one = heatmap.metric_bins(1.0)
    return np.column_stack([np.asarray(lon, dtype=float) / one.dlon, np.asarray(lat, dtype=float) / one.dlat]).reshape(-1, 2)


def _grids(selection: Selection):
    """The current grids of the primary layer in the selection's area."""
    qs = Area.objects.filter(level=Level.GRID, layer__is_primary=True, boundary__isnull=False, retired_at__isnull=True)
    if selection.area is not None:
        qs = qs.filter(path__startswith=selection.area.path)
    return qs


def grid_units(selection: Selection) -> Units:
    def coordinate(function):
        return Func(Func(F("boundary"), function="ST_PointOnSurface"), function=function, output_field=FloatField())
    shape = Func(Func(F("boundary"), Value(SIMPLIFY_DEGREES), function="ST_SimplifyPreserveTopology"), Value(6),
                 function="ST_AsGeoJSON", output_field=TextField())
    rows = list(_grids(selection).annotate(cx=coordinate("ST_X"), cy=coordinate("ST_Y"), shape=shape)
                .order_by("code").values_list("id", "code", "name", "cx", "cy", "shape"))
    return Units("grid", [r[0] for r in rows], [{"id": r[0], "code": r[1], "name": r[2]} for r in rows],
                 _metres([r[3] for r in rows], [r[4] for r in rows]), [json.loads(r[5]) for r in rows])


def grid_counts(selection: Selection, period: Period | None = None) -> dict[int, int]:
    """Events per grid they were reported in (one GROUP BY)."""
    return heatmap._by_grid(events(selection, period))


def _outline(selection: Selection):
    """What the bins cover (shapely): the area's outline, or every top area's."""
    rows = [selection.area] if selection.area is not None else list(Area.objects.filter(parent__isnull=True, boundary__isnull=False))
    shapes = [to_shape(a.boundary) for a in rows if a.boundary is not None]
    return shapely.union_all(shapes) if shapes else None


@dataclass(frozen=True)
class Squares:
    """Square bins `size` metres wide, the heatmap's (aligned on 0°, 0° in its plane)."""

    size: float

    def counts(self, qs) -> dict[tuple[int, int], int]:
        return {(gx, gy): n for gx, gy, n in heatmap._group_by_bin(qs, "point", heatmap.metric_bins(self.size))}

    def covering(self, west, south, east, north):
        """Cell indices (two arrays) of every bin over the box (metres)."""
        cols = np.arange(math.floor(west / self.size), math.floor(east / self.size) + 1)
        rows = np.arange(math.floor(south / self.size), math.floor(north / self.size) + 1)
        return (a.ravel() for a in np.meshgrid(cols, rows))

    def centres(self, a, b):
        return (np.asarray(a) + 0.5) * self.size, (np.asarray(b) + 0.5) * self.size

    def corners(self, x, y):
        h = self.size / 2
        return [(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)]

    @property
    def touching(self) -> float:
        """The centre distance of bins that share an edge or a corner (queen: 8 around)."""
        return self.size * math.sqrt(2)


@dataclass(frozen=True)
class Hexagons:
    """Pointy-top hexagons `size` metres across the flats, in the heatmap's plane: row r's centres
    are r · 1.5 R north (R = size / √3, the corner radius), odd rows shifted half a hexagon east.
    A point's hexagon comes from its projections on the normals of the three edge directions
    (see counts)."""

    size: float

    @property
    def pair(self) -> float:
        return self.size * math.sqrt(3)  # two rows' height: 3 R

    def counts(self, qs) -> dict[tuple[int, int], int]:
        """Events per hexagon, one GROUP BY without a branch: in units of the width, with the
        projections on the three edge normals 2X, X + √3Y and −X + √3Y floored (+1), the lattice
        point is q = ⌊(a + b) / 3⌋ steps east, r = ⌊(b + c) / 3⌋ rows north (Charles Chambers'
        pixel-to-hex), i.e. column q − r + ⌊r / 2⌋ of row r."""
        one = heatmap.metric_bins(1.0)

        def units(function, per_degree):  # read in the statement: a selected geometry would come out as WKB
            return Func(F("point"), function=function, output_field=FloatField()) / Value(per_degree * self.size)
        inner = qs.order_by().annotate(hx=units("ST_X", one.dlon), hy=units("ST_Y", one.dlat)).values("hx", "hy")
        sql, params = inner.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(f"""
                SELECT (q - r + floor(r / 2))::int, r::int, count(*)
                FROM (SELECT floor((a + b) / 3) AS q, floor((b + c) / 3) AS r
                      FROM (SELECT floor(2 * p.hx + 1) AS a, floor(p.hx + sqrt(3) * p.hy + 1) AS b,
                                   floor(-p.hx + sqrt(3) * p.hy + 1) AS c FROM ({sql}) p) f) h
                GROUP BY 1, 2""", params)
            return {(col, row): n for col, row, n in cur.fetchall()}

    def covering(self, west, south, east, north):
        cols = np.arange(math.floor(west / self.size) - 1, math.floor(east / self.size) + 2)
        rows = np.arange(math.floor(2 * south / self.pair) - 1, math.floor(2 * north / self.pair) + 2)
        return (a.ravel() for a in np.meshgrid(cols, rows))

    def centres(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        return (a + 0.5 * (b % 2)) * self.size, b * self.pair / 2

    def corners(self, x, y):
        r = self.size / math.sqrt(3)
        return [(x + r * math.cos(math.radians(a)), y + r * math.sin(math.radians(a))) for a in range(30, 360, 60)]

    @property
    def touching(self) -> float:
        """The centre distance of hexagons that share an edge (6 around)."""
        return self.size


def bin_units(selection: Selection, params: Params, periods_: list[Period]) -> tuple[Units, list[dict]]:
    """Square bins or hexagons of `size` metres over the area: those whose centre is inside it,
    plus any holding an event of the selection; and the counts per cell of each period."""
    shape = Hexagons(params.size) if params.unit == "hex" else Squares(params.size)
    one = heatmap.metric_bins(1.0)
    counts = [shape.counts(events(selection, p)) for p in periods_]
    cells = {c for found in counts for c in found}
    if (outline := _outline(selection)) is not None:
        west, south, east, north = outline.bounds
        a, b = shape.covering(west / one.dlon, south / one.dlat, east / one.dlon, north / one.dlat)
        if len(a) > 4 * MAX_BINS:
            raise ValidationError({"size": _("too many bins for this area: take larger bins")})
        x, y = shape.centres(a, b)
        inside = shapely.contains_xy(outline, x * one.dlon, y * one.dlat)
        cells |= {(int(i), int(j)) for i, j in zip(a[inside], b[inside])}
    if len(cells) > MAX_BINS:
        raise ValidationError({"size": _("too many bins for this area: take larger bins")})
    cells = sorted(cells)
    x, y = shape.centres([c[0] for c in cells], [c[1] for c in cells])
    geometries = []
    for cx, cy in zip(x, y):
        ring = [[round(px * one.dlon, 7), round(py * one.dlat, 7)] for px, py in shape.corners(cx, cy)]
        geometries.append({"type": "Polygon", "coordinates": [ring + ring[:1]]})
    labels = [{"id": f"{params.unit}:{i}:{j}", "gx": i, "gy": j} for i, j in cells]
    return Units(params.unit, cells, labels, np.column_stack([x, y]).reshape(-1, 2), geometries, shape.touching), counts


# --- weights -------------------------------------------------------------------------------------

def boundary_version() -> str:
    """Changes whenever a grid boundary version is written or ended: the weights' cache key."""
    found = AreaBoundary.objects.filter(area__level=Level.GRID).aggregate(n=Count("id"), last=Max("id"), ended=Max("valid_to"))
    return f"{found['n']}-{found['last']}-{found['ended']}"


def queen_pairs() -> list[tuple[int, int]]:
    """Pairs of current primary grids whose boundaries touch or share a corner (queen
    contiguity), found with the GiST index; cached per boundary version (a redraw changes it)."""
    key = f"analytics:queen:{boundary_version()}"
    pairs = cache.get(key)
    if pairs is None:
        with connection.cursor() as cur:
            cur.execute("""
                SELECT a.id, b.id FROM grids_area a
                JOIN grids_gridlayer l ON l.id = a.layer_id AND l.is_primary
                JOIN grids_area b ON b.layer_id = a.layer_id AND b.id > a.id AND b.level = 'grid'
                     AND b.boundary IS NOT NULL AND b.retired_at IS NULL
                     AND a.boundary && b.boundary AND ST_Intersects(a.boundary, b.boundary)
                WHERE a.level = 'grid' AND a.boundary IS NOT NULL AND a.retired_at IS NULL""")
            pairs = cur.fetchall()
        cache.set(key, pairs, WEIGHTS_CACHE_SECONDS)
    return pairs


def neighbours(units: Units, params: Params) -> tuple[dict[int, list[int]], dict]:
    """Each unit's neighbours (indices, itself excluded) and what the weights were."""
    n = len(units.keys)
    if params.weights == "queen":
        if units.kind == "grid":
            index = {key: i for i, key in enumerate(units.keys)}
            out = {i: [] for i in range(n)}
            for a, b in queen_pairs():
                if a in index and b in index:
                    out[index[a]].append(index[b])
                    out[index[b]].append(index[a])
        elif n > 1:
            w = DistanceBand.from_array(units.xy, threshold=units.touching * 1.01, binary=True, silence_warnings=True)
            out = {i: list(w.neighbors[i]) for i in range(n)}
        else:
            out = {i: [] for i in range(n)}
        return out, {}
    if n < 2:
        return {i: [] for i in range(n)}, {}
    if params.weights == "knn":
        k = min(params.k, n - 1)
        w = KNN.from_array(units.xy, k=k, silence_warnings=True)
        return {i: list(w.neighbors[i]) for i in range(n)}, {"k": k}
    band = params.distance or float(min_threshold_distance(units.xy))
    w = DistanceBand.from_array(units.xy, threshold=band * (1 + 1e-9), binary=True, silence_warnings=True)
    return {i: list(w.neighbors[i]) for i in range(n)}, {"distance": round(band, 1)}


# --- the statistic ------------------------------------------------------------------------------

def gi_star(counts: np.ndarray, nbrs: dict[int, list[int]], permutations: int = 0, seed: int = 0) -> dict:
    """z, two-sided p, BH-adjusted q, confidence and class per unit (lists in unit order).
    With fewer than three units, no events or no variation, nothing can be tested: z and p are
    None and every class "none"."""
    y = np.asarray(counts, dtype=float)
    n = len(y)
    if n < 3 or y.sum() == 0 or np.all(y == y[0]):
        return {"z": [None] * n, "p": [None] * n, "q": [None] * n, "confidence": [0] * n, "class": ["none"] * n}
    w = W({i: [i, *nbrs[i]] for i in range(n)}, silence_warnings=True)  # each unit its own neighbour: Gi*
    with warnings.catch_warnings():
        # esda 2.x draws "directed" (folded one-sided) pseudo p-values and warns that 3.x will
        # default to two-sided; they are doubled below, as the analytical ones are two-sided
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        g = G_Local(y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1, keep_simulations=False)
    z = np.asarray(g.Zs, dtype=float)
    p = np.minimum(1.0, 2 * np.asarray(g.p_sim, dtype=float)) if permutations else 2 * norm.sf(np.abs(z))
    return {"z": [round(float(v), 4) for v in z], "p": [float(f"{v:.4g}") for v in p], **classify(z, p)}


def classify(z, p) -> dict:
    """Benjamini–Hochberg adjusted p (q) per unit, its confidence (the highest level whose
    1 − level q reaches: 99, 95, 90, or 0) and class (hot for z > 0, cold for z < 0)."""
    q = false_discovery_control(np.asarray(p, dtype=float), method="bh")
    confidence = [next((c for c in CONFIDENCE if qi <= 1 - c / 100 + 1e-12), 0) for qi in q]
    classes = ["none" if not c else "hot" if zi > 0 else "cold" for c, zi in zip(confidence, z)]
    return {"q": [float(f"{v:.4g}") for v in q], "confidence": confidence, "class": classes}


def method(params: Params, weights_used: dict, period: Period | None = None, extra: list | None = None) -> dict:
    """What was computed, in words for the panel beside the map and the report."""
    unit = {"grid": _("grids (their current boundaries)"), "bin": _("square bins of %(size)s m") % {"size": params.size},
            "hex": _("hexagons %(size)s m across") % {"size": params.size}}[params.unit]
    weights = {
        "queen": _("queen contiguity: units that share an edge or a corner"),
        "knn": _("the %(k)s nearest unit centres") % {"k": weights_used.get("k", params.k)},
        "distance": _("unit centres within %(d)s m") % {"d": weights_used.get("distance", params.distance)},
    }[params.weights]
    p_value = (_("two-sided, from %(n)s random permutations") % {"n": params.permutations} if params.permutations
               else _("two-sided, from the normal distribution"))
    lines = [
        (_("Statistic"), _("Getis-Ord Gi* (esda.G_Local, star=True): each unit with its neighbours against the whole area")),
        (_("Spatial units"), unit),
        (_("Neighbours"), weights),
        (_("Weights"), _("binary, each unit its own neighbour (not row-standardised)")),
        (_("p-value"), p_value),
        (_("Multiple testing"), _("false discovery rate (Benjamini–Hochberg) over all units")),
        (_("Confidence levels"), "90 %, 95 %, 99 %"),
    ]
    if period is not None:
        lines.append((_("Period"), f"{period.first_day.isoformat()} – {period.last_day.isoformat()}"))
    return {"statistic": "Gi*", "params": {**params.as_dict(), **weights_used}, "fdr": "benjamini-hochberg",
            "confidence_levels": list(CONFIDENCE), "lines": [{"label": k, "value": v} for k, v in lines + (extra or [])]}


def legend() -> list[dict]:
    return ([{"class": "hot", "confidence": c, "label": _("hot spot, %(c)s %% confidence") % {"c": c}} for c in CONFIDENCE]
            + [{"class": "cold", "confidence": c, "label": _("cold spot, %(c)s %% confidence") % {"c": c}} for c in CONFIDENCE]
            + [{"class": "none", "confidence": 0, "label": _("not significant")}])


def choices() -> dict:
    """The panel's choices and their labels (hotspots_layer.js writes no words of its own)."""
    return {
        "title": _("Hotspots (Gi*)"),
        "labels": {"view": _("Show"), "unit": _("Spatial units"), "weights": _("Neighbours"),
                   "report": _("Download the offline map report")},
        "view": [{"value": "hotspots", "label": _("hot and cold spots")},
                 {"value": "emerging", "label": _("emerging: last 4 weeks against the 4 before")},
                 {"value": "recurring", "label": _("recurring places and households (6 months)")}],
        "recurring": {"buildings": _("Buildings with repeated events"), "households": _("Households with repeated events"),
                      "none": _("none")},
        "unit": [{"value": "grid", "label": _("grids")}, {"value": "bin", "label": _("500 m squares")},
                 {"value": "hex", "label": _("500 m hexagons")}],
        "weights": [{"value": "queen", "label": _("touching (queen)")}, {"value": "knn", "label": _("6 nearest")},
                    {"value": "distance", "label": _("distance band")}],
    }


def _units_and_counts(selection: Selection, params: Params, periods_: list[Period]):
    if params.unit == "grid":
        units = grid_units(selection)
        counts = [grid_counts(selection, p) for p in periods_]
    else:
        units, counts = bin_units(selection, params, periods_)
    if params.permutations * len(units.keys) > MAX_DRAWS:
        raise ValidationError({"permutations": _("too many for %(n)s units: at most %(most)s") % {
            "n": len(units.keys), "most": MAX_DRAWS // max(len(units.keys), 1)}})
    return units, [np.array([c.get(k, 0) for k in units.keys], dtype=float) for c in counts]


def _feature(units: Units, i: int, props: dict) -> dict:
    return {"type": "Feature", "id": str(units.labels[i]["id"]), "geometry": units.geometries[i],
            "properties": {"unit": units.kind, **units.labels[i], **props}}


def hotspots(selection: Selection, params: Params) -> dict:
    """Gi* of the selection's events per unit, as GeoJSON with the method beside it."""
    units, (y,) = _units_and_counts(selection, params, [selection.period])
    nbrs, used = neighbours(units, params)
    stat = gi_star(y, nbrs, params.permutations)
    features = [_feature(units, i, {"count": int(y[i]), **{k: v[i] for k, v in stat.items()}}) for i in range(len(y))]
    return {"type": "FeatureCollection", "features": features, "method": method(params, used, selection.period),
            "legend": legend(), "choices": choices(), "summary": _summary(stat["class"], stat["confidence"]), "total": int(y.sum()),
            "selection": selection.as_dict(), "boundaries": boundaries(selection)}


def _summary(classes, confidence) -> dict:
    return {cls: {str(c): sum(1 for k, v in zip(classes, confidence) if k == cls and v == c) for c in CONFIDENCE}
            for cls in ("hot", "cold")}


# --- emerging: the last weeks against the weeks before -----------------------------------------

TRENDS = ("new", "intensifying", "persistent", "cooling", "none")


def recent(selection: Selection, length: dt.timedelta, label: str) -> Period:
    """The `length` up to the selection's end, or up to now while the period is open."""
    end = min(selection.period.end, clock.now())
    return Period(end - length, end, label)


def trend(hot_now: bool, hot_before: bool, z_now, z_before) -> str:
    """The emerging rule: new = hot now (≥ 90 %, FDR) but not before; intensifying = hot in both
    and z rose; persistent = hot in both and z did not rise; cooling = hot before, not now."""
    if hot_now and not hot_before:
        return "new"
    if hot_now and hot_before:
        return "intensifying" if z_now > z_before else "persistent"
    if hot_before:
        return "cooling"
    return "none"


def emerging(selection: Selection, params: Params, weeks: int) -> dict:
    now = recent(selection, dt.timedelta(weeks=weeks), _("last %(n)s weeks") % {"n": weeks})
    before = now.before()
    units, (y_now, y_before) = _units_and_counts(selection, params, [now, before])
    nbrs, used = neighbours(units, params)
    s_now, s_before = gi_star(y_now, nbrs, params.permutations), gi_star(y_before, nbrs, params.permutations)
    features = []
    for i in range(len(units.keys)):
        hot_now, hot_before = s_now["class"][i] == "hot", s_before["class"][i] == "hot"
        features.append(_feature(units, i, {
            "count": int(y_now[i]), "count_before": int(y_before[i]), "change": int(y_now[i] - y_before[i]),
            "z": s_now["z"][i], "z_before": s_before["z"][i], "p": s_now["p"][i], "q": s_now["q"][i],
            "confidence": s_now["confidence"][i], "class": s_now["class"][i],
            "confidence_before": s_before["confidence"][i], "class_before": s_before["class"][i],
            "trend": trend(hot_now, hot_before, s_now["z"][i], s_before["z"][i])}))
    rule = _("new: a hot spot (≥ 90 %, FDR) in the last weeks that was not one in the weeks before; "
             "intensifying: hot in both and its z-score rose; persistent: hot in both, z not higher; "
             "cooling: hot before, not now.")
    extra = [(_("Compared"), f"{_span(now)} ↔ {_span(before)}"), (_("Emerging rule"), rule)]
    return {"type": "FeatureCollection", "features": features, "method": method(params, used, None, extra),
            "weeks": weeks, "now": _window(now), "before": _window(before),
            "trends": {t: sum(1 for f in features if f["properties"]["trend"] == t) for t in TRENDS},
            "trend_labels": {"new": _("newly hot"), "intensifying": _("intensifying"), "persistent": _("persistent"),
                             "cooling": _("cooling"), "none": _("no hot spot")},
            "legend": legend(), "choices": choices(), "selection": selection.as_dict(), "boundaries": boundaries(selection)}


def _span(period: Period) -> str:
    return f"{period.first_day.isoformat()} – {timezone.localtime(period.end - dt.timedelta(microseconds=1)).date().isoformat()}"


def _window(period: Period) -> dict:
    return {"from": timezone.localtime(period.start).isoformat(timespec="minutes"),
            "to": timezone.localtime(period.end).isoformat(timespec="minutes")}


# --- recurring places and households ----------------------------------------------------------

def recurring(selection: Selection, months: int, min_events: int) -> dict:
    """Buildings and households with at least `min_events` events of the selection's categories
    and statuses in the `months` calendar months up to the selection's last month. Events name
    their building (Event.building) and the people involved (Event.involved_persons), and a
    household is reached through its members; events with neither are not counted here."""
    last = min(selection.period.last_day, clock.today())
    first = periods._add_months(last.replace(day=1), -(months - 1))
    window = periods.days(first, last, _("%(n)s months to %(last)s") % {"n": months, "last": last.isoformat()})
    qs = events(selection, window)
    ids = selection.grid_ids()
    buildings = _recurring(qs, "building", min_events, Q() if ids is None else Q(building__grid_id__in=ids),
                           ("building__code", "building__name", "building__address"))
    households = _recurring(qs, "involved_persons__membership__household", min_events,
                            Q() if ids is None else Q(involved_persons__membership__household__dwelling__grid_id__in=ids),
                            ("involved_persons__membership__household__number",
                             "involved_persons__membership__household__dwelling__building__name",
                             "involved_persons__membership__household__dwelling__room"))
    return {"months": months, "min_events": min_events, "window": {"from": first.isoformat(), "to": last.isoformat()},
            "buildings": [{"id": pk, "code": a, "name": b, "address": c, "count": n, "events": evs}
                          for pk, (a, b, c), n, evs in buildings],
            "households": [{"id": pk, "number": a, "building": b, "room": c, "count": n, "events": evs}
                           for pk, (a, b, c), n, evs in households],
            "rule": _("Buildings named on the events, and households of the people involved in them (through "
                      "their membership), with at least %(k)s events in the window.") % {"k": min_events},
            "choices": choices(), "selection": selection.as_dict()}


def _recurring(qs, path: str, min_events: int, inside: Q, fields: tuple):
    """(id, fields, count, events) of the `path` targets with ≥ min_events distinct events, worst first."""
    top = list(qs.filter(inside, **{f"{path}__isnull": False}).order_by().values(path, *fields)
               .annotate(n=Count("id", distinct=True)).filter(n__gte=min_events).order_by("-n", path)[:RECURRING_LIMIT])
    if not top:
        return []
    found = {}
    for row in (qs.filter(**{f"{path}__in": [t[path] for t in top]}).order_by("-reported_at")
                .values(path, "id", "number", "category__code", "category__name", "reported_at", "status").distinct()):
        found.setdefault(row[path], []).append({
            "id": row["id"], "number": row["number"], "category": row["category__code"], "category_name": row["category__name"],
            "reported_at": timezone.localtime(row["reported_at"]).isoformat(timespec="minutes"),
            "status": row["status"], "status_label": str(State(row["status"]).label)})
    return [(t[path], tuple(t[f] for f in fields), t["n"], found.get(t[path], [])) for t in top]
