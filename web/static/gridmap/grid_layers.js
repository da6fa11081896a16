// Grid layers other than the primary one (城管网格 city-management grids and the like), from
// config.gridLayers: each is an overlay in the layer switcher, named by the layer's name with a
// swatch of its colour, off by default (on at load only for a user whose own area is a grid of
// that layer), loaded from /api/map/areas/?level=grid&layer=<code> the first time it is switched
// on — never at page load — and drawn as dashed outlines without fill in the layer's colour, so
// the primary grids' fill stays readable. Labels follow map.js's updateLabels (grid zooms, only
// where they fit) while the overlay is on.
// Test hooks: each grid is a path.gm-grid-layer with data-layer (layer code), data-code and
// data-id; #map[data-grid-layer-<code>] holds the number drawn once loaded.
import * as L from "leaflet";
import { setLabel } from "./area_labels.js";

const HEX = /^#[0-9a-fA-F]{6}$/;

export function createGridLayers(map, config, { switcher, status, getJSON, esc, row, tag, onLoaded }) {
  const T = config.text;
  const el = map.getContainer();
  // over the primary grids (410), under the district, street and community outlines (420): a
  // community's edge stays drawn as one where the layer's grids follow it
  map.createPane("gm-grid-layers").style.zIndex = 415;

  const entries = (config.gridLayers || []).map((info) => {
    const colour = HEX.test(info.colour) ? info.colour : "#000000";
    const group = L.geoJSON(null, {
      pane: "gm-grid-layers",
      style: () => ({ color: colour, weight: 2.5, opacity: 0.95, dashArray: "8 5", fill: false }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        setLabel(layer, { level: "grid", name: p.name, code: p.code, leader: p.leader, className: "gm-label-layer", colour, esc });
        layer.bindPopup(`<table class="gm-popup"><caption>${esc(p.name)}</caption>${row(T.gridLayer, info.name)}`
          + `${row(T.gridCode, p.code)}${row(T.leader, p.leader || T.noLeader)}</table>`);
        layer.on("add", () => {
          tag(layer, "grid-layer", p);
          const path = layer.getElement();
          if (path) path.dataset.layer = info.code;
        });
      },
    });
    return { info, colour, group, loaded: false, loading: null };
  });

  async function load(entry) {
    if (entry.loaded || entry.loading) return;
    const { code, name } = entry.info;
    entry.loading = getJSON(`${config.api.areas}?level=grid&layer=${encodeURIComponent(code)}`);
    try {
      const data = await entry.loading;
      entry.group.addData(data);
      entry.loaded = true;
      el.setAttribute(`data-grid-layer-${code}`, String(data.features.length));
      onLoaded();
    } catch (err) {
      status.set(`${T.loadFailed}: ${name}`, true);  // switching it on again retries
    } finally {
      entry.loading = null;
    }
  }

  map.on("overlayadd", (e) => {
    const entry = entries.find((x) => x.group === e.layer);
    if (entry) load(entry);
  });

  return {
    // the groups that may carry labels (map.js labels those on the map)
    groups: () => entries.map((x) => x.group),
    addToSwitcher() {
      for (const entry of entries) {
        const swatch = `<span class="gm-layer-swatch" style="border-color:${entry.colour}" aria-hidden="true"></span>`;
        switcher.addOverlay(entry.group, `${swatch}<span class="gm-layer-name" data-layer="${esc(entry.info.code)}">${esc(entry.info.name)}</span>`);
        if (entry.info.own) entry.group.addTo(map);  // the user's own layer: their patch is in it
      }
    },
  };
}
