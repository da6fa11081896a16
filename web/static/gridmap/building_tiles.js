// Building footprints as vector tiles (Mapbox Vector Tile, written by PostGIS's ST_AsMVT):
// the page asks for the web-mercator tiles covering the view, 512 screen pixels each (one zoom
// below the map's) up to the deepest tile zoom (then drawn larger), decodes them here and hands every
// building once — footprints come unclipped, so a building on a tile edge is in both tiles —
// to the flat layer and the 2.5D layer as GeoJSON features.
import { VectorTile } from "@mapbox/vector-tile";
import Pbf from "pbf";

const CACHE_BUILDINGS = 100_000;  // decoded buildings kept for panning back (the oldest tiles go first)
const FRESH_MS = 60_000;  // as long as the server lets a browser keep a tile (Cache-Control max-age)

export class BuildingTiles {
  /** url: "/api/map/buildings/{z}/{x}/{y}.mvt"; zooms: [lowest, deepest] tile zoom served. */
  constructor({ url, zooms }) {
    this.url = url;
    [this.minZoom, this.maxZoom] = zooms;
    this.tiles = new Map();  // "z/x/y" → { promise of { features, bytes }, at, size }
    this.kept = 0;  // buildings in the loaded tiles of the cache
  }

  /** The tile zoom for a map zoom: one below it, so that a tile covers 512 screen pixels as in
   * MapLibre (a view needs a quarter of the requests, each with four times the buildings), and
   * no deeper than the deepest served (overzoomed from there; fractional zooms round down). */
  tileZoom(mapZoom) {
    return Math.max(this.minZoom, Math.min(Math.floor(mapZoom) - 1, this.maxZoom));
  }

  /** The tiles [z, x, y] covering a Leaflet LatLngBounds at tile zoom z. */
  cover(bounds, z) {
    const n = 2 ** z;
    const col = (lng) => Math.min(n - 1, Math.max(0, Math.floor(((lng + 180) / 360) * n)));
    const row = (lat) => {
      const r = (lat * Math.PI) / 180;
      return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.asinh(Math.tan(r)) / Math.PI) / 2) * n)));
    };
    const tiles = [];
    for (let x = col(bounds.getWest()); x <= col(bounds.getEast()); x++) {
      for (let y = row(bounds.getNorth()); y <= row(bounds.getSouth()); y++) tiles.push([z, x, y]);
    }
    return tiles;
  }

  /** Every building of the tiles covering `bounds`, once each: { features, tiles, bytes, failed }.
   * A tile that failed is left out (and asked again next time); the others are still drawn. */
  async features(bounds, mapZoom) {
    const keys = this.cover(bounds, this.tileZoom(mapZoom));
    const loaded = await Promise.allSettled(keys.map((k) => this.tile(k)));
    const byId = new Map();
    let bytes = 0;
    let failed = 0;
    for (const t of loaded) {
      if (t.status === "rejected") { failed += 1; continue; }
      bytes += t.value.bytes;
      for (const f of t.value.features) if (!byId.has(f.id)) byId.set(f.id, f);
    }
    return { features: [...byId.values()], tiles: keys.length, bytes, failed };
  }

  tile([z, x, y]) {
    const key = `${z}/${x}/${y}`;
    let entry = this.tiles.get(key);
    if (entry && Date.now() - entry.at > FRESH_MS) {  // older than the browser may keep it: ask again
      this.drop(key);
      entry = undefined;
    }
    if (entry) {
      this.tiles.delete(key);  // re-inserted below as the most recently used
    } else {
      entry = { promise: this.fetchTile(z, x, y), at: Date.now(), size: 0 };
      entry.promise.then((t) => {
        if (this.tiles.get(key) !== entry) return;  // dropped meanwhile
        entry.size = t.features.length;
        this.kept += entry.size;
        this.evict();
      }, () => { if (this.tiles.get(key) === entry) this.tiles.delete(key); });  // asked again next time
    }
    this.tiles.set(key, entry);
    return entry.promise;
  }

  drop(key) {
    this.kept -= this.tiles.get(key)?.size || 0;
    this.tiles.delete(key);
  }

  evict() {
    for (const key of this.tiles.keys()) {
      if (this.kept <= CACHE_BUILDINGS) break;
      this.drop(key);
    }
  }

  async fetchTile(z, x, y) {
    const url = this.url.replace("{z}", z).replace("{x}", x).replace("{y}", y);
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    const buf = await res.arrayBuffer();
    const layer = new VectorTile(new Pbf(buf)).layers.buildings;
    const features = [];
    for (let i = 0; layer && i < layer.length; i++) {
      const f = layer.feature(i).toGeoJSON(x, y, z);
      f.properties.id = f.id;  // the layers read the id from the properties, as in the GeoJSON API
      features.push(f);
    }
    return { features, bytes: buf.byteLength };
  }
}
