// A map page's Leaflet map on its base: the configured base tiles (shifted under the WGS84 data
// when they are GCJ-02, gcj02.js) and the first view — the user's extent, else the configured
// centre (config from gridmap.core.basemap.base_map). The analytics map and the boundary editor
// take it; map.js and patrol.js still build theirs inline.
import * as L from "leaflet";
import { gcj02TileLayer } from "./gcj02.js";

export function baseMap(el, config, options = {}) {
  const map = L.map(el, { minZoom: config.minZoom, maxZoom: config.maxZoom, attributionControl: config.tiles.length > 0, ...options });
  config.tiles.forEach((t) => {
    (config.tileCrs === "gcj02" ? gcj02TileLayer(L, t.url, t.options) : L.tileLayer(t.url, t.options)).addTo(map);
  });
  if (config.extent) {
    const [w, s, e, n] = config.extent;
    map.fitBounds([[s, w], [n, e]]);
  } else {
    map.setView(config.center, config.zoom);
  }
  return map;
}
