// Facilities (部件) and organisations (单位) on the map: small symbols coloured by kind, drawn from
// config.places.minZoom (16), loaded by bounding box from /api/map/facilities|organisations/,
// listed in the layer switcher (off by default) with one legend shown while either is on.
// Damaged/missing facilities and high-risk organisations get a thick red ring.
// Test hooks: #map[data-facilities] / [data-organisations] hold the number drawn; each symbol is
// a path.gm-facility / path.gm-organisation with data-id, data-kind and data-alert.
import * as L from "leaflet";
import { bboxParam, clampBox } from "./bbox.js";

const FACILITY_COLOUR = {
  hydrant: "#d32f2f", manhole: "#6d4c41", street_light: "#fbc02d", camera: "#1976d2",
  rubbish_bin: "#388e3c", sign: "#7b1fa2", other: "#757575",
};
const ORGANISATION_COLOUR = {
  enterprise: "#1565c0", shop: "#ef6c00", school: "#2e7d32", hospital: "#c62828",
  social: "#6a1b9a", party: "#b71c1c", government: "#37474f",
};
const ALERT = "#ff1744";

export function createPlacesLayers(map, config, { switcher, status, getJSON, esc, row }) {
  const T = config.text;
  const C = config.places;
  const el = map.getContainer();
  map.createPane("gm-places").style.zIndex = 640; // above the buildings and their 2.5D drawing

  const KINDS = {
    facilities: {
      cls: "gm-facility",
      url: config.api.facilities, colours: FACILITY_COLOUR, labels: C.facilityKinds,
      alert: (p) => p.status === "damaged" || p.status === "missing",
      radius: 4,
      popup: (p) => `<table class="gm-popup"><caption>${esc(C.facilityKinds[p.kind] || p.kind)}</caption>`
        + `${row(T.code, p.code)}${row(T.kind, C.facilityKinds[p.kind] || p.kind)}`
        + `${row(T.status, C.facilityStatuses[p.status] || p.status)}</table>`,
      title: (p) => p.code,
    },
    organisations: {
      cls: "gm-organisation",
      url: config.api.organisations, colours: ORGANISATION_COLOUR, labels: C.organisationKinds,
      alert: (p) => p.risk_level === "high",
      radius: 6,
      popup: (p) => `<table class="gm-popup"><caption>${esc(p.name)}</caption>`
        + `${row(T.kind, C.organisationKinds[p.kind] || p.kind)}`
        + `${row(T.riskLevel, C.riskLevels[p.risk_level] || p.risk_level)}</table>`,
      title: (p) => p.name,
    },
  };

  const state = {};
  const layers = {};
  for (const [name, k] of Object.entries(KINDS)) {
    const layer = L.geoJSON(null, {
      pointToLayer: (f, latlng) => {
        const alert = k.alert(f.properties);
        return L.circleMarker(latlng, {
          pane: "gm-places", radius: k.radius, fillColor: k.colours[f.properties.kind] || "#757575", fillOpacity: 0.95,
          color: alert ? ALERT : "#ffffff", weight: alert ? 3 : 1.2,
        });
      },
      onEachFeature: (f, m) => {
        const p = f.properties;
        m.bindTooltip(esc(k.title(p)), { className: "gm-place-tip" });
        m.bindPopup(k.popup(p));
        m.on("add", () => {
          const path = m.getElement();
          if (!path) return;
          path.classList.add("gm-feature", k.cls);
          Object.assign(path.dataset, { id: p.id, kind: p.kind, alert: String(k.alert(p)), code: p.code ?? p.name });
        });
      },
    });
    layers[name] = layer;
    state[name] = { loadedBox: null, inFlight: null };
  }

  // --- legend: kinds by colour, and the highlight rule, for the layers that are on ----------------
  const Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd() {
      const div = L.DomUtil.create("div", "gm-places-legend leaflet-bar");
      div.setAttribute("role", "group");
      div.setAttribute("aria-label", T.legend);
      L.DomEvent.disableClickPropagation(div);
      this._div = div;
      return div;
    },
    render() {
      const parts = Object.entries(KINDS).filter(([name]) => map.hasLayer(layers[name])).map(([name, k]) => {
        const items = Object.entries(k.labels).map(([v, label]) =>
          `<li><span class="gm-place-dot" style="background:${k.colours[v] || "#757575"}"></span>${esc(label)}</li>`).join("");
        const alert = `<li><span class="gm-place-dot gm-place-alert"></span>${esc(name === "facilities" ? T.facilityAlert : T.organisationAlert)}</li>`;
        return `<h3>${esc(T[name])}</h3><ul>${items}${alert}</ul>`;
      });
      const below = map.getZoom() < C.minZoom ? `<p class="gm-places-note">${esc(T.zoomInPlaces)}</p>` : "";
      this._div.innerHTML = parts.join("") + (parts.length ? below : "");
      this._div.hidden = parts.length === 0;
    },
  });
  const legend = new Legend().addTo(map);
  legend.render();

  async function refresh(name) {
    const layer = layers[name];
    const st = state[name];
    if (!map.hasLayer(layer) || map.getZoom() < C.minZoom) {
      st.inFlight?.abort();
      layer.clearLayers();
      st.loadedBox = null;
      el.dataset[name] = "0";
      return;
    }
    const view = map.getBounds();
    if (st.loadedBox && st.loadedBox.contains(view)) return;
    const box = clampBox(view.pad(0.3), config.maxBboxDegrees);
    const q = bboxParam(box);
    st.inFlight?.abort();
    st.inFlight = new AbortController();
    try {
      const data = await getJSON(`${KINDS[name].url}?bbox=${q}`, st.inFlight.signal);
      layer.clearLayers();
      layer.addData(data);
      st.loadedBox = box;
      el.dataset[name] = String(data.features.length);
    } catch (err) {
      if (err.name !== "AbortError") status.set(`${T.loadFailed}: ${err.message}`, true);
    }
  }
  const refreshAll = () => { legend.render(); Object.keys(layers).forEach(refresh); };

  map.on("moveend", refreshAll);
  map.on("overlayadd overlayremove", (e) => {
    const name = Object.keys(layers).find((n) => layers[n] === e.layer);
    if (!name) return;
    state[name].loadedBox = null;
    legend.render();
    refresh(name);
  });
  Object.keys(layers).forEach((name) => { el.dataset[name] = "0"; });

  return {
    layers,
    refresh: refreshAll,
    addToSwitcher() {
      switcher.addOverlay(layers.facilities, T.facilities);
      switcher.addOverlay(layers.organisations, T.organisations);
    },
  };
}
