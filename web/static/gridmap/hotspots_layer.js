// The hotspot layer of the analytics map (Getis-Ord Gi*): filled in by gridmap/analytics/hotspots.
export function hotspotLayer(map, options) {
  return { update(params) {}, remove() {} };
}
