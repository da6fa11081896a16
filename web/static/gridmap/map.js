// gridmap's home map: the caller's areas and buildings on a clean offline base.
// Layers come as GeoJSON from /api/map/… (scoped on the server); no tiles unless configured.
import * as L from "leaflet";
import { createFloorPanel } from "./floors.js";
import { Buildings25D } from "./buildings25d.js";
import { setLabel, showLabels } from "./area_labels.js";
import { BuildingTiles } from "./building_tiles.js";
import { createSearch } from "./search.js";
import { createPatchCard } from "./patch.js";
import { createEventsLayer } from "./events_layer.js";
import { createEventPanel } from "./event_panel.js";
import { createPlacesLayers } from "./places_layers.js";
import { createGridLayers } from "./grid_layers.js";
import { gcj02TileLayer } from "./gcj02.js";
import { createCoordsReadout } from "./coords.js";
import { createOverview } from "./overview.js";
import { createAsOf } from "./as_of.js";

const config = JSON.parse(document.getElementById("gridmap-config").textContent);
const T = config.text;
const el = document.getElementById("map");
const panel = createFloorPanel(config);  // building → floors → household → person

// Outline styles of the levels above the grid; grids are filled, one colour per neighbourhood.
const OUTLINE = {
  district: { color: "#263238", weight: 3, fill: false },
  street: { color: "#6d4c41", weight: 2.5, dashArray: "10 5", fill: false },
  community: { color: "#455a64", weight: 1.5, dashArray: "4 4", fill: false },
};
const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4",
  "#f032e6", "#9a6324", "#469990", "#808000", "#000075", "#bfef45"];
const USE_COLOUR = { residential: "#d7b899", commercial: "#e57373", mixed: "#ba68c8",
  public: "#64b5f6", industrial: "#90a4ae" };
// Zoom range in which each level's labels are shown; the user's own top level always shows.
const LABEL_ZOOM = { district: [0, 12], street: [11, 13.5], community: [13, 15], grid: [14, 99] };
const AREA_LEVELS = Object.keys(LABEL_ZOOM);
// Zoom range [from, below) in which a level is drawn as the overview — simplified outlines labelled
// with their counts, click to fly there (overview.js) — instead of its own labels: districts where
// grids and buildings are too small to read, streets at medium zoom.
const OVERVIEW_ZOOM = { district: [0, 11], street: [11, 13] };

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// "6F", "3.5F", or "floors unknown" when the register has no number (an OSM footprint, say)
const floorsText = (n) => (n == null ? esc(T.floorsUnknown) : `${esc(n)}${esc(T.floorsShort)}`);
const row = (k, v) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;

const map = L.map(el, {
  minZoom: config.minZoom, maxZoom: config.maxZoom, zoomSnap: 0.5,
  attributionControl: config.tiles.length > 0,
});
[["gm-grids", 410], ["gm-outlines", 420], ["gm-buildings", 430]].forEach(([name, z]) => {
  map.createPane(name).style.zIndex = z;
});

if (config.extent) {
  const [w, s, e, n] = config.extent;
  map.fitBounds([[s, w], [n, e]], { padding: [16, 16] });
} else {
  map.setView(config.center, config.zoom);
}

// --- status line ------------------------------------------------------------
const Status = L.Control.extend({
  options: { position: "bottomleft" },
  onAdd() {
    this._div = L.DomUtil.create("div", "gm-status");
    return this._div;
  },
  set(text, isError = false) {
    this._div.textContent = text || "";
    this._div.classList.toggle("gm-status-error", isError);
    this._div.hidden = !text;
  },
});
const status = new Status().addTo(map);
status.set("");
// WGS84 lon, lat under the pointer (the centre on a phone), a click copies it (coords.js).
const coords = createCoordsReadout(map, config);

async function getJSON(url, signal) {
  const res = await fetch(url, { credentials: "same-origin", signal, headers: { Accept: "application/geo+json" } });
  if (!res.ok) throw new Error(`${res.status} ${url}`);
  return res.json();
}

// Tag a drawn path so tests, CSS and later tools can find it: class + data-code.
function tag(layer, kind, props) {
  const path = layer.getElement && layer.getElement();
  if (!path) return;
  path.classList.add("gm-feature", `gm-${kind}`);
  path.dataset.code = props.code;
  path.dataset.id = props.id;
}

// --- grid colours: greedy colouring over touching bounding boxes ---------------
function bbox(coords, box = [Infinity, Infinity, -Infinity, -Infinity]) {
  if (typeof coords[0] === "number") {
    box[0] = Math.min(box[0], coords[0]); box[1] = Math.min(box[1], coords[1]);
    box[2] = Math.max(box[2], coords[0]); box[3] = Math.max(box[3], coords[1]);
  } else {
    coords.forEach((c) => bbox(c, box));
  }
  return box;
}

function gridColours(features) {
  const eps = 1e-9;
  const items = features
    .map((f) => ({ id: f.id, code: f.properties.code, box: bbox(f.geometry.coordinates) }))
    .sort((a, b) => (a.code < b.code ? -1 : 1));
  const colour = new Map();
  items.forEach((it, i) => {
    const used = new Set();
    for (let j = 0; j < i; j++) {
      const o = items[j].box;
      if (o[0] <= it.box[2] + eps && it.box[0] <= o[2] + eps && o[1] <= it.box[3] + eps && it.box[1] <= o[3] + eps) {
        used.add(colour.get(items[j].id));
      }
    }
    const free = PALETTE.findIndex((_, k) => !used.has(k));
    colour.set(it.id, free >= 0 ? free : i % PALETTE.length);
  });
  return colour;
}

// --- area layers -------------------------------------------------------------
function areaLayer(level, data) {
  const isGrid = level === "grid";
  let colours = null;
  const group = L.geoJSON(null, {
    pane: isGrid ? "gm-grids" : "gm-outlines",
    style: (f) => {
      if (!isGrid) return OUTLINE[level];
      const c = PALETTE[colours.get(f.id)];
      return { color: c, weight: 2, opacity: 0.9, fillColor: c, fillOpacity: 0.18 };
    },
    onEachFeature: (f, layer) => {
      const p = f.properties;
      // Grids also name their leader, on a second line (shown where it fits: area_labels.js).
      setLabel(layer, { level, name: p.name, code: p.code, leader: isGrid ? p.leader : null, esc });
      layer.bindPopup(`<table class="gm-popup"><caption>${esc(p.name)}</caption>${row(T[level], p.code)}${row(T.leader, p.leader || T.noLeader)}</table>`);
      layer.on("add", () => tag(layer, level, p));
    },
  });
  // the same layer with other areas (the map as of a date: as_of.js)
  group.refill = (next) => {
    colours = isGrid ? gridColours(next.features) : null;
    group.clearLayers();
    group.addData(next);
  };
  group.refill(data);
  return group;
}

// --- buildings, as vector tiles from config.buildingsMinZoom (building_tiles.js) ----
const buildings = L.geoJSON(null, {
  pane: "gm-buildings",
  style: (f) => ({ color: "#5d4037", weight: 0.8, fillColor: USE_COLOUR[f.properties.use] || "#bcaaa4", fillOpacity: 0.85 }),
  onEachFeature: (f, layer) => {
    const p = f.properties;
    flat.set(f.id, layer);
    // A click opens the building's floor table in the side panel; the tooltip names it (the
    // widest tiles carry no names, building_tiles.js: there it says the use instead).
    layer.bindTooltip(`${esc(p.name ?? config.uses[p.use] ?? "")} · ${floorsText(p.floors_above)}`, { sticky: true, className: "gm-building-tip" });
    // From zoom 16 the click goes to the building drawn on top there in 2.5D (buildings25d.js).
    layer.on("click", (e) => panel.openBuilding(buildings25d.pick(e.containerPoint)?.id ?? p.id));
    layer.on("add", () => tag(layer, "building", p));
  },
});
// From zoom 16 the same footprints are drawn extruded by their floors, shown with the flat layer.
const buildings25d = new Buildings25D({
  source: buildings, colour: (p) => USE_COLOUR[p.use] || "#bcaaa4", onClick: (b) => panel.openBuilding(b.id),
  tooltip: (b) => `${esc(b.name)} · ${floorsText(b.recordedFloors)}`,
});
const buildingTiles = new BuildingTiles({ url: config.api.buildingTiles, zooms: config.buildingTileZooms });
const flat = new Map();  // building id → its footprint on the flat layer
let shownTiles = "";  // the tiles whose buildings are on the map ("" = none)
let shownZoom = null;  // their tile zoom
let generation = 0;  // a newer move makes an older answer stale

/** Puts exactly `features` on the flat layer. At the same tile zoom only the difference is
 * drawn — a pan keeps the thousands of footprints still in view — while a new tile zoom
 * redraws all (its tiles carry other properties). */
function showBuildings(features, z) {
  if (z !== shownZoom) {
    buildings.clearLayers();
    flat.clear();
    shownZoom = z;
  }
  const wanted = new Set(features.map((f) => f.id));
  for (const [id, layer] of flat) {
    if (!wanted.has(id)) { buildings.removeLayer(layer); flat.delete(id); }
  }
  buildings.addData(features.filter((f) => !flat.has(f.id)));
}

async function refreshBuildings() {
  if (!map.hasLayer(buildings)) return;
  const asked = ++generation;
  if (map.getZoom() < config.buildingsMinZoom) {
    showBuildings([], null);
    buildings25d.setData([]);
    shownTiles = "";
    el.dataset.buildings = "0";
    status.set(T.zoomIn);
    return;
  }
  status.set("");
  const view = map.getBounds().pad(0.1);
  const z = buildingTiles.tileZoom(map.getZoom());
  const key = buildingTiles.cover(view, z).join(";");
  if (key === shownTiles) return;
  try {
    const { features, tiles, bytes, failed } = await buildingTiles.features(view, map.getZoom());
    if (asked !== generation) return;
    showBuildings(features, z);
    buildings25d.setData(features);
    // with a tile missing the view stays "not shown", so the next move asks for it again
    shownTiles = failed ? "" : key;
    if (failed) status.set(`${T.loadFailed}: ${T.buildings} (${failed}/${tiles})`, true);
    Object.assign(el.dataset, { buildings: String(features.length), buildingTiles: String(tiles), buildingBytes: String(bytes) });
  } catch (err) {
    if (asked === generation) status.set(`${T.loadFailed}: ${err.message}`, true);
  }
}

// --- labels: a level's labels show in its zoom range (the user's own top level also below
// it), and each only where it fits inside its polygon; the other grid layers' labels follow
// the grids' rule while their overlay is on --------------------------------------------
function updateLabels() {
  const z = map.getZoom();
  const top = config.levels[0];
  overview.update();
  const groups = AREA_LEVELS.map((level) => [level, layers[level]])
    .concat(gridLayers.groups().map((group) => ["grid", group]));
  showLabels(map, groups.map(([level, group]) => {
    const [lo, hi] = LABEL_ZOOM[level];
    return [group, z <= hi && (z >= lo || level === top) && !overview.showing(level)];
  }));
  el.dataset.zoom = String(z);
}

// --- assemble ------------------------------------------------------------------
const baseLayers = {};
config.tiles.forEach((t) => {
  // A GCJ-02 source (GRIDMAP_TILE_CRS=gcj02) is shifted to line up with the WGS84 data (gcj02.js).
  const tiles = config.tileCrs === "gcj02" ? gcj02TileLayer(L, t.url, t.options) : L.tileLayer(t.url, t.options);
  baseLayers[t.name === "base" ? T.base : t.name] = tiles.addTo(map);
});
// Districts and streets as outlines with their counts at low zoom, and the district picker
// (overview.js; made before the layer switcher so the picker sits above it).
const overview = createOverview(map, config, { zooms: OVERVIEW_ZOOM, getJSON, status, esc, onLoaded: () => updateLabels() });
const switcher = L.control.layers(baseLayers, {}, { collapsed: false }).addTo(map);
const layers = { buildings };
// The other grid layers (城管网格 …): overlays loaded when first switched on (grid_layers.js).
const gridLayers = createGridLayers(map, config, { switcher, status, getJSON, esc, row, tag, onLoaded: () => updateLabels() });

async function load() {
  const wanted = config.levels;
  const results = await Promise.allSettled(wanted.map((level) => getJSON(`${config.api.areas}?level=${level}`)));
  results.forEach((r, i) => {
    const level = wanted[i];
    if (r.status !== "fulfilled") {
      status.set(`${T.loadFailed}: ${T[level]}`, true);
      return;
    }
    const layer = areaLayer(level, r.value).addTo(map);
    layers[level] = layer;
    el.dataset[level] = String(r.value.features.length);
    // The district outline is part of the base drawing; the levels below can be switched.
    if (level !== "district") switcher.addOverlay(layer, T[level]);
  });
  gridLayers.addToSwitcher();  // off by default: nothing is fetched until one is switched on
  buildings.addTo(map);
  switcher.addOverlay(buildings, T.buildings);
  places.addToSwitcher();  // facilities, organisations: off by default
  updateLabels();
  await refreshBuildings();
  el.dataset.state = "ready";
}

map.on("moveend", updateLabels);  // labels follow the view as well as the zoom
map.on("moveend", refreshBuildings);
map.on("overlayadd", (e) => {
  if (e.layer === buildings) { shownTiles = ""; refreshBuildings(); } else updateLabels();
});
// Facilities (部件) and organisations (单位) from zoom 16, with their legend (places_layers.js).
const places = createPlacesLayers(map, config, { switcher, status, getJSON, esc, row });
Object.assign(layers, places.layers);
window.gridmap = { map, layers, config, panel, places, gridLayers, coords, overview };
window.gridmap.buildings25d = buildings25d;
// The header's search box and the "my patch" card (search.js, patch.js).
Object.assign(window.gridmap, { search: createSearch(window.gridmap), patch: createPatchCard(window.gridmap) });
// The map as of a date: the area layers redrawn by the boundaries then in force (as_of.js).
createAsOf(map, config, {
  getJSON, status, esc, onData: (level, data) => {
    if (!layers[level]) return;
    layers[level].refill(data);
    el.dataset[level] = String(data.features.length);
    updateLabels();
  },
});
// Events: clustered markers by clock colour with a filter, and the event panel (/?event=<id> opens one).
const eventPanel = createEventPanel(config, { map, floors: panel });
const events = createEventsLayer(map, config, { switcher, status, onOpen: (id) => eventPanel.open(id) });
eventPanel.onChange = () => events.refresh(true);
layers.events = events.layer;
Object.assign(window.gridmap, { events, eventPanel, openEvent: (id) => eventPanel.open(id, { fly: true }) });
load();

// /?building=<id>[&dwelling=<id>] (the person page links here): the building's floor table, and
// that household over it (back returns to the table), with the map at the building.
const linked = new URLSearchParams(window.location.search);
const isId = (v) => /^\d+$/.test(v || "");
if (isId(linked.get("building"))) {
  panel.openBuilding(linked.get("building")).then((data) => {
    const point = data?.building?.point;
    if (point) map.setView([point[1], point[0]], Math.max(map.getZoom(), 17));
    if (data && isId(linked.get("dwelling"))) panel.open("dwelling", linked.get("dwelling"));
  });
}
