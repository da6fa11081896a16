"""The standalone map report (离线地图报告): one HTML file of an area and a period with the
events' heatmap, the Gi* hotspots and the count per grid, made with folium, that opens on a
machine with no internet.

folium links Leaflet, its plugins and its own styling from CDNs; every such link is replaced
here by the file's content inline, from the npm packages the site serves (web/node_modules via
the static files) — or dropped when nothing drawn needs it (jQuery, Bootstrap, the awesome
markers: the report draws no markers). A link this module does not know stops the report, so
a new plugin cannot quietly put a CDN back. There is no tile layer: the grids are the map.
"""
import base64
import re

import folium
from django.contrib.staticfiles import finders
from django.utils.html import escape
from django.utils.text import slugify
from django.utils.translation import gettext as _
from folium.plugins import HeatMap

from . import heatmap, hotspots
from .selection import Selection, events

# folium's resource names → the local file put inline (None: not needed by anything drawn)
LOCAL = {
    "leaflet": "vendor/leaflet/dist/leaflet.js",
    "leaflet_css": "vendor/leaflet/dist/leaflet.css",
    "leaflet-heat.js": "vendor/leaflet.heat/dist/leaflet-heat.js",
    "jquery": None, "bootstrap": None, "awesome_markers": None, "bootstrap_css": None, "glyphicons_css": None,
    "awesome_markers_font_css": None, "awesome_markers_css": None, "awesome_rotate_css": None,
}
PANEL_PX = 340
HEAT_BIN_M = 25  # the heatmap's points: events summed per 25 m bin (a few thousand points, not a million)
COUNT_COLOURS = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"]  # ColorBrewer YlOrRd, five classes
HOT = {99: "#d7191c", 95: "#f17c4a", 90: "#fec980"}  # reds by confidence, as hotspots_layer.js draws them
COLD = {99: "#2c7bb6", 95: "#72aed2", 90: "#c7e6f0"}
_CSS_URL = re.compile(r"url\((images/[\w.-]+\.png)\)")


class UnknownResource(RuntimeError):
    """folium asked for a script or stylesheet this module cannot put inline."""


def render(selection: Selection, params: hotspots.Params) -> str:
    """The report as one HTML document."""
    counts = hotspots.hotspots(selection, hotspots.Params())  # per grid: the same counts as the API's
    spots = counts if params == hotspots.Params() else hotspots.hotspots(selection, params)
    fmap = folium.Map(location=_centre(counts), zoom_start=14, tiles=None, control_scale=True, prefer_canvas=False)
    _bounds(fmap, counts)
    _grid_counts(counts).add_to(fmap)
    _hotspots(spots).add_to(fmap)
    _heat(selection).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_panel(selection, counts, spots)))
    _inline_resources(fmap)
    return fmap.get_root().render()


def filename(selection: Selection) -> str:
    area = selection.area.code if selection.area is not None else "all"
    return f"map-report-{slugify(area) or 'area'}-{selection.period.key.replace('..', '_')}.html"


def _centre(answer: dict) -> list[float]:
    box = _box(answer)
    return [(box[1] + box[3]) / 2, (box[0] + box[2]) / 2] if box else [0.0, 0.0]


def _box(answer: dict):
    xs, ys = [], []
    for f in answer["features"]:
        for ring in _rings(f["geometry"]):
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _rings(geometry: dict):
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [ring for polygon in polygons for ring in polygon]


def _bounds(fmap, answer: dict) -> None:
    if box := _box(answer):  # room on the left for the panel
        fmap.fit_bounds([[box[1], box[0]], [box[3], box[2]]], padding_top_left=(PANEL_PX + 20, 10))


def _layer(answer: dict, name: str, style, fields: list[tuple[str, str]]) -> folium.GeoJson:
    data = {"type": "FeatureCollection", "features": answer["features"]}
    return folium.GeoJson(data, name=name, style_function=style, highlight_function=lambda f: {"weight": 3},
                          tooltip=folium.GeoJsonTooltip(fields=[k for k, _label in fields], aliases=[label for _k, label in fields]))


def _grid_counts(answer: dict) -> folium.GeoJson:
    top = max((f["properties"]["count"] for f in answer["features"]), default=0) or 1

    def style(feature):
        n = feature["properties"]["count"]
        colour = COUNT_COLOURS[min(len(COUNT_COLOURS) - 1, int(len(COUNT_COLOURS) * n / (top + 1)))] if n else "#ffffff"
        return {"fillColor": colour, "fillOpacity": 0.6, "color": "#555555", "weight": 1}
    return _layer(answer, _("Events per grid"), style, [("name", _("Grid")), ("code", _("Code")), ("count", _("Events"))])


def _hotspots(answer: dict) -> folium.GeoJson:
    def style(feature):
        p = feature["properties"]
        colour = (HOT if p["class"] == "hot" else COLD).get(p["confidence"]) if p["class"] != "none" else None
        return {"fillColor": colour or "#ffffff", "fillOpacity": 0.7 if colour else 0.0, "color": "#333333", "weight": 0.5}
    label = "name" if answer["features"] and "name" in answer["features"][0]["properties"] else "id"
    return _layer(answer, _("Hotspots (Gi*)"), style, [(label, _("Spatial unit")), ("count", _("Events")), ("z", "z"), ("p", "p"),
                                                      ("q", _("q (FDR)")), ("confidence", _("Confidence %")), ("class", _("Class"))])


def _heat(selection: Selection) -> HeatMap:
    """The events summed per small bin, at each bin's centre, weighted by its count."""
    grid = heatmap.metric_bins(HEAT_BIN_M)
    cells = heatmap._group_by_bin(events(selection), "point", grid)
    top = max((n for _x, _y, n in cells), default=1)
    data = [[round((gy + 0.5) * grid.dlat, 6), round((gx + 0.5) * grid.dlon, 6), n / top] for gx, gy, n in cells]
    return HeatMap(data, name=_("Heatmap of events"), radius=30, blur=20, min_opacity=0.4)


def _panel(selection: Selection, counts: dict, spots: dict) -> str:
    """The title, the method and the legend, in a box over the map (the file carries its own styles)."""
    area = selection.area.name if selection.area is not None else _("All areas")
    period = selection.period
    lines = "".join(f"<dt>{escape(line['label'])}</dt><dd>{escape(line['value'])}</dd>" for line in spots["method"]["lines"])
    legend = "".join(
        f'<li><i style="background:{(HOT if item["class"] == "hot" else COLD).get(item["confidence"], "#ffffff")}"></i>'
        f'{escape(item["label"])}</li>' for item in spots["legend"])
    return f"""
<style>
  .gm-report {{ position: absolute; top: 10px; left: 54px; z-index: 1000; width: {PANEL_PX}px; max-height: 90%;
               overflow: auto; background: #fff; padding: 8px 12px; font: 12px/1.4 sans-serif;
               box-shadow: 0 1px 5px rgba(0,0,0,.4); border-radius: 4px; }}
  .gm-report h1 {{ font-size: 15px; margin: 0 0 4px; }}
  .gm-report dt {{ font-weight: bold; }} .gm-report dd {{ margin: 0 0 4px 0; }}
  .gm-report ul {{ list-style: none; padding: 0; margin: 4px 0; }}
  .gm-report li i {{ display: inline-block; width: 14px; height: 10px; margin-right: 6px; border: 1px solid #999; }}
</style>
<div class="gm-report" id="gm-report">
  <h1>{escape(area)} · {escape(period.label)}</h1>
  <p>{escape(_("%(n)s events from %(first)s to %(last)s") % {"n": counts["total"], "first": period.first_day.isoformat(),
                                                              "last": period.last_day.isoformat()})}</p>
  <ul>{legend}</ul>
  <dl>{lines}</dl>
  <p>{escape(counts["boundaries"]["rule"])}</p>
</div>"""


def _inline_resources(fmap: folium.Map) -> None:
    """Every script and stylesheet folium would link, put in the page's head instead (or dropped)."""
    wanted = []
    for element in _walk(fmap.get_root()):
        for attr in ("default_js", "default_css"):
            resources = getattr(element, attr, None)
            if not resources:
                continue
            for name, url in resources:
                if name not in LOCAL:
                    raise UnknownResource(f"{type(element).__name__} links {name} ({url}): add it to LOCAL")
                if LOCAL[name] and LOCAL[name] not in wanted:
                    wanted.append(LOCAL[name])
            setattr(element, attr, [])  # on the instance: the class keeps folium's links
    styles = [_file(p) for p in wanted if p.endswith(".css")]
    scripts = [_file(p) for p in sorted((p for p in wanted if p.endswith(".js")), key=lambda p: "heat" in p)]  # Leaflet first
    head = "".join(f"<style>{css}</style>" for css in styles) + "".join(f"<script>{js}</script>" for js in scripts)
    fmap.get_root().header.add_child(folium.Element(head), name="gridmap_inline", index=0)


def _walk(element):
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _file(static_path: str) -> str:
    """A static file's text; a stylesheet's images as data: URLs (Leaflet's layer and marker icons)."""
    found = finders.find(static_path)
    if not found:
        raise UnknownResource(f"{static_path} is not installed (npm ci in web/)")
    with open(found, encoding="utf-8") as f:
        text = f.read().replace("</script", "<\\/script")
    if static_path.endswith(".css"):
        base = static_path.rsplit("/", 1)[0]
        text = _CSS_URL.sub(lambda m: f"url(data:image/png;base64,{_base64(f'{base}/{m[1]}')})", text)
    return text


def _base64(static_path: str) -> str:
    found = finders.find(static_path)
    if not found:
        return ""
    with open(found, "rb") as f:
        return base64.b64encode(f.read()).decode()
