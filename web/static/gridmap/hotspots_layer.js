// The hotspot layer of the analytics map (Getis-Ord Gi*, gridmap/analytics/hotspots.py): the hot
// units in reds and the cold in blues by confidence (99 / 95 / 90 %, FDR-corrected), units that
// are not significant left undrawn; a popup gives count, z, p, q and confidence. The panel beside
// the map (options.panel) holds the view (hot spots; emerging: the last weeks against the weeks
// before; or the recurring buildings and households listed with their events), the units and the
// weights, the legend, and the method with its parameters as the server states them. Every word
// comes from the server's answer (translated there).
//
// Test hooks: options.panel[data-state=loading|ready|error][data-view][data-unit][data-weights]
// [data-hot=<n>][data-cold=<n>];
// unit paths .ah-spot.ah-spot-<hot|cold>-<confidence>[data-z][data-confidence]; the panel's
// selects name=hs-view|hs-unit|hs-weights, the report link a.ah-hs-report, its method list .ah-hs-method, and the recurring lists
// ol.ah-hs-recurring[data-kind=buildings|households] > li[data-count] > ul > li[data-number].
import * as L from "leaflet";

export const COLOURS = {
  hot: { 99: "#d7191c", 95: "#f17c4a", 90: "#fec980" },
  cold: { 99: "#2c7bb6", 95: "#72aed2", 90: "#c7e6f0" },
};
const TREND_COLOURS = { new: "#d7191c", intensifying: "#a50f15", persistent: "#f17c4a", cooling: "#72aed2" };
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function hotspotLayer(map, options = {}) {
  const panel = options.panel;
  const urls = {
    hotspots: options.url || "/api/analytics/hotspots/",
    emerging: options.emergingUrl || "/api/analytics/hotspots/emerging/",
    recurring: options.recurringUrl || "/api/analytics/recurring/",
    report: options.reportUrl || "/analytics/report/map/",
  };
  const choice = { view: "hotspots", unit: "grid", weights: "queen" };
  let layer = null;
  let last = null;  // the filter params of the last update
  let seq = 0;

  const colour = (p, view) => (view === "emerging" ? TREND_COLOURS[p.trend] : COLOURS[p.class]?.[p.confidence]);

  function draw(answer, view) {
    if (layer) layer.remove();
    const shown = answer.features.filter((f) => colour(f.properties, view));
    layer = L.geoJSON({ type: "FeatureCollection", features: shown }, {
      style: (f) => ({ color: "#444", weight: 1, fillColor: colour(f.properties, view), fillOpacity: 0.65 }),
      onEachFeature: (f, l) => {
        const p = f.properties;
        l.on("add", () => {
          const path = l.getElement?.();
          if (!path) return;
          path.classList.add("ah-spot", `ah-spot-${p.class}-${p.confidence}`);
          path.dataset.z = p.z;
          path.dataset.confidence = p.confidence;
          if (p.trend) path.dataset.trend = p.trend;
        });
        l.bindPopup(popup(p, answer));
      },
    }).addTo(map);
    panel.dataset.hot = answer.features.filter((f) => f.properties.class === "hot").length;
    panel.dataset.cold = answer.features.filter((f) => f.properties.class === "cold").length;
  }

  function popup(p, answer) {
    const cls = answer.legend.find((item) => item.class === p.class && item.confidence === p.confidence);
    const rows = [[p.name || p.id, p.code || ""], ["n", p.count], ["z", p.z ?? "–"], ["p", p.p ?? "–"], ["q (FDR)", p.q ?? "–"],
      ["%", p.confidence || "–"]];
    if (p.trend) rows.push(["Δ", `${p.count_before} → ${p.count} (${answer.trend_labels[p.trend]})`]);
    // a grid's popup leads on to its dashboard (options.popupExtra: the page's link for a grid)
    const extra = choice.unit === "grid" && options.popupExtra ? options.popupExtra(p) : "";
    return `<strong>${esc(cls ? cls.label : p.class)}</strong><table>${rows.map(([k, v]) =>
      `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>${extra}`;
  }

  function select(name, items) {
    return `<select name="hs-${name}">${items.map(({ value, label }) =>
      `<option value="${esc(value)}"${value === choice[name] ? " selected" : ""}>${esc(label)}</option>`).join("")}</select>`;
  }

  function controls(c) {
    return `
      <h3>${esc(c.title)}</h3>
      <label>${esc(c.labels.view)} ${select("view", c.view)}</label>
      <label>${esc(c.labels.unit)} ${select("unit", c.unit)}</label>
      <label>${esc(c.labels.weights)} ${select("weights", c.weights)}</label>
      <p><a class="ah-hs-report" href="${esc(`${urls.report}?${query()}`)}" download>${esc(c.labels.report)}</a></p>`;
  }

  // the filters of the last update with this panel's choices
  function query() {
    const q = new URLSearchParams(last);
    q.set("unit", choice.unit);
    q.set("weights", choice.weights);
    return q;
  }

  function listen() {
    panel.querySelectorAll("select").forEach((s) => s.addEventListener("change", () => {
      choice[s.name.slice(3)] = s.value;
      if (last) update(last);
    }));
  }

  // the recurring buildings and households, each with its events, as lists in the panel
  function writeRecurring(answer) {
    const R = answer.choices.recurring;
    const events = (list) => `<ul>${list.map((e) =>
      `<li data-number="${esc(e.number)}">${esc(e.number)} · ${esc(e.category)} ${esc(e.category_name)} · ${esc(e.reported_at.slice(0, 10))} · ${esc(e.status_label)}</li>`).join("")}</ul>`;
    const section = (title, kind, items, name) => `<h4>${esc(title)}</h4>${items.length ? `<ol class="ah-hs-recurring" data-kind="${kind}">${
      items.map((it) => `<li data-count="${it.count}"><b>${esc(name(it))}</b> (${it.count})${events(it.events)}</li>`).join("")}</ol>` : `<p>${esc(R.none)}</p>`}`;
    panel.innerHTML = `${controls(answer.choices)}<p>${esc(answer.window.from)} – ${esc(answer.window.to)}: ${esc(answer.rule)}</p>
      ${section(R.buildings, "buildings", answer.buildings, (b) => [b.name || b.code, b.address].filter(Boolean).join(" · "))}
      ${section(R.households, "households", answer.households, (h) => [h.number, h.building, h.room].filter(Boolean).join(" · "))}`;
    listen();
  }

  function writePanel(answer, view) {
    const c = answer.choices;
    const legend = view === "emerging"
      ? Object.entries(TREND_COLOURS).map(([t, col]) => [col, answer.trend_labels[t], answer.trends[t]])
      : answer.legend.filter((item) => item.class !== "none").map((item) =>
        [COLOURS[item.class][item.confidence], item.label, answer.summary[item.class][item.confidence]]);
    panel.innerHTML = `${controls(c)}
      <ul class="ah-hs-legend">${legend.map(([, label, n]) => `<li><span class="ah-swatch"></span>${esc(label)} <b>${esc(n ?? 0)}</b></li>`).join("")}</ul>
      <dl class="ah-hs-method">${answer.method.lines.map((l) => `<dt>${esc(l.label)}</dt><dd>${esc(l.value)}</dd>`).join("")}</dl>`;
    // colours through the CSSOM: the page's content security policy refuses inline style attributes
    panel.querySelectorAll(".ah-swatch").forEach((s, i) => {
      Object.assign(s.style, { display: "inline-block", width: "1em", height: ".7em", marginRight: ".3em", background: legend[i][0] });
    });
    listen();
  }

  async function update(params) {
    last = new URLSearchParams(params);
    const q = query();
    const view = choice.view;
    const mine = ++seq;
    panel.dataset.state = "loading";
    try {
      const r = await fetch(`${urls[view]}?${q}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) throw new Error(`${r.status}`);
      const answer = await r.json();
      if (mine !== seq) return;
      if (view === "recurring") {
        if (layer) layer.remove();
        layer = null;
        writeRecurring(answer);
      } else {
        draw(answer, view);
        writePanel(answer, view);
      }
      Object.assign(panel.dataset, { view, unit: choice.unit, weights: choice.weights, state: "ready" });
    } catch (err) {
      if (mine !== seq) return;
      panel.dataset.state = "error";
      panel.textContent = `Gi*: ${err.message}`;
    }
  }

  return {
    update,
    remove() {
      seq++;
      if (layer) layer.remove();
      layer = null;
      panel.innerHTML = "";
    },
  };
}
