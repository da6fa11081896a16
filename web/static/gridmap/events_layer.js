// The events layer: markers fetched by bounding box from /api/events/map/ (GeoJSON by PostGIS,
// scoped on the server, only what a marker draws), clustered with leaflet.markercluster,
// coloured by the clock (green / yellow / red), with a legend and a filter for status,
// top-level category and time.
//
// leaflet.markercluster has no ES-module build: its UMD file extends a global `L`. The ES
// module namespace of Leaflet is frozen, so window.L is a plain copy of it (the classes and
// their prototypes are the same objects) and the plugin is loaded once as a classic script.
//
// Test hooks: #map[data-events-state=loading|ready|error][data-events=<features drawn>]
// [data-events-truncated], .gm-events-control [data-clock-count=green|yellow|red],
// marker icons .gm-event.gm-event-<clock>[data-id][data-status][data-clock], cluster icons
// .gm-event-cluster.gm-event-<worst clock>; at city scale #map[data-events-aggregated=true]
// [data-events-aggregates=<cells drawn>][data-events-zoom=<zoom asked>] (data-events is then the events they count) and cell icons
// .gm-event-agg.gm-event-<worst clock>[data-count][data-green][data-yellow][data-red].
//
// City scale: the request carries the map's zoom; below config.events.aggregateBelowZoom (or when
// the box holds more than the point limit) the server answers counts per square cell instead of
// points ("aggregated": true). Cells are drawn on their own layer group (never clustered) as
// circles sized by count and coloured by the worst clock inside; a click zooms in.
import * as L from "leaflet";
import { bboxParam, clampBox } from "./bbox.js";

const CLOCKS = ["green", "yellow", "red"];
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
let pluginLoaded = null;

function loadMarkerCluster(src) {
  if (!pluginLoaded) {
    pluginLoaded = new Promise((resolve, reject) => {
      if (!window.L || !Object.isExtensible(window.L)) window.L = { ...L };
      if (window.L.MarkerClusterGroup) { resolve(window.L); return; }
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => (window.L.MarkerClusterGroup ? resolve(window.L) : reject(new Error("markercluster did not load")));
      script.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.appendChild(script);
    });
  }
  return pluginLoaded;
}

// the worst clock among a cluster's markers colours the cluster
const worst = (clocks) => CLOCKS[Math.max(...clocks.map((c) => CLOCKS.indexOf(c)), 0)];

export function createEventsLayer(map, config, { switcher, onOpen } = {}) {
  const C = config.events;
  const T = C.text;
  const STATUS_LABEL = Object.fromEntries(C.statuses);  // a marker's title names its status
  const el = map.getContainer();
  const filters = { status: "open", category: "", since: "" };
  let layer = L.featureGroup();   // replaced by the cluster group once the plugin is loaded
  const cells = L.layerGroup();   // the aggregates: shown and hidden with `layer`
  const threshold = C.aggregateBelowZoom ?? 16;
  let loadedBox = null;
  let loadedZoom = null;
  let loadedAggregated = false;
  let loadedKey = null;
  let inFlight = null;
  let selected = null;
  // above the permanent area labels (tooltip pane, 650), below popups (700)
  if (!map.getPane("gm-events")) map.createPane("gm-events").style.zIndex = 660;
  el.dataset.eventsState = "loading";

  // --- legend and filter, one control ----------------------------------------------------------
  const option = (value, label, current) => `<option value="${esc(value)}"${value === current ? " selected" : ""}>${esc(label)}</option>`;
  const Control = L.Control.extend({
    options: { position: "bottomright" },
    onAdd() {
      const div = L.DomUtil.create("div", "gm-events-control leaflet-bar");
      div.setAttribute("role", "group");
      div.setAttribute("aria-label", T.layer);
      div.innerHTML = `
        <h3 class="gm-events-title">${esc(T.layer)} <span class="gm-events-count" aria-live="polite"></span></h3>
        <ul class="gm-events-legend" aria-label="${esc(T.legend)}">${CLOCKS.map((c) =>
          `<li><span class="gm-clock-dot gm-clock-${c}"></span>${esc(T[c])} <b data-clock-count="${c}">0</b></li>`).join("")}</ul>
        <fieldset class="gm-events-filter"><legend>${esc(T.filter)}</legend>
          <label>${esc(T.status)} <select name="status">${option("", T.all, filters.status)}${option("open", T.open, filters.status)}
            ${C.statuses.map(([v, l]) => option(v, l, filters.status)).join("")}</select></label>
          <label>${esc(T.category)} <select name="category">${option("", T.all, filters.category)}
            ${C.categories.map(([v, l]) => option(v, l, filters.category)).join("")}</select></label>
          <label>${esc(T.time)} <select name="since">${option("today", T.today, filters.since)}${option("7d", T.days7, filters.since)}
            ${option("30d", T.days30, filters.since)}${option("", T.all, filters.since)}</select></label>
        </fieldset>
        <p class="gm-events-note" hidden></p>`;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelectorAll("select").forEach((sel) => sel.addEventListener("change", () => {
        filters[sel.name] = sel.value;
        refresh(true);
      }));
      return div;
    },
  });
  const control = new Control();

  function note(text, isError = false) {
    const p = control.getContainer()?.querySelector(".gm-events-note");
    if (!p) return;
    p.textContent = text || "";
    p.hidden = !text;
    p.classList.toggle("gm-events-error", isError);
  }

  // --- markers ----------------------------------------------------------------------------------
  function icon(p) {
    return L.divIcon({
      className: `gm-event gm-event-${p.clock}${p.id === selected ? " gm-event-selected" : ""}`,
      html: `<span aria-hidden="true"></span>`, iconSize: [18, 18], iconAnchor: [9, 9],
    });
  }

  function marker(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const status = STATUS_LABEL[p.status] || p.status;
    const m = L.marker([lat, lon], { icon: icon(p), pane: "gm-events", title: `${p.number} · ${C.categoryNames[p.category] ?? p.category} · ${status}`, keyboard: true, riseOnHover: true });
    m.gmProps = p;
    return asButton(m, { id: p.id, number: p.number, status: p.status, clock: p.clock, category: p.category },
      () => { select(p.id); onOpen?.(p.id); });
  }

  // A marker's node: tagged with `data` (test hooks) and a button to keyboard and screen-reader
  // users, who act on it with Enter or Space as a click does.
  function asButton(m, data, act) {
    m.on("add", () => {
      const node = m.getElement();
      if (!node) return;
      Object.assign(node.dataset, data);
      node.setAttribute("role", "button");
      node.setAttribute("aria-label", m.options.title);
    });
    m.on("click", act);
    m.on("keypress", (e) => { if (e.originalEvent.key === "Enter" || e.originalEvent.key === " ") act(); });
    return m;
  }

  function clusterIcon(cluster) {
    const children = cluster.getAllChildMarkers();
    const clock = worst(children.map((m) => m.gmProps.clock));
    const n = children.length;
    const size = n < 10 ? 30 : n < 100 ? 36 : 44;
    return L.divIcon({
      className: `gm-event-cluster gm-event-${clock}`,
      html: `<span data-count="${n}">${n}</span>`, iconSize: [size, size],
    });
  }

  // --- aggregates: one circle per occupied cell -------------------------------------------------
  function cell(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const size = Math.round(Math.min(64, 26 + 9 * Math.log10(p.count)));
    const m = L.marker([lat, lon], {
      pane: "gm-events", keyboard: true, title: T.zoomIn.replace("{n}", p.count),
      icon: L.divIcon({
        className: `gm-event-agg gm-event-${p.clock}`, iconSize: [size, size],
        html: `<span>${p.count >= 10000 ? `${Math.round(p.count / 1000)}k` : p.count}</span>`,
      }),
    });
    m.gmCell = p;
    const zoomIn = () => map.setView([lat, lon], Math.min(Math.max(map.getZoom() + 2, Math.min(threshold, map.getZoom() + 3)), map.getMaxZoom()));
    return asButton(m, { count: p.count, green: p.green, yellow: p.yellow, red: p.red, clock: p.clock }, zoomIn);
  }

  function select(id) {
    selected = id;
    layer.eachLayer?.((m) => {
      const node = m.getElement?.();
      if (node && m.gmProps) node.classList.toggle("gm-event-selected", m.gmProps.id === id);
    });
  }

  // --- loading by bounding box ----------------------------------------------------------------
  function query(box) {
    const q = new URLSearchParams({
      bbox: bboxParam(box),
      zoom: String(map.getZoom()),
    });
    Object.entries(filters).forEach(([k, v]) => { if (v) q.set(k, v); });
    return q;
  }

  async function refresh(force = false) {
    if (!map.hasLayer(layer)) return;
    const key = JSON.stringify(filters);
    const view = map.getBounds();
    const zoom = map.getZoom();
    // cells are sized for the zoom they were asked at; points hold until the zoom drops below the threshold
    const sameScale = loadedAggregated ? zoom === loadedZoom : zoom >= threshold;
    if (!force && loadedBox && loadedKey === key && sameScale && loadedBox.contains(view)) return;
    const box = clampBox(view.pad(0.25), C.maxBboxDegrees);
    inFlight?.abort();
    inFlight = new AbortController();
    el.dataset.eventsState = "loading";
    try {
      const res = await fetch(`${C.api.map}?${query(box)}`, { credentials: "same-origin", signal: inFlight.signal, headers: { Accept: "application/geo+json" } });
      if (!res.ok) throw new Error(`${res.status}`);
      const data = await res.json();
      draw(data);
      loadedBox = data.truncated ? null : box;  // a truncated answer is reloaded on the next move
      loadedKey = key;
      loadedZoom = zoom;
      loadedAggregated = Boolean(data.aggregated);
      el.dataset.eventsState = "ready";
    } catch (err) {
      if (err.name === "AbortError") return;
      note(`${T.loadFailed}: ${err.message}`, true);
      el.dataset.eventsState = "error";
    }
  }

  function draw(data) {
    const aggregated = Boolean(data.aggregated);
    const markers = aggregated ? [] : data.features.map(marker);
    layer.clearLayers();
    cells.clearLayers();
    if (layer.addLayers) layer.addLayers(markers); else markers.forEach((m) => layer.addLayer(m));
    const counts = Object.fromEntries(CLOCKS.map((c) => [c, 0]));
    let shown = 0;
    if (aggregated) {
      data.features.forEach((f) => {
        cells.addLayer(cell(f));
        CLOCKS.forEach((c) => { counts[c] += f.properties[c]; });
        shown += f.properties.count;
      });
    } else {
      data.features.forEach((f) => { counts[f.properties.clock] = (counts[f.properties.clock] || 0) + 1; });
      shown = data.features.length;
    }
    const div = control.getContainer();
    if (div) {
      CLOCKS.forEach((c) => { div.querySelector(`[data-clock-count="${c}"]`).textContent = counts[c]; });
      div.querySelector(".gm-events-count").textContent = `(${T.shown.replace("{n}", shown)})`;
    }
    note(data.truncated ? T.truncated.replace("{n}", data.limit) : aggregated ? T.aggregated : "");
    el.dataset.events = String(shown);
    el.dataset.eventsAggregated = String(aggregated);
    el.dataset.eventsAggregates = String(aggregated ? data.features.length : 0);
    el.dataset.eventsZoom = String(data.zoom ?? map.getZoom());
    el.dataset.eventsTruncated = String(Boolean(data.truncated));
    CLOCKS.forEach((c) => { el.dataset[`events${c[0].toUpperCase()}${c.slice(1)}`] = String(counts[c]); });
  }

  // --- assemble: the plain group is swapped for the cluster group as soon as the plugin is in ----
  const api = {
    get layer() { return layer; },
    refresh,
    filters,
    setFilter(name, value) {
      filters[name] = value;
      const sel = control.getContainer()?.querySelector(`select[name="${name}"]`);
      if (sel) sel.value = value;
      return refresh(true);
    },
    select,
    // the markers currently loaded (clustered or not): [{id, number, status, clock, category}]
    markers() {
      const out = [];
      layer.eachLayer((m) => { if (m.gmProps) out.push({ ...m.gmProps }); });
      return out;
    },
    // the cells currently drawn (city scale): [{count, green, yellow, red, clock}]
    aggregates() {
      const out = [];
      cells.eachLayer((m) => { if (m.gmCell) out.push({ ...m.gmCell }); });
      return out;
    },
    // zoom to a marker and bring it out of its cluster
    reveal(id) {
      let found = null;
      layer.eachLayer((m) => { if (m.gmProps?.id === id) found = m; });
      if (found && layer.zoomToShowLayer) layer.zoomToShowLayer(found);
      return Boolean(found);
    },
  };

  map.on("moveend", () => refresh());
  map.on("overlayadd", (e) => { if (e.layer === layer) { cells.addTo(map); control.addTo(map); refresh(true); } });
  map.on("overlayremove", (e) => { if (e.layer === layer) { inFlight?.abort(); cells.remove(); control.remove(); } });

  // the switcher lists the events after the area and building layers (added when the map is ready)
  function addToSwitcher() {
    if (!switcher) return;
    if (el.dataset.state === "ready") { switcher.addOverlay(layer, T.layer); return; }
    const watch = new MutationObserver(() => {
      if (el.dataset.state === "ready") { watch.disconnect(); switcher.addOverlay(layer, T.layer); }
    });
    watch.observe(el, { attributes: true, attributeFilter: ["data-state"] });
  }

  loadMarkerCluster(C.markercluster).then((Lg) => {
    layer = new Lg.MarkerClusterGroup({
      iconCreateFunction: clusterIcon, clusterPane: "gm-events", showCoverageOnHover: false, spiderfyOnMaxZoom: true,
      disableClusteringAtZoom: 18, maxClusterRadius: 50, chunkedLoading: true,
    });
  }).catch((err) => {
    console.warn(`events: clustering unavailable (${err.message}); markers are drawn one by one`);  // eslint-disable-line no-console
  }).finally(() => {
    layer.addTo(map);
    cells.addTo(map);
    control.addTo(map);
    addToSwitcher();
    refresh(true);
  });

  return api;
}
