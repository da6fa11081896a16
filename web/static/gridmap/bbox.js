// The box a bbox layer asks for: the padded view, cut around its centre to what the endpoint
// accepts (its max_degrees each way, less a margin for rounding).
import * as L from "leaflet";

export function clampBox(box, maxDegrees) {
  const max = maxDegrees * 0.98;
  const c = box.getCenter();
  const halfW = Math.min(box.getEast() - box.getWest(), max) / 2;
  const halfH = Math.min(box.getNorth() - box.getSouth(), max) / 2;
  return L.latLngBounds([c.lat - halfH, c.lng - halfW], [c.lat + halfH, c.lng + halfW]);
}

/** "west,south,east,north" with six decimals, as the endpoints take it. */
export function bboxParam(box) {
  return [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map((v) => v.toFixed(6)).join(",");
}
