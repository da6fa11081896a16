// WGS84 → GCJ-02 (the offset of Chinese web maps: Amap/Gaode, Tencent…), the same public formula
// as gridmap/core/geo.py's wgs84_to_gcj02 (tests/grids/test_gcj02_js.py checks they agree).
// No imports: the tile layer takes Leaflet as an argument, so node can run this file alone.

const A = 6378245.0; // Krasovsky ellipsoid
const EE = 0.00669342162296594323;
const CHINA = [72.004, 0.8293, 137.8347, 55.8271]; // west, south, east, north: no offset outside

/** [lon, lat] in WGS84 → [lon, lat] in GCJ-02 (unchanged outside China). */
export function wgs84ToGcj02(lon, lat) {
  const [w, s, e, n] = CHINA;
  if (lon < w || lon > e || lat < s || lat > n) return [lon, lat];
  const x = lon - 105.0;
  const y = lat - 35.0;
  const PI = Math.PI;
  const common = ((20 * Math.sin(6 * PI * x) + 20 * Math.sin(2 * PI * x)) * 2) / 3;
  let dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common
    + ((20 * Math.sin(PI * y) + 40 * Math.sin((PI * y) / 3)) * 2) / 3
    + ((160 * Math.sin((PI * y) / 12) + 320 * Math.sin((PI * y) / 30)) * 2) / 3;
  let dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common
    + ((20 * Math.sin(PI * x) + 40 * Math.sin((PI * x) / 3)) * 2) / 3
    + ((150 * Math.sin((PI * x) / 12) + 300 * Math.sin((PI * x) / 30)) * 2) / 3;
  const rad = (lat * PI) / 180;
  const magic = 1 - EE * Math.sin(rad) ** 2;
  dlat = (dlat * 180) / (((A * (1 - EE)) / (magic * Math.sqrt(magic))) * PI);
  dlon = (dlon * 180) / ((A / Math.sqrt(magic)) * Math.cos(rad) * PI);
  return [lon + dlon, lat + dlat];
}

/** A Leaflet tile layer for a GCJ-02 tile source, drawn under WGS84 data.
 *
 * The tiles are requested for the GCJ-02 position of the view, and the whole tile container is
 * shifted by the GCJ-02 offset at the map centre (in screen pixels at the current zoom), recomputed
 * on every moveend/zoomend. One offset for the whole view is enough: across a district the
 * offset varies by only a few metres (a pixel or two at street zoom), while it is some 300–600 m
 * in absolute terms. */
export function gcj02TileLayer(L, url, options) {
  const GcjTileLayer = L.TileLayer.extend({
    onAdd(map) {
      L.TileLayer.prototype.onAdd.call(this, map);
      this._gmShift();
    },
    getEvents() {
      const events = L.TileLayer.prototype.getEvents.call(this);
      const moveend = events.moveend;
      events.moveend = (e) => { this._gmShift(); if (moveend) moveend.call(this, e); };
      events.zoomend = () => this._gmShift();
      return events;
    },
    _gcj(latlng) {
      const [lng, lat] = wgs84ToGcj02(latlng.lng, latlng.lat);
      return L.latLng(lat, lng);
    },
    // Which tiles to load: those around the GCJ-02 position of the view centre.
    _getTiledPixelBounds(center) {
      return L.TileLayer.prototype._getTiledPixelBounds.call(this, this._gcj(center));
    },
    // Move the tiles so the GCJ-02 position of the centre is drawn where its WGS84 position is.
    _gmShift() {
      if (!this._map || !this._container) return;
      const c = this._map.getCenter();
      const z = this._map.getZoom();
      const shift = this._map.project(c, z).subtract(this._map.project(this._gcj(c), z)).round();
      L.DomUtil.setPosition(this._container, shift);
      this._gmOffset = shift;
    },
  });
  return new GcjTileLayer(url, options);
}
