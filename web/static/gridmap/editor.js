// The boundary editor (边界编辑): a parent area's grids on the map, redrawn with Leaflet-Geoman —
// draw a new grid, edit a grid's vertices (its neighbours follow on the server), split by a line,
// merge, delete, or a whole boundary set imported from a file (editor_import.js) — each change
// checked on the server while drawing (overlaps, gaps, bounds), previewed (what moves where) and
// committed with a reason. The exact geometry is the server's (grids.api); the page only draws
// and sends what the user drew.
//
// Test hooks: #map[data-state=loading|ready][data-check=idle|checking|ok|errors][data-preview=ready]
// [data-commit=done|conflict|refused]; grid paths carry .ed-grid and data-code/data-id;
// window.gridmap.map is the Leaflet map.
import { L } from "./editor_leaflet.js";
import "@geoman-io/leaflet-geoman-free";
import { BuildingTiles } from "./building_tiles.js";
import { inRing } from "./buildings25d.js";
import { setLabel, showLabels } from "./area_labels.js";
import { baseMap } from "./base_map.js";
import { esc, fill, findingsHtml, historyHtml, previewHtml, suggestionsHtml } from "./editor_panel.js";
import { setupImport } from "./editor_import.js";

const config = JSON.parse(document.getElementById("gridmap-config").textContent);
const T = config.text;
const el = document.getElementById("map");
const $ = (id) => document.getElementById(id);
const CHECK_MS = 300;  // a check waits this long after the last change (debounce)

const STYLE = {
  parent: { color: "#263238", weight: 3, fill: false, interactive: false },
  neighbour: { color: "#78909c", weight: 2, dashArray: "6 4", fill: false, interactive: false },
  grid: { color: "#1565c0", weight: 2, fillColor: "#64b5f6", fillOpacity: 0.12 },
  other: { color: "#90a4ae", weight: 1.5, fillColor: "#cfd8dc", fillOpacity: 0.1 },  // another parent's grid
  chosen: { color: "#e65100", weight: 3, fillColor: "#ffb74d", fillOpacity: 0.3 },
  proposed: { color: "#0d47a1", weight: 2.5, dashArray: "8 4", fill: false, interactive: false },
  error: { color: "#c62828", weight: 2, fillColor: "#e53935", fillOpacity: 0.45 },
  gap: { color: "#ef6c00", weight: 2, fillColor: "#fb8c00", fillOpacity: 0.45 },
  warning: { color: "#6a1b9a", weight: 2, dashArray: "3 3", fillColor: "#ab47bc", fillOpacity: 0.3 },
  info: { color: "#f9a825", weight: 1, fillColor: "#fdd835", fillOpacity: 0.25 },
  building: { color: "#5d4037", weight: 0.8, fillColor: "#d7b899", fillOpacity: 0.9, interactive: false },
  before: { color: "#6d4c41", weight: 3, dashArray: "6 4", fillColor: "#a1887f", fillOpacity: 0.15, interactive: false },
  after: { color: "#1565c0", weight: 3, fill: false, interactive: false },
};
// every layer of the page: snapped to unless said otherwise, never edited by Geoman's own modes
const FIXED = { pmIgnore: true, snapIgnore: false };
const NOT_SNAPPED = { pmIgnore: true, snapIgnore: true };

// --- the map ------------------------------------------------------------------------------
const map = baseMap(el, config, { zoomSnap: 0.5 });
[["ed-buildings", 390], ["ed-proposed", 440], ["ed-findings", 450]].forEach(([name, z]) => { map.createPane(name).style.zIndex = z; });
map.pm.setLang(document.documentElement.lang.startsWith("zh") ? "zh" : "en");
map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });

const outlines = L.featureGroup([], FIXED).addTo(map);  // the parent and its neighbours
const grids = L.featureGroup().addTo(map);
const buildings = L.geoJSON(null, { pane: "ed-buildings", style: STYLE.building, ...NOT_SNAPPED }).addTo(map);
const proposed = L.featureGroup().addTo(map);
const findingsLayer = L.featureGroup().addTo(map);
const movedLayer = L.featureGroup().addTo(map);
const historyLayer = L.featureGroup().addTo(map);
const tiles = new BuildingTiles({ url: config.api.buildingTiles, zooms: config.buildingTileZooms });

// --- state: the sheet, the tool and the operation being drawn -------------------------------------
const state = {
  sheet: null, byId: new Map(), baseVersions: {},
  tool: "select", selected: null, picked: [], keep: null, target: null,
  working: null,  // the Geoman-editable layer of a draw, edit or split
  op: null, checked: null, undo: [],
};
let checkTimer = null;
let checkAbort = null;

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(url, body, signal) {
  const res = await fetch(url, {
    method: body ? "POST" : "GET", credentials: "same-origin", signal,
    headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json", "X-CSRFToken": csrfToken() } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({ detail: `${res.status} ${res.statusText}` }));
  return { status: res.status, data };
}

const withBase = (op) => ({ ...op, base_versions: state.baseVersions });
const sheetUrl = (url) => `${url}?parent=${config.parent}${config.layer ? `&layer=${encodeURIComponent(config.layer)}` : ""}`;

// --- the sheet: parent, neighbours, grids, buildings ---------------------------------------------
async function loadSheet({ fit = false } = {}) {
  el.dataset.state = "loading";
  const { status, data } = await api(sheetUrl(config.api.sheet));
  if (status !== 200) {
    showResult("error", `${T.loadFailed}: ${data.detail || status}`);
    return;
  }
  state.sheet = data;
  config.layer = data.layer;
  state.byId = new Map(data.grids.map((f) => [f.properties.id, f]));
  state.baseVersions = Object.fromEntries(data.grids.map((f) => [f.properties.id, f.properties.version]));
  outlines.clearLayers();
  data.neighbours.forEach((f) => outlines.addLayer(L.geoJSON(f, { style: STYLE.neighbour, ...FIXED })));
  outlines.addLayer(L.geoJSON(data.parent, { style: STYLE.parent, ...FIXED }));
  grids.clearLayers();
  data.grids.forEach((f) => {
    const p = f.properties;
    const layer = L.geoJSON(f, { style: p.own ? STYLE.grid : STYLE.other, ...FIXED }).getLayers()[0];
    layer.feature = f;
    setLabel(layer, { level: "grid", name: p.name, code: p.code, leader: fill(T.householdsN, { n: p.households }), esc });
    layer.on("click", () => onGridClick(p.id));
    layer.on("add", () => {
      const path = layer.getElement();
      path.classList.add("ed-grid");
      Object.assign(path.dataset, { code: p.code, id: p.id });
    });
    grids.addLayer(layer);
  });
  if (fit) map.fitBounds(L.geoJSON(data.parent).getBounds(), { padding: [20, 20] });
  restyle();
  refreshLabels();
  loadSuggestions();
  await refreshBuildings();
  el.dataset.state = "ready";
}

function gridLayer(id) {
  return grids.getLayers().find((l) => l.feature.properties.id === id);
}

function restyle() {
  const chosen = new Set([state.selected, ...state.picked, state.target].filter(Boolean));
  grids.getLayers().forEach((l) => {
    const p = l.feature.properties;
    l.setStyle(chosen.has(p.id) ? STYLE.chosen : p.own ? STYLE.grid : STYLE.other);
  });
}

function refreshLabels() {
  showLabels(map, [[grids, map.getZoom() >= 13]]);
}

async function refreshBuildings() {
  if (map.getZoom() < config.buildingsMinZoom) {
    buildings.clearLayers();
    setStatus(T.zoomIn);
    return;
  }
  setStatus("");
  try {
    const { features, failed } = await tiles.features(map.getBounds().pad(0.1), map.getZoom());
    buildings.clearLayers();
    buildings.addData(features);
    el.dataset.buildings = String(features.length);
    if (failed) setStatus(`${T.loadFailed}: ${T.buildings}`);
  } catch (err) {
    setStatus(`${T.loadFailed}: ${err.message}`);
  }
}

function setStatus(text) {
  $("ed-status").textContent = text;
}

map.on("moveend", () => { refreshLabels(); refreshBuildings(); });

// --- tools ----------------------------------------------------------------------------------
const own = () => state.sheet.grids.filter((f) => f.properties.own);
const codeOf = (id) => state.byId.get(id)?.properties.code ?? "";

function setTool(tool) {
  clearWorking();
  imports.clear();
  map.pm.disableDraw();
  Object.assign(state, { tool, op: null, checked: null, undo: [], picked: [], keep: null, target: null });
  clearProposal();
  document.querySelectorAll(".ed-tools [data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tool === tool)));
  $("ed-choice").innerHTML = "";
  const grid = state.selected;
  if (tool === "draw") {
    map.pm.enableDraw("Polygon", { snappable: true });
    hint(T.hintDraw);
  } else if (tool === "split") {
    map.pm.enableDraw("Line", { snappable: true, finishOn: "dblclick" });
    hint(T.hintSplit);
  } else if (tool === "edit" || tool === "delete") {
    if (!grid) { hint(T.pickGrid); return; }
    if (tool === "edit") {
      makeWorking(state.byId.get(grid).geometry);
      hint(fill(T.hintEdit, { code: codeOf(grid) }));
    } else {
      state.op = { operation: "delete", grid };
      renderTarget();
      hint(fill(T.hintDelete, { code: codeOf(grid) }));
      changed();
    }
  } else if (tool === "merge") {
    state.picked = grid ? [grid] : [];
    hint(T.hintMerge);
    renderKeep();
  } else {
    hint(T.hintSelect);
  }
  restyle();
  updateUndo();
}

function hint(text) {
  $("ed-hint").textContent = text;
}

/** The drawn shape (polygon or line) as a Geoman-editable layer, re-checked on every edit. */
function makeWorking(geometry) {
  clearWorking();
  const depth = { Polygon: 1, MultiPolygon: 2, LineString: 0 }[geometry.type];
  const latlngs = L.GeoJSON.coordsToLatLngs(geometry.coordinates, depth);
  const options = { color: "#e65100", weight: 3, fillOpacity: 0.1, pmIgnore: false, snapIgnore: true };
  state.working = (geometry.type === "LineString" ? L.polyline(latlngs, options) : L.polygon(latlngs, options)).addTo(map);
  adoptWorking(state.working);
}

function adoptWorking(layer) {
  state.working = layer;
  layer.options.snapIgnore = true;  // its own vertices are not snap targets
  layer.pm.enable({ snappable: true, allowSelfIntersection: false });
  layer.on("pm:edit", () => { opFromWorking(); changed(); });
  layer.on("pm:markerdrag", () => { opFromWorking(); scheduleCheck(); });
}

function clearWorking() {
  if (state.working) {
    state.working.pm?.disable();
    map.removeLayer(state.working);
    state.working = null;
  }
}

function opFromWorking() {
  const geometry = state.working.toGeoJSON(8).geometry;
  if (state.tool === "draw") {
    state.op = { operation: "draw", parent: config.parent, layer: config.layer, shape: geometry };
  } else if (state.tool === "edit") {
    state.op = { operation: "reshape", grid: state.selected, shape: geometry };
  } else if (state.tool === "split") {
    state.op = { operation: "split", grid: state.selected ?? gridUnder(geometry), line: geometry };
  }
}

// The grid a split line was drawn across, when none was chosen first: the one most of its length
// lies in (sampled along the line).
function gridUnder(line) {
  const counts = new Map();
  const pts = line.coordinates;
  for (let i = 0; i + 1 < pts.length; i++) {
    for (let k = 0; k <= 20; k++) {
      const t = k / 20;
      const x = pts[i][0] + (pts[i + 1][0] - pts[i][0]) * t;
      const y = pts[i][1] + (pts[i + 1][1] - pts[i][1]) * t;
      const hit = own().find((f) => contains(f.geometry, x, y));
      if (hit) counts.set(hit.properties.id, (counts.get(hit.properties.id) || 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

function contains(geometry, x, y) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => rings.filter((ring) => inRing(ring, x, y)).length % 2 === 1);
}

map.on("pm:create", (e) => {
  adoptWorking(e.layer);
  opFromWorking();
  changed();
});

function onGridClick(id) {
  const f = state.byId.get(id);
  if (!f || state.tool === "draw" || state.tool === "split" || state.working) return;
  if ((state.tool === "edit" || state.tool === "delete") && !state.op) {  // the tool waits for its grid
    if (!f.properties.own) return;
    state.selected = id;
    showGrid();
    setTool(state.tool);
  } else if (state.tool === "merge") {
    if (!f.properties.own) return;
    state.picked = state.picked.includes(id) ? state.picked.filter((g) => g !== id) : [...state.picked, id];
    renderKeep();
    mergeOp();
  } else if (state.tool === "delete") {
    if (id === state.op?.grid || !f.properties.own) return;
    state.target = state.target === id ? null : id;
    renderTarget();
    state.op = { operation: "delete", grid: state.op.grid, ...(state.target ? { target: state.target } : {}) };
    changed();
  } else {
    state.selected = state.selected === id ? null : id;
    showGrid();
  }
  restyle();
}

function mergeOp() {
  if (!state.picked.includes(state.keep)) state.keep = state.picked[0] ?? null;
  state.op = state.picked.length >= 2 ? { operation: "merge", grids: state.picked, keep: state.keep } : null;
  changed();
}

function choiceSelect(label, options, value, onChange) {
  const opts = options.map(([v, text]) => `<option value="${esc(v)}"${String(v) === String(value ?? "") ? " selected" : ""}>${esc(text)}</option>`);
  $("ed-choice").innerHTML = `<label>${esc(label)} <select>${opts.join("")}</select></label>`;
  $("ed-choice").querySelector("select").addEventListener("change", (e) => onChange(e.target.value));
}

const gridName = (id) => `${codeOf(id)} ${state.byId.get(id)?.properties.name ?? ""}`;

function renderKeep() {
  if (state.picked.length < 2) { $("ed-choice").innerHTML = ""; return; }
  choiceSelect(T.keeps, state.picked.map((id) => [id, gridName(id)]), state.keep, (v) => {
    state.keep = Number(v);
    mergeOp();
  });
}

function renderTarget() {
  const others = own().map((f) => f.properties.id).filter((id) => id !== state.op.grid);
  choiceSelect(T.target, [["", T.noTarget], ...others.map((id) => [id, gridName(id)])], state.target, (v) => {
    state.target = v ? Number(v) : null;
    state.op = { operation: "delete", grid: state.op.grid, ...(state.target ? { target: state.target } : {}) };
    restyle();
    changed();
  });
}

// --- undo: a stack of the user's own drawings and choices ------------------------------------------
function snapshot() {
  return JSON.parse(JSON.stringify({ tool: state.tool, op: state.op, picked: state.picked, keep: state.keep, target: state.target }));
}

/** The operation changed: remember it for undo, check it soon. */
function changed() {
  state.undo.push(snapshot());
  updateUndo();
  scheduleCheck();
}

function undo() {
  const drawing = map.pm.Draw.getActiveShape?.();
  if (drawing && map.pm.Draw[drawing]?._layer?.getLatLngs().length) {  // a shape half drawn: its last vertex
    map.pm.Draw[drawing]._removeLastVertex();
    return;
  }
  if (!state.undo.length) return;
  state.undo.pop();
  const previous = state.undo[state.undo.length - 1];
  if (!previous) {
    const { tool } = state;
    setTool(tool);
    return;
  }
  map.pm.disableDraw();
  Object.assign(state, { op: previous.op, picked: previous.picked, keep: previous.keep, target: previous.target });
  const geometry = previous.op?.shape || previous.op?.line;
  if (geometry) makeWorking(geometry); else clearWorking();
  if (state.tool === "merge") renderKeep();
  if (state.tool === "delete") renderTarget();
  restyle();
  updateUndo();
  scheduleCheck();
}

function updateUndo() {
  $("ed-undo").disabled = state.undo.length === 0 && !map.pm.Draw.getActiveShape?.();
}

document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z" && !e.target.closest("input, select, textarea")) {
    e.preventDefault();
    undo();
  }
});
$("ed-undo").addEventListener("click", undo);
map.on("pm:drawstart", updateUndo);
map.on("pm:drawend", updateUndo);
document.querySelectorAll(".ed-tools [data-tool]").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));

// --- check while drawing ---------------------------------------------------------------------
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkAbort?.abort();
  clearPreview();
  if (!state.op) { clearProposal(); return; }
  el.dataset.check = "checking";
  $("ed-findings").innerHTML = `<p class="gm-note">${esc(T.checking)}</p>`;
  checkTimer = setTimeout(check, CHECK_MS);
}

async function check() {
  checkAbort = new AbortController();
  let answer;
  try {
    answer = await api(config.api.check, withBase(state.op), checkAbort.signal);
  } catch (err) {
    if (err.name !== "AbortError") showResult("error", err.message);
    return;
  }
  const { status, data } = answer;
  clearProposal();
  if (status === 200) {
    state.checked = data;
    drawProposal(data);
    $("ed-findings").innerHTML = findingsHtml(T, data.findings);
    el.dataset.check = data.ok ? "ok" : "errors";
  } else {
    state.checked = null;
    refused(status, data);
    el.dataset.check = "errors";
  }
  $("ed-act").hidden = false;
  updateCommit();
}

function clearProposal() {
  proposed.clearLayers();
  findingsLayer.clearLayers();
  $("ed-findings").innerHTML = "";
  el.dataset.check = "idle";
  $("ed-act").hidden = !state.op;
  updateCommit();
}

function drawProposal(data) {
  Object.entries(data.shapes).forEach(([code, geometry]) => {
    if (!geometry) return;
    const layer = L.geoJSON(geometry, { pane: "ed-proposed", style: STYLE.proposed, ...NOT_SNAPPED });
    layer.bindTooltip(`${code} ${data.names[code] || ""}`, { sticky: true });
    proposed.addLayer(layer);
  });
  data.findings.forEach((f) => {
    if (!f.where) return;
    const style = f.kind === "gap" ? STYLE.gap : STYLE[f.severity] || STYLE.error;
    const layer = L.geoJSON(f.where, {
      pane: "ed-findings", style: { ...style, interactive: true }, ...NOT_SNAPPED,
      pointToLayer: (_f, latlng) => L.circleMarker(latlng, { ...style, radius: 9, pane: "ed-findings" }),
    });
    layer.bindTooltip(f.message, { sticky: true });
    layer.eachLayer((l) => l.on("add", () => l.getElement()?.classList.add("ed-finding", `ed-finding-${f.kind}`)));
    findingsLayer.addLayer(layer);
  });
}

/** A 400 or 409 from check, preview or commit: the conflict with a Reload button, or the errors
 * (an invalid drawing's spot marked on the map). */
function refused(status, data) {
  if (status === 409) {
    const items = (data.conflict || []).map((c) => `<li>${esc(c.code)}: ${esc(c.what)}</li>`).join("");
    showResult("conflict", `<p>${esc(T.conflict)}</p><ul>${items}</ul><button type="button" id="ed-reload">${esc(T.reload)}</button>`, true);
    $("ed-reload").addEventListener("click", () => { clearResult(); setTool("select"); loadSheet(); });
    el.dataset.commit = "conflict";
    return;
  }
  const messages = Object.entries(data).filter(([k]) => k !== "spot")
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [typeof v === "object" ? JSON.stringify(v) : v]).map((m) => `${k === "detail" ? "" : `${k}: `}${m}`));
  $("ed-findings").innerHTML = `<h3 class="ed-error">${esc(T.refused)}</h3><ul class="ed-findings">${messages.map((m) => `<li data-severity="error">${esc(m)}</li>`).join("")}</ul>`;
  if (data.spot) {
    const spot = L.circleMarker([data.spot[1], data.spot[0]], { ...STYLE.error, radius: 10, pane: "ed-findings" });
    findingsLayer.addLayer(spot.bindTooltip(messages.join(" "), { permanent: true }));
  }
}

// --- preview and commit ------------------------------------------------------------------------
const form = $("ed-commit");
form.elements.effective.value = config.today;
form.elements.effective.max = config.today;
form.elements.policy.innerHTML = Object.entries(T.policies).map(([k, v]) => `<option value="${k}">${esc(v)}</option>`).join("");
form.elements.reason.addEventListener("input", updateCommit);
form.elements.policy.addEventListener("change", () => { if (state.preview) renderPreview(); });

function updateCommit() {
  form.querySelector("[type=submit]").disabled = !(state.checked?.ok && state.op && form.elements.reason.value.trim());
}

function clearPreview() {
  state.preview = null;
  movedLayer.clearLayers();
  $("ed-preview").innerHTML = "";
  delete el.dataset.preview;
}

async function preview() {
  if (!state.op) return;
  clearTimeout(checkTimer);  // the preview answers the check too
  clearPreview();
  $("ed-preview").innerHTML = `<p class="gm-note">${esc(T.checking)}</p>`;
  const { status, data } = await api(config.api.preview, withBase(state.op));
  $("ed-preview").innerHTML = "";
  clearProposal();
  $("ed-act").hidden = false;
  if (status !== 200) { refused(status, data); el.dataset.check = "errors"; return; }
  showPreview(data);
}

/** A preview's answer (a check with its impact) on the map and in the panel. */
function showPreview(data) {
  state.checked = data;
  state.preview = data.impact;
  drawProposal(data);
  $("ed-findings").innerHTML = findingsHtml(T, data.findings);
  el.dataset.check = data.ok ? "ok" : "errors";
  renderPreview();
  (data.impact.listed.buildings || []).forEach((b) => {
    const marker = L.circleMarker([b.lat, b.lon], { radius: 6, color: "#b71c1c", weight: 2, fillColor: "#ffeb3b", fillOpacity: 0.9, ...NOT_SNAPPED });
    marker.bindTooltip(`${b.label}: ${b.from ?? T.noGrid} → ${b.to ?? T.noGrid}`);
    marker.on("add", () => marker.getElement()?.classList.add("ed-moved"));
    movedLayer.addLayer(marker);
  });
  updateCommit();
  el.dataset.preview = "ready";
}

function renderPreview() {
  $("ed-preview").innerHTML = previewHtml(T, state.preview, form.elements.policy.value);
}

$("ed-preview-button").addEventListener("click", preview);

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!state.op || !state.checked?.ok) return;
  const day = form.elements.effective.value;
  const body = {
    ...withBase(state.op), reason: form.elements.reason.value.trim(), policy: form.elements.policy.value,
    ...(day && day !== config.today ? { effective_from: `${day}T00:00:00` } : {}),  // today: from now
  };
  form.querySelector("[type=submit]").disabled = true;
  const { status, data } = await api(config.api.commit, body);
  if (status === 201) {
    const n = data.moved?.buildings ?? 0;
    form.elements.reason.value = "";
    setTool("select");
    await loadSheet();
    showResult("ok", fill(T.committed, { operation: T.operations[data.operation] || data.operation, grids: data.grids.join(", "), n }));
    el.dataset.commit = "done";
  } else {
    refused(status, data);
    if (status !== 409) el.dataset.commit = "refused";
    updateCommit();
  }
});

function showResult(kind, content, html = false) {
  const box = $("ed-result");
  box.className = `ed-result ed-result-${kind}`;
  if (html) box.innerHTML = content; else box.textContent = content;
}

function clearResult() {
  $("ed-result").className = "";
  $("ed-result").textContent = "";
}

// --- a grid's card and history --------------------------------------------------------------------
function showGrid() {
  const box = $("ed-grid");
  historyLayer.clearLayers();
  const f = state.byId.get(state.selected);
  box.hidden = !f;
  if (!f) return;
  const p = f.properties;
  box.innerHTML = `<h3>${esc(p.name)} <small>${esc(p.code)}</small></h3>`
    + `<p class="gm-note">${esc(fill(T.householdsN, { n: p.households }))}${p.leader ? ` · ${esc(p.leader)}` : ""}</p>`
    + `<button type="button" id="ed-history-button">${esc(T.history)}</button><div id="ed-history"></div>`;
  $("ed-history-button").addEventListener("click", () => showHistory(p.id));
}

async function showHistory(id) {
  const { status, data } = await api(config.api.history.replace("{id}", id));
  if (status !== 200) { showResult("error", `${T.loadFailed}: ${data.detail || status}`); return; }
  $("ed-history").innerHTML = historyHtml(T, data);
  $("ed-history").querySelectorAll("[data-show-version]").forEach((b) => b.addEventListener("click", () => {
    const version = data.versions.find((v) => String(v.version) === b.dataset.showVersion);
    historyLayer.clearLayers();
    const before = L.geoJSON(version.geometry, { style: STYLE.before, ...NOT_SNAPPED }).bindTooltip(`${T.before}: ${fill(T.version, { n: version.version })}`, { permanent: true, direction: "center" });
    const after = L.geoJSON(data.versions[0].geometry, { style: STYLE.after, ...NOT_SNAPPED }).bindTooltip(T.after, { sticky: true });
    historyLayer.addLayer(before).addLayer(after);
    map.fitBounds(historyLayer.getBounds(), { padding: [30, 30] });
  }));
}

// --- suggestions ---------------------------------------------------------------------------------
async function loadSuggestions() {
  const { status, data } = await api(sheetUrl(config.api.suggestions));
  const box = $("ed-suggestions");
  if (status !== 200) { box.textContent = `${T.loadFailed}: ${data.detail || status}`; return; }
  box.innerHTML = suggestionsHtml(T, data.suggestions, config.households);
  box.querySelectorAll("[data-suggestion]").forEach((b) => b.addEventListener("click", () => {
    const { operation } = data.suggestions[Number(b.dataset.suggestion)];
    state.selected = operation.grid ?? null;
    setTool(operation.operation);
    if (operation.operation === "split") {
      map.pm.disableDraw();
      makeWorking(operation.line);
      state.op = operation;
      changed();
    } else {
      state.picked = operation.grids;
      state.keep = operation.keep;
      renderKeep();
      mergeOp();
    }
    restyle();
    if (b.dataset.then === "preview") preview();
  }));
}

// --- a whole boundary set from a file (editor_import.js) -------------------------------------------
const imports = setupImport({
  L, map, T, config, grids, csrfToken,
  reset: () => { setTool("select"); clearPreview(); clearResult(); delete el.dataset.commit; },
  showProposal: (data) => {
    state.op = data.operation;
    clearProposal();
    showPreview(data);
  },
});

// --- start -------------------------------------------------------------------------------------
const statusBox = L.control({ position: "bottomleft" });
statusBox.onAdd = () => Object.assign(L.DomUtil.create("div", "gm-status"), { id: "ed-status" });
statusBox.addTo(map);
setTool("select");
window.gridmap = { map, state };
loadSheet({ fit: true });
