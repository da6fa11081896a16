// The leaders' analytics map (统计分析地图): where events gather, for a category set, status,
// period and area — graded heat bins counted by PostGIS (a point-density view at street zoom),
// or a per-grid choropleth of counts or rates; a time slider plays the period month by month;
// the hotspot layer (hotspots_layer.js) follows the same filters. Every figure comes from
// /api/analytics/ (gridmap/analytics/heatmap_api.py), scoped and cached on the server.
//
// Test hooks: #map[data-state=loading|ready][data-heat=loading|ready|error][data-mode=bins|points|grids]
// [data-bins=<bins drawn>][data-total=<their sum>][data-month=<YYYY-MM or "all">][data-months=<n>];
// bins are paths .ah-bin[data-count]; grid outlines carry data-id, data-code, data-value, data-note;
// window.gridmap.map is the Leaflet map.
import { baseMap } from "./base_map.js";
import { bboxParam, clampBox } from "./bbox.js";
import { hotspotLayer } from "./hotspots_layer.js";
import { binsLayer, esc, fill, gridsLayer, legendHtml, loadHeat } from "./analytics_map_layers.js";

const config = JSON.parse(document.getElementById("gridmap-config").textContent);
const T = config.text;
const $ = (id) => document.getElementById(id);
const el = $("map");
const form = $("ah-filters");
const slider = $("ah-slider");
const STEP_MS = 1500;  // a month's figures stay this long on screen while playing

const map = baseMap(el, config);
window.gridmap = { map };

const state = { months: [], step: 0, outlinesArea: null, grids: null, playing: null, seq: 0 };
const dashboardLink = (p) => {
  const q = stepParams(false);
  q.set("area", p.id);
  return `<p><a href="${esc(`${config.api.dashboard}?${q}`)}" data-testid="dashboard-link">${esc(T.dashboard)}</a></p>`;
};
const bins = binsLayer(map);
const grids = gridsLayer(map, T, { popupExtra: dashboardLink });
let heat = null;  // the Leaflet.heat layer, made on first use
const hotspots = hotspotLayer(map, { panel: $("ah-hotspots"), config, popupExtra: dashboardLink });

// --- the filters as query parameters -----------------------------------------------------------
function filterParams() {
  const f = new FormData(form);
  const q = new URLSearchParams();
  f.getAll("category").forEach((c) => q.append("category", c));
  ["status", "area"].forEach((k) => f.get(k) && q.set(k, f.get(k)));
  if (f.get("period") === "custom") {
    q.set("from", f.get("from"));
    q.set("to", f.get("to"));
  } else {
    q.set("period", f.get("period"));
  }
  return q;
}

/** The filters for the slider's step: the whole period, or one of its months. */
function stepParams(withLayer = true) {
  const q = filterParams();
  const month = state.step > 0 ? state.months[state.step - 1] : null;
  if (month) {
    ["period", "from", "to"].forEach((k) => q.delete(k));
    q.set("from", month.from);
    q.set("to", month.to);
  }
  if (withLayer) q.set("layer", form.elements.layer.value);
  return q;
}

const view = () => form.elements.view.value;
const customReady = () => form.elements.period.value !== "custom" || (form.elements.from.value && form.elements.to.value);

async function getJSON(url, params) {
  const res = await fetch(`${url}?${params}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(Object.entries(data).map(([k, v]) => `${k}: ${v}`).join("; ") || `${res.status}`);
  return data;
}

function status(text, error = false) {
  $("ah-status").textContent = text;
  $("ah-status").classList.toggle("gm-status-error", error);
}

// --- loading and drawing ----------------------------------------------------------------------
/** Runs `work` unless a newer load started meanwhile; marks the map loading, then ready or error. */
async function load(work) {
  const seq = ++state.seq;
  el.dataset.heat = "loading";
  status(T.loading);
  try {
    const draw = await work();
    if (seq !== state.seq) return;
    draw();
    el.dataset.heat = "ready";
  } catch (err) {
    if (seq !== state.seq) return;
    el.dataset.heat = "error";
    status(`${T.loadFailed}: ${err.message}`, true);
  }
}

function showCommon(answer, legend, line) {
  $("ah-legend").innerHTML = legend;
  const suppressed = answer.suppressed ? ` · ${fill(T.suppressed, { count: answer.suppressed, n: answer.min_persons })}` : "";
  status(line + suppressed);
  $("ah-boundaries").textContent = `${T.boundaries}: ${answer.boundaries.rule}`;
  if (state.step === 0) setMonths(answer.months);
  el.dataset.month = state.step > 0 ? state.months[state.step - 1].label : "all";
}

function clearPointsAndBins() {
  document.querySelector(".ah-export").hidden = true;
  bins.clear();
  if (heat) map.removeLayer(heat);
  el.dataset.bins = "0";
}

async function loadBins() {
  const q = stepParams();
  q.set("bbox", bboxParam(clampBox(map.getBounds().pad(0.1), config.maxBboxDegrees)));
  q.set("zoom", String(Math.floor(map.getZoom())));
  const answer = await getJSON(config.api.bins, q);
  return () => {
    clearPointsAndBins();
    const bounds = bins.draw(answer);
    Object.assign(el.dataset, { mode: "bins", bins: answer.bins.length, total: answer.total });
    const title = answer.layer === "events" ? T.legendEvents : T.legendPersons;
    showCommon(answer, legendHtml(title, bounds), fill(T.total, { n: answer.total }));
  };
}

async function loadPoints() {
  const q = stepParams(false);
  q.set("bbox", bboxParam(clampBox(map.getBounds().pad(0.1), config.pointsMaxBboxDegrees)));
  const [answer, Lh] = await Promise.all([getJSON(config.api.points, q), loadHeat(config.heatScript)]);
  return () => {
    clearPointsAndBins();
    heat = Lh.heatLayer(answer.points, { radius: 20, blur: 15, maxZoom: config.maxZoom }).addTo(map);
    Object.assign(el.dataset, { mode: "points", total: answer.points.length });
    const line = answer.truncated ? fill(T.truncated, { n: answer.limit }) : fill(T.pointsShown, { n: answer.points.length });
    showCommon(answer, `<h3>${esc(T.density)}</h3>`, line);
  };
}

async function loadGrids() {
  const q = stepParams();
  const answer = await getJSON(config.api.grids, q);
  return () => {
    clearPointsAndBins();
    ["csv", "xlsx"].forEach((fmt) => { $(`ah-${fmt}`).href = `${config.api.grids}?${q}&export=${fmt}`; });
    document.querySelector(".ah-export").hidden = false;
    state.grids = answer;
    const measure = form.elements.measure.value;
    const bounds = grids.draw(answer, measure);
    const total = answer.grids.reduce((sum, r) => sum + (r.count || 0), 0);
    Object.assign(el.dataset, { mode: "grids", total });
    const label = form.elements.measure.selectedOptions[0].textContent;
    showCommon(answer, legendHtml(`${T.legendGrid}: ${label}`, bounds, { zero: true, empty: measure === "count" ? "" : T.noResidents }),
      fill(T.total, { n: total }));
  };
}

function loadView() {
  if (!customReady()) return Promise.resolve();
  if (view() === "grids") return load(loadGrids);
  grids.draw(null, "count");
  const points = form.elements.layer.value === "events" && map.getZoom() >= config.pointsMinZoom;
  return load(points ? loadPoints : loadBins);
}

// --- the period's months: the time slider ------------------------------------------------------------
/** The slider's steps: the whole period (0), then each of its months, as the whole period's answer lists them. */
function setMonths(months) {
  if (JSON.stringify(months) === JSON.stringify(state.months)) return;
  state.months = months;
  slider.max = String(months.length);
  el.dataset.months = String(months.length);
  showStep();
}

function showStep() {
  $("ah-month").textContent = state.step ? fill(T.month, { month: state.months[state.step - 1].label }) : T.allMonths;
}

function step(to) {
  state.step = Math.max(0, Math.min(state.months.length, to));
  slider.value = String(state.step);
  showStep();
  return loadView();
}

function play(on) {
  clearTimeout(state.playing);
  state.playing = null;
  $("ah-play").setAttribute("aria-pressed", String(on));
  if (!on) return;
  const next = async () => {
    if (state.step >= state.months.length) { play(false); return; }
    await step(state.step + 1);
    state.playing = setTimeout(next, STEP_MS);
  };
  next();
}

async function onFilters() {
  play(false);
  $("ah-filters").querySelector(".ah-custom").hidden = form.elements.period.value !== "custom";
  if (!customReady()) return;
  state.step = 0;
  slider.value = "0";
  showStep();
  const area = form.elements.area.value;
  try {
    if (area !== state.outlinesArea) {
      grids.setOutlines(await getJSON(config.api.outlines, new URLSearchParams(area ? { area } : {})));
      state.outlinesArea = area;
    }
  } catch (err) {
    el.dataset.heat = "error";
    status(`${T.loadFailed}: ${err.message}`, true);
    return;
  }
  hotspots.update(filterParams());
  loadView();
}

form.addEventListener("change", (e) => (["view", "measure"].includes(e.target.name) ? loadView() : onFilters()));
form.addEventListener("submit", (e) => e.preventDefault());
slider.addEventListener("input", () => { play(false); step(Number(slider.value)); });
$("ah-back").addEventListener("click", () => { play(false); step(state.step - 1); });
$("ah-next").addEventListener("click", () => { play(false); step(state.step + 1); });
$("ah-play").addEventListener("click", () => play($("ah-play").getAttribute("aria-pressed") !== "true"));
map.on("moveend", () => view() !== "grids" && loadView());

el.dataset.state = "ready";
onFilters();
