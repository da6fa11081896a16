// A whole boundary set imported on the editor's page (导入边界): the chosen file is sent to
// /api/editor/import/, and its answer shown as a drawn change is — the new set drawn over the
// old with each row's match labelled, the grids it retires marked, problems drawn at their spot,
// the counts of what moves — and left as the page's operation, so the commit form commits it.
//
// Test hooks: #map[data-import=loading|ready|refused]; [data-testid=import-result] holds
// [data-count=rows|by_code|by_overlap|new|redrawn|unchanged|retired] and tr[data-row] per row;
// the set's paths carry .ed-imported and data-code, retired grids' .ed-retired; a refused row's
// spot is a marker with a .ed-spot tooltip.
import { esc, fill } from "./editor_panel.js";

const STYLE = {
  imported: { color: "#2e7d32", weight: 2.5, dashArray: "8 4", fillColor: "#81c784", fillOpacity: 0.12, interactive: true },
  retired: { color: "#c62828", weight: 3, dashArray: "2 6", fill: false, interactive: false },
  spot: { color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.6, radius: 10 },
};
const COUNTS = ["rows", "by_code", "by_overlap", "new", "redrawn", "unchanged", "retired"];

/** Wire the import control. `editor`: the page's own steps the import reuses (L, map, T, config,
 * api URLs, grids layer group, and clear/show functions from editor.js). */
export function setupImport(editor) {
  const { L, map, T, config } = editor;
  const el = map.getContainer();
  const box = document.getElementById("ed-import-result");
  const input = document.getElementById("ed-import-file");
  const layer = L.featureGroup().addTo(map);

  function clear() {
    layer.clearLayers();
    box.innerHTML = "";
    delete el.dataset.import;
    editor.grids.getLayers().forEach((l) => l.getElement()?.classList.remove("ed-retired"));
  }

  async function send(file) {
    editor.reset();  // the tools' drawing and any earlier proposal give way to the file's
    el.dataset.import = "loading";
    box.innerHTML = `<p class="gm-note">${esc(T.importing)}</p>`;
    const body = new FormData();
    body.append("file", file);
    body.append("parent", config.parent);
    if (config.layer) body.append("layer", config.layer);
    const res = await fetch(config.api.import, {
      method: "POST", credentials: "same-origin", body, headers: { Accept: "application/json", "X-CSRFToken": editor.csrfToken() },
    });
    const data = await res.json().catch(() => ({ detail: `${res.status} ${res.statusText}` }));
    if (res.status !== 200) {
      refused(data);
      return;
    }
    show(data);
  }

  /** The file refused: its fault, or every bad row with its field, and its spot on the map. */
  function refused(data) {
    const rows = (data.features || []).map((e) => {
      if (e.spot) {
        const marker = L.circleMarker([e.spot[1], e.spot[0]], { ...STYLE.spot, pmIgnore: true, snapIgnore: true });
        layer.addLayer(marker.bindTooltip(fill(T.rowN, { n: e.row }), { permanent: true, direction: "right", className: "ed-spot" }));
      }
      return `<li data-severity="error"${e.row ? ` data-row="${e.row}"` : ""}>${esc(e.message)}</li>`;
    });
    const other = Object.entries(data).filter(([k]) => k !== "features")
      .flatMap(([, v]) => (Array.isArray(v) ? v : [v])).map((m) => `<li data-severity="error">${esc(m)}</li>`);
    box.innerHTML = `<h3 class="ed-error">${esc(T.importRefused)}</h3><ul class="ed-findings">${[...other, ...rows].join("")}</ul>`;
    // the spots into view when they are not, no closer than the map is (one spot's bounds have no size)
    if (layer.getLayers().length && !map.getBounds().contains(layer.getBounds())) {
      map.fitBounds(layer.getBounds(), { padding: [40, 40], maxZoom: map.getZoom() });
    }
    el.dataset.import = "refused";
  }

  function show(data) {
    const byRow = new Map(data.matches.map((m) => [m.row, m]));
    L.geoJSON(data.operation.features, {
      style: STYLE.imported, pmIgnore: true, snapIgnore: true,
      onEachFeature: (f, l) => {
        const m = byRow.get(f.properties.row);
        l.bindTooltip(matchLabel(m), { permanent: true, direction: "center", className: "ed-match" });
        l.on("add", () => {
          const path = l.getElement();
          path.classList.add("ed-imported");
          path.dataset.code = m.code;
        });
      },
    }).eachLayer((l) => layer.addLayer(l));
    const retired = new Set(data.retired);
    editor.grids.getLayers().forEach((l) => {
      if (!retired.has(l.feature.properties.code)) return;
      layer.addLayer(L.geoJSON(l.feature, { style: STYLE.retired, pmIgnore: true, snapIgnore: true }));
      l.getElement()?.classList.add("ed-retired");
    });
    box.innerHTML = summaryHtml(data);
    editor.showProposal(data);  // findings, preview and the commit form, as for a drawn change
    map.fitBounds(layer.getBounds(), { padding: [20, 20] });
    el.dataset.import = "ready";
  }

  function matchLabel(m) {
    const how = T.matchedBy[m.by];
    return m.old ? `${m.old}${m.code !== m.old ? ` → ${m.code}` : ""} (${how})` : `${m.code} (${how})`;
  }

  function summaryHtml(data) {
    const counts = COUNTS.map((k) => `<li>${esc(T.importCounts[k])}: <strong data-count="${k}">${data.counts[k]}</strong></li>`);
    const rows = data.matches.map((m) => `<tr data-row="${m.row}"><td class="ed-num">${m.row}</td><td>${esc(m.old ?? "—")}</td>`
      + `<td>${esc(m.code)}</td><td>${esc(T.matchedBy[m.by])}${m.changed ? "" : ` · ${esc(T.unchanged)}`}</td></tr>`);
    const retired = data.retired.map((c) => `<tr data-retired="${esc(c)}"><td></td><td>${esc(c)}</td><td>—</td><td>${esc(T.retires)}</td></tr>`);
    return `<ul class="ed-counts">${counts.join("")}</ul>`
      + `<table class="ed-table"><caption>${esc(T.matches)}</caption><thead><tr><th class="ed-num">${esc(T.row)}</th>`
      + `<th>${esc(T.oldGrid)}</th><th>${esc(T.newGrid)}</th><th>${esc(T.how)}</th></tr></thead>`
      + `<tbody>${rows.join("")}${retired.join("")}</tbody></table>`
      + `<p class="gm-note">${esc(fill(T.importNext, { n: data.matches.length }))}</p>`;
  }

  input.addEventListener("change", () => {
    const [file] = input.files;
    if (file) send(file).catch((err) => refused({ detail: err.message }));
    input.value = "";  // the same file chosen again is sent again
  });
  return { clear };
}
