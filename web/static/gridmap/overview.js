// The low-zoom overview (概览): below the zooms where grids and buildings can be read — a centre
// whose districts lie far apart lands at country scale — each visible district, and at medium
// zoom each street, is drawn as a simplified outline labelled with its name and counts (grids,
// households, residents, open events and the overdue among them), from
// /api/map/areas/?level=<level>&overview=1 (scoped on the server, see map.patch.area_overview).
// map.js decides per zoom which level is shown (OVERVIEW_ZOOM, next to the labels' LABEL_ZOOM) and
// hides that level's own labels meanwhile. A click on an outline or its label flies there; the
// district picker (选择区县), shown when more than one district is visible, lists them with their
// counts and flies to the one chosen. Labels that would cover one another are hidden, the
// more populous kept; hovering an outline shows its counts all the same.
// Test hooks: path.gm-overview.gm-overview-<level>[data-code][data-id]; .gm-overview-label
// [data-level][data-code] with [data-count=grids|households|people|events|overdue];
// .gm-district-picker button.gm-picker-item[data-code]; #map[data-overview=<level shown>|""]
// and #map[data-overview-<level>=<areas loaded>].
import * as L from "leaflet";

const STYLE = {
  district: { color: "#263238", weight: 2.5, opacity: 0.9, fillColor: "#263238", fillOpacity: 0.08 },
  street: { color: "#6d4c41", weight: 2, opacity: 0.9, fillColor: "#6d4c41", fillOpacity: 0.06 },
};
const STORE = "gridmap.picker.open";

export function createOverview(map, config, { zooms, getJSON, status, esc, onLoaded }) {
  const T = config.text;
  const el = map.getContainer();
  const levels = Object.keys(zooms).filter((level) => config.levels.includes(level));
  map.createPane("gm-overview").style.zIndex = 425;  // over the outlines (420), under buildings (430)
  // the labels over the events' markers and cells (660: the label counts them), under popups (700)
  map.createPane("gm-overview-labels").style.zIndex = 670;
  const entries = Object.fromEntries(levels.map((level) => [level, { group: L.featureGroup(), data: null, loading: null }]));
  let shown = null;  // the level on the map, or null

  const counts = (c) => {
    const n = (key, label) => `<span data-count="${key}">${esc(label)} <b>${esc(c?.[key] ?? 0)}</b></span>`;
    const overdue = c?.overdue ? ` · <span class="gm-overview-overdue" data-count="overdue">${esc(T.clock_red)} <b>${esc(c.overdue)}</b></span>` : "";
    return `${n("grids", T.grid)} · ${n("households", T.households)} · ${n("people", T.residents)}<br>${n("events", T.openEvents)}${overdue}`;
  };

  function fly(p) {
    const [w, s, e, n] = p.bbox;
    map.flyToBounds([[s, w], [n, e]], { padding: [16, 16], duration: 0.8 });
  }

  function draw(level, data) {
    const { group } = entries[level];
    L.geoJSON(data, {
      pane: "gm-overview",
      style: () => STYLE[level],
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.on("click", () => fly(p));
        // the same on hover, for an area whose label gave way to a neighbour's
        layer.bindTooltip(`<b>${esc(p.name)}</b><br><small>${counts(p.counts)}</small>`, { sticky: true, className: "gm-overview-tip" });
        layer.on("add", () => {
          const path = layer.getElement();
          if (!path) return;
          path.classList.add("gm-overview", `gm-overview-${level}`);
          Object.assign(path.dataset, { code: p.code, id: p.id });
        });
      },
    }).addTo(group);
    for (const f of data.features) {
      const p = f.properties;
      const html = `<button type="button" class="gm-overview-box" title="${esc(T.zoomToArea)}">`
        + `<b class="gm-overview-name">${esc(p.name)}</b><small>${counts(p.counts)}</small></button>`;
      const icon = L.divIcon({ className: `gm-overview-label gm-overview-label-${level}`, html, iconSize: [0, 0] });
      const marker = L.marker([p.label[1], p.label[0]], { icon, pane: "gm-overview-labels", keyboard: false, people: p.counts?.people ?? 0 });
      marker.on("click", () => fly(p));
      marker.on("add", () => Object.assign(marker.getElement().dataset, { level, code: p.code, id: p.id }));
      marker.addTo(group);
    }
    el.dataset[`overview${level[0].toUpperCase()}${level.slice(1)}`] = String(data.features.length);
  }

  async function load(level) {
    const entry = entries[level];
    if (entry.data || entry.loading) return entry.loading;
    entry.loading = getJSON(`${config.api.areas}?level=${level}&overview=1`).then((data) => {
      entry.data = data;
      draw(level, data);
      if (level === "district") picker.fill(data);
      onLoaded();  // map.js: update() and the labels it hides
    }).catch(() => status.set(`${T.loadFailed}: ${T[level]}`, true))  // the next move retries
      .finally(() => { entry.loading = null; });
    return entry.loading;
  }

  /** Hides the labels that would cover a more populous one's (pixel boxes of the label buttons). */
  function declutter(group) {
    const placed = [];
    const markers = [];
    group.eachLayer((layer) => { if (layer instanceof L.Marker && layer.getElement()) markers.push(layer); });
    markers.sort((a, b) => b.options.people - a.options.people);
    for (const m of markers) {
      const element = m.getElement();
      element.classList.remove("gm-overview-hidden");
      const box = element.firstElementChild.getBoundingClientRect();
      const hit = placed.some((o) => box.left < o.right && o.left < box.right && box.top < o.bottom && o.top < box.bottom);
      if (hit) element.classList.add("gm-overview-hidden");
      else placed.push(box);
    }
  }

  /** Shows the level whose range holds the zoom (loading it the first time), hides the others. */
  function update() {
    const z = map.getZoom();
    const want = levels.find((level) => z >= zooms[level][0] && z < zooms[level][1]) ?? null;
    for (const level of levels) {
      const { group } = entries[level];
      if (level === want && entries[level].data) group.addTo(map);
      else group.remove();
    }
    if (want && !entries[want].data) load(want);
    shown = want && entries[want].data ? want : null;
    if (shown) declutter(entries[shown].group);
    el.dataset.overview = shown ?? "";
  }

  // --- the district picker: a list of the districts with their counts ----------------------------
  const Picker = L.Control.extend({
    options: { position: "topright" },
    onAdd() {
      const root = L.DomUtil.create("details", "gm-district-picker");
      root.hidden = true;
      root.setAttribute("data-testid", "district-picker");
      const stored = window.localStorage?.getItem(STORE);
      root.open = stored === null ? !window.matchMedia("(max-width: 600px)").matches : stored === "1";
      root.innerHTML = `<summary>${esc(T.chooseDistrict)}</summary><ul class="gm-picker-list"></ul>`;
      root.addEventListener("toggle", () => window.localStorage?.setItem(STORE, root.open ? "1" : "0"));
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    },
  });
  const pickerControl = new Picker().addTo(map);
  const picker = {
    fill(data) {
      const root = pickerControl.getContainer();
      const list = root.querySelector(".gm-picker-list");
      list.innerHTML = data.features.map((f) => {
        const p = f.properties;
        return `<li><button type="button" class="gm-picker-item" data-code="${esc(p.code)}" data-id="${esc(p.id)}" title="${esc(T.zoomToArea)}">`
          + `<b>${esc(p.name)}</b> <span class="gm-picker-code">${esc(p.code)}</span><br><small>${counts(p.counts)}</small></button></li>`;
      }).join("");
      list.querySelectorAll("button.gm-picker-item").forEach((button) => button.addEventListener("click", () => {
        fly(data.features.find((f) => String(f.properties.code) === button.dataset.code).properties);
      }));
      root.hidden = data.features.length < 2;  // one district: the map is already there
    },
  };

  if (levels.includes("district")) load("district");  // the picker lists them whatever the zoom
  return {
    update,
    /** Whether `level` is drawn as the overview now (map.js then hides its own labels). */
    showing: (level) => shown === level,
    groups: entries,
  };
}
