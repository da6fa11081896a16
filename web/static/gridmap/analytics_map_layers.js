// The analytics map's layers (analytics_map.js drives them): graded square bins, the per-grid
// choropleth over the grids' outlines, the point-density view (Leaflet.heat) and their legend.
// Bins come as [gx, gy, count] with the bin's size in degrees: bin (gx, gy) spans gx·dlon …
// (gx+1)·dlon east and gy·dlat … (gy+1)·dlat north (gridmap/analytics/heatmap.py).
import * as L from "leaflet";

const PALETTE = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];  // ColorBrewer YlOrRd, 5 classes
const EMPTY = "#cfd8dc";  // a grid with no figure (no residents, or suppressed)

export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

/** Upper bounds of up to five classes of the positive values (quantiles, without repeats). */
export function breaks(values) {
  const v = values.filter((x) => x > 0).sort((a, b) => a - b);
  const out = [];
  for (let i = 1; v.length && i <= PALETTE.length; i++) {
    const b = v[Math.ceil((i * v.length) / PALETTE.length) - 1];
    if (!out.length || b > out[out.length - 1]) out.push(b);
  }
  return out;
}

const colourOf = (x, bounds) => PALETTE[Math.max(0, bounds.findIndex((b) => x <= b))] || PALETTE[PALETTE.length - 1];
const fmt = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The legend's HTML: one swatch per class, "0" and "no figure" where they apply. */
export function legendHtml(title, bounds, { zero = false, empty = "" } = {}) {
  const counts = bounds.every(Number.isInteger);
  const rows = bounds.map((b, i) => {
    // a class holds the values above the previous bound up to its own: counts say 2, 3 – 5, 6 – 12
    // (no number in two classes), rates say ≤ 0.5, 0.5 – 1.2
    const low = counts ? (i ? bounds[i - 1] + 1 : 1) : null;
    const text = counts ? (low === b ? fmt(b) : `${low} – ${fmt(b)}`) : (i ? `${fmt(bounds[i - 1])} – ${fmt(b)}` : `≤ ${fmt(b)}`);
    return `<li><span class="gm-swatch" style="background:${PALETTE[i]}"></span>${text}</li>`;
  });
  if (zero) rows.unshift(`<li><span class="gm-swatch ah-zero"></span>0</li>`);
  if (empty) rows.push(`<li><span class="gm-swatch" style="background:${EMPTY}"></span>${esc(empty)}</li>`);
  return `<h3>${esc(title)}</h3><ul>${rows.join("")}</ul>`;
}

/** Square bins, graded by count; a click on one shows its count. */
export function binsLayer(map) {
  const group = L.featureGroup().addTo(map);
  group.on("click", (e) => L.popup().setLatLng(e.latlng).setContent(String(e.layer.options.count)).openOn(map));
  return {
    draw(answer) {
      group.clearLayers();
      const { dlon, dlat } = answer.bin;
      const bounds = breaks(answer.bins.map((b) => b[2]));
      answer.bins.forEach(([gx, gy, n]) => {
        const rect = L.rectangle([[gy * dlat, gx * dlon], [(gy + 1) * dlat, (gx + 1) * dlon]], {
          stroke: false, fillColor: colourOf(n, bounds), fillOpacity: 0.7, className: "ah-bin", count: n,
        }).addTo(group);
        rect.getElement().dataset.count = n;
      });
      return bounds;
    },
    clear: () => group.clearLayers(),
  };
}

/** The grids' outlines, always drawn thin; filled by a figure when the choropleth is on. */
export function gridsLayer(map, T, { popupExtra }) {
  let rows = new Map();
  let measure = "count";
  let bounds = [];
  const layer = L.geoJSON(null, {
    style: () => ({ color: "#546e7a", weight: 1, fillOpacity: 0 }),
    onEachFeature: (f, l) => {
      l.on("add", () => Object.assign(l.getElement().dataset, { id: f.properties.id, code: f.properties.code }));
      l.on("click", (e) => rows.size && L.popup().setLatLng(e.latlng).setContent(popupHtml(f.properties)).openOn(map));
    },
  }).addTo(map);

  const figure = (row) => (row ? row[measure] : null);
  const noFigure = (row) => {
    if (!row) return "";
    if (row.suppressed) return fill(T.suppressedGrid, { n: row.minPersons });
    if (measure === "per_1000_residents" && !row.residents) return T.noResidents;
    if (measure === "per_100_households" && !row.households) return T.noHouseholds;
    return "";
  };

  function popupHtml(p) {
    const row = rows.get(p.id);
    const cell = (v, none) => (v === null || v === undefined ? esc(none) : esc(fmt(v)));
    const hidden = row && row.suppressed ? fill(T.suppressedGrid, { n: row.minPersons }) : "";
    return `<table class="gm-popup ah-grid-popup" data-id="${esc(p.id)}"><caption>${esc(p.name)} (${esc(p.code)})</caption>
      <tr><th>${esc(T.count)}</th><td>${cell(row && row.count, hidden)}</td></tr>
      <tr><th>${esc(T.residents)}</th><td>${cell(row && row.residents, "")}</td></tr>
      <tr><th>${esc(T.households)}</th><td>${cell(row && row.households, "")}</td></tr>
      <tr><th>${esc(T.per1000)}</th><td>${cell(row && row.per_1000_residents, hidden || T.noResidents)}</td></tr>
      <tr><th>${esc(T.per100)}</th><td>${cell(row && row.per_100_households, hidden || T.noHouseholds)}</td></tr>
      </table>${popupExtra(p)}`;
  }

  function restyle() {
    layer.eachLayer((l) => {
      const row = rows.get(l.feature.properties.id);
      const v = figure(row);
      const style = !rows.size ? { fillOpacity: 0 }
        : v === null || v === undefined ? { fillColor: EMPTY, fillOpacity: 0.5 }
          : { fillColor: v > 0 ? colourOf(v, bounds) : "#fff", fillOpacity: 0.7 };
      l.setStyle({ color: "#546e7a", weight: 1, ...style });
      const el = l.getElement();
      if (el) Object.assign(el.dataset, { value: v ?? "", note: noFigure(row) });
    });
  }

  return {
    setOutlines(geojson) { layer.clearLayers(); layer.addData(geojson); restyle(); },
    /** The choropleth of `answer` (null: outlines only) by `how` (count or a rate). */
    draw(answer, how) {
      measure = how;
      rows = new Map((answer ? answer.grids : []).map((r) => [r.id, { ...r, minPersons: answer.min_persons }]));
      bounds = breaks([...rows.values()].map(figure).filter((v) => v !== null && v !== undefined));
      restyle();
      return bounds;
    },
    bringToBack: () => layer.bringToBack(),
  };
}

let heatLoaded = null;

/** Leaflet.heat is a classic script that extends a global `L`: it gets a plain copy of the frozen ES
 * module namespace (the same classes), then is imported once. */
export function loadHeat(src) {
  if (!heatLoaded) {
    if (!window.L || !Object.isExtensible(window.L)) window.L = { ...L };
    heatLoaded = import(src).then(() => window.L);
  }
  return heatLoaded;
}
