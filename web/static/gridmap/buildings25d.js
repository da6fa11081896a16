// Buildings in 2.5D (the look OSM Buildings made familiar), on a canvas of our own: from
// EXTRUDE_MIN_ZOOM each footprint is drawn extruded by its height (height_m, else floors × 3 m)
// in a fixed oblique view — the roof is the footprint moved up the screen by the height — with
// the walls that face the viewer shaded by their orientation, buildings painted far to near and
// each roof on top of its walls. Pure Leaflet 1.9 + canvas 2D; redrawn on moveend/resize only
// (hidden during a zoom animation). The flat footprints (map.js) stay underneath: every building
// covers its own footprint, so they are never seen, but their SVG paths keep the page's test
// hooks (path.gm-building[data-code]). A click goes to the building drawn on top under the
// pointer (caught on the map container before Leaflet, so a roof over a grid polygon opens the
// building's floor table, not the grid's popup); markers, controls and popups keep theirs.
//
// Test hooks: the layer's `drawn` list (far → near: id, code, floors, height_m, dx/dy = roof
// offset in CSS px, x/y = roof centre and fx/fy = footprint centre in container px), `pick(point)`,
// and data-buildings25d (count drawn) / data-buildings-mode (flat|25d) on the map element.
import * as L from "leaflet";

export const EXTRUDE_MIN_ZOOM = 16;
const METRES_PER_FLOOR = 3;
// The direction roofs rise in on screen (unit vector, y down: up and a little to the right) and
// how many screen px one px of height becomes (an oblique view of about 35° from vertical).
const VIEW = normalise(0.25, -1);
const TILT = 0.7;
// Towards the light (screen, y down): the sun low in the south-west, so walls facing the viewer
// and the left are lit, those facing right are in shade.
const LIGHT = normalise(-1, 0.55);
const PAD = 0.25;  // canvas margin around the view, as a fraction of its size (panning before moveend)

function normalise(x, y) {
  const n = Math.hypot(x, y);
  return { x: x / n, y: y / n };
}

function rgb(hex) {
  const h = hex.replace("#", "");
  const v = parseInt(h.length === 3 ? h.replace(/./g, "$&$&") : h, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const mix = (c, f, toward = 0) => `rgb(${c.map((v) => Math.round(toward + (v - toward) * f)).join(",")})`;

/** Whether (x, y) is inside `ring` (even-odd ray casting); the editor uses it too. */
export function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Twice the signed area in screen coordinates (y down): > 0 means clockwise on screen.
function signedArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  return a;
}

export const Buildings25D = L.Layer.extend({
  options: {
    pane: "gm-buildings-25d",
    paneZIndex: 440,            // above the flat footprints (430), below markers (600)
    minZoom: EXTRUDE_MIN_ZOOM,
    source: null,               // the flat footprint layer: this layer is shown and hidden with it
    colour: () => "#bcaaa4",    // feature properties → base colour (hex)
    onClick: null,              // (drawn building, leaflet mouse event) → void
    tooltip: null,              // drawn building → text, shown on hover
  },

  initialize(options) {
    L.setOptions(this, options);
    this.drawn = [];
    this._buildings = [];
    const src = this.options.source;
    if (src) {
      src.on("add", () => src._map && this.addTo(src._map));
      src.on("remove", () => this.remove());
    }
  },

  /** Replace the buildings (GeoJSON features with id, code, name, floors_above, height_m, use). */
  setData(features) {
    this._buildings = [];
    for (const f of features || []) {
      const g = f.geometry;
      if (!g) continue;
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      if (!polys.length) continue;
      const p = f.properties || {};
      const floors = Number(p.floors_above) || 1;
      const height = Number(p.height_m) > 0 ? Number(p.height_m) : floors * METRES_PER_FLOOR;
      const bounds = L.latLngBounds([]);
      const parts = polys.map((rings) => rings.map((ring) => ring.map(([lng, lat]) => {
        const ll = L.latLng(lat, lng);
        bounds.extend(ll);
        return ll;
      })));
      this._buildings.push({ id: p.id ?? f.id, code: p.code, name: p.name, floors, recordedFloors: p.floors_above ?? null, height, parts, bounds,
        colour: rgb(this.options.colour(p) || "#bcaaa4") });
    }
    this.redraw();
  },

  /** Is the extruded view on (on the map, at or above minZoom)? */
  active() {
    return !!this._map && this._map.getZoom() >= this.options.minZoom;
  },

  onAdd(map) {
    if (!map.getPane(this.options.pane)) map.createPane(this.options.pane).style.zIndex = this.options.paneZIndex;
    const canvas = L.DomUtil.create("canvas", "gm-buildings-25d leaflet-zoom-hide", this.getPane());
    canvas.style.pointerEvents = "none";  // the map (and the flat paths below) take the mouse
    this._canvas = canvas;
    this._ctx = canvas.getContext("2d");
    // Native listeners on the container, the click in the capture phase: what is drawn on top
    // takes the click, so a roof over a grid polygon opens the building, not the grid's popup.
    const el = map.getContainer();
    this._domClick = (ev) => this._onDomClick(ev);
    this._domMove = (ev) => this._hover(this._pickEvent(ev), ev);
    this._domOut = () => this._hover(null);
    el.addEventListener("click", this._domClick, true);
    el.addEventListener("mousemove", this._domMove);
    el.addEventListener("mouseleave", this._domOut);
    this.redraw();
  },

  onRemove() {
    const el = this._map.getContainer();
    el.removeEventListener("click", this._domClick, true);
    el.removeEventListener("mousemove", this._domMove);
    el.removeEventListener("mouseleave", this._domOut);
    L.DomUtil.remove(this._canvas);
    this._canvas = this._ctx = null;
    this._hover(null);
    this.drawn = [];
    this._mark("flat");
  },

  getEvents() {
    return { moveend: this.redraw, resize: this.redraw, viewreset: this.redraw, zoomstart: () => this._hover(null) };
  },

  /** The building drawn on top at a container point (L.Point or [x, y]), or null. */
  pick(point) {
    if (!this.active() || !point) return null;
    const p = L.point(point);
    for (let i = this.drawn.length - 1; i >= 0; i--) {  // nearest first
      const b = this.drawn[i];
      const [x0, y0, x1, y1] = b._box;
      if (p.x < x0 || p.x > x1 || p.y < y0 || p.y > y1) continue;
      if (b._shapes.some((rings) => rings.filter((r) => inRing(r, p.x, p.y)).length % 2 === 1)) return b;
    }
    return null;
  },

  redraw() {
    const map = this._map;
    if (!map || !this._canvas) return this;
    const started = performance.now();
    const canvas = this._canvas;
    const ctx = this._ctx;
    const size = map.getSize();
    const pad = size.multiplyBy(PAD).round();
    const topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
    const w = size.x + 2 * pad.x;
    const h = size.y + 2 * pad.y;
    const dpr = window.devicePixelRatio || 1;
    L.DomUtil.setPosition(canvas, topLeft);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    this.drawn = [];
    if (!this.active()) {
      this._mark("flat");
      return this;
    }
    // Screen px per metre of height at the view's latitude (Web Mercator), then the oblique lean.
    const zoom = map.getZoom();
    const lat = map.getCenter().lat;
    const pxPerMetre = (256 * 2 ** zoom) / (40075016.686 * Math.cos((lat * Math.PI) / 180)) * TILT;
    const origin = topLeft;  // canvas (0, 0) in layer px
    const toCanvas = (ll) => {
      const q = map.latLngToLayerPoint(ll);
      return [q.x - origin.x, q.y - origin.y];
    };

    const items = [];
    for (const b of this._buildings) {
      const dx = VIEW.x * b.height * pxPerMetre;
      const dy = VIEW.y * b.height * pxPerMetre;
      // Cull on the footprint's box grown by the roof offset (ne: right/top, sw: left/bottom).
      const ne = toCanvas(b.bounds.getNorthEast());
      const sw = toCanvas(b.bounds.getSouthWest());
      if (ne[0] + Math.max(dx, 0) < 0 || sw[0] + Math.min(dx, 0) > w || sw[1] + Math.max(dy, 0) < 0 || ne[1] + Math.min(dy, 0) > h) continue;
      const parts = b.parts.map((rings) => rings.map((ring) => ring.map(toCanvas)));
      // Footprint centre (vertex mean of the first outer ring) and its depth along the view.
      const outer = parts[0][0];
      let cx = 0;
      let cy = 0;
      const n = outer.length > 1 ? outer.length - 1 : outer.length;  // rings are closed
      for (let i = 0; i < n; i++) { cx += outer[i][0]; cy += outer[i][1]; }
      cx /= n; cy /= n;
      items.push({ b, parts, dx, dy, cx, cy, depth: cx * VIEW.x + cy * VIEW.y });
    }
    items.sort((a, c) => c.depth - a.depth);  // far (up the view) first, near last

    for (const it of items) this._drawBuilding(ctx, it);
    this.drawn = items.map(({ b, parts, dx, dy, cx, cy }) => {
      const xs = [];
      const ys = [];
      parts.forEach((rings) => rings[0].forEach(([x, y]) => { xs.push(x, x + dx); ys.push(y, y + dy); }));
      const shift = (x, y) => [x - pad.x, y - pad.y];
      return {
        id: b.id, code: b.code, name: b.name, floors: b.floors, height_m: b.height,
        dx, dy, x: cx + dx - pad.x, y: cy + dy - pad.y, fx: cx - pad.x, fy: cy - pad.y,
        // hit shapes in container px: each part's footprint swept along the offset (its roof and walls)
        _box: [Math.min(...xs) - pad.x, Math.min(...ys) - pad.y, Math.max(...xs) - pad.x, Math.max(...ys) - pad.y],
        _shapes: parts.flatMap((rings) => [
          rings.map((r) => r.map(([x, y]) => shift(x + dx, y + dy))),
          ...walls(rings, dx, dy).map((wall) => [wall.quad.map(([x, y]) => shift(x, y))]),
        ]),
      };
    });
    this.lastDrawMs = performance.now() - started;  // read by tests/bench/bench_map.py
    this._mark("25d");
    return this;
  },

  _drawBuilding(ctx, { b, parts, dx, dy }) {
    const c = b.colour;
    // Walls facing the viewer, far ones first, each shaded by how much it faces the light.
    const all = parts.flatMap((rings) => walls(rings, dx, dy)).sort((a, z) => z.depth - a.depth);
    ctx.lineWidth = 0.6;
    ctx.lineJoin = "round";
    ctx.strokeStyle = mix(c, 0.45);
    for (const wall of all) {
      const light = 0.62 + 0.3 * (wall.nx * LIGHT.x + wall.ny * LIGHT.y);
      ctx.fillStyle = mix(c, light);
      ctx.beginPath();
      wall.quad.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
    // The roof on top: the footprint (with its courtyards) moved by the offset, a little lighter.
    ctx.beginPath();
    for (const rings of parts) {
      for (const ring of rings) ring.forEach(([x, y], i) => (i ? ctx.lineTo(x + dx, y + dy) : ctx.moveTo(x + dx, y + dy)));
      ctx.closePath();
    }
    ctx.fillStyle = mix(c, 0.82, 255);
    ctx.fill("evenodd");
    ctx.strokeStyle = mix(c, 0.4);
    ctx.lineWidth = 0.8;
    ctx.stroke();
  },

  _mark(mode) {
    const el = this._map?.getContainer();
    if (!el) return;
    el.dataset.buildingsMode = mode;
    el.dataset.buildings25d = String(this.drawn.length);
    if (this._canvas) this._canvas.dataset.count = String(this.drawn.length);
  },

  // The building under a mouse event, unless something drawn above this layer (a marker, a
  // control, a popup) is under it.
  _pickEvent(ev) {
    if (!this.active()) return null;
    const t = ev.target;
    if (!(t instanceof Element) || t.closest(".leaflet-control, .leaflet-popup, .leaflet-tooltip, .leaflet-marker-icon")) return null;
    const pane = t.closest(".leaflet-pane:not(.leaflet-map-pane)");
    if (pane && Number(getComputedStyle(pane).zIndex) > this.options.paneZIndex) return null;
    return this.pick(this._map.mouseEventToContainerPoint(ev));
  },

  _onDomClick(ev) {
    if (ev.button !== 0 || this._map.dragging?.moved()) return;
    const hit = this._pickEvent(ev);
    if (!hit || !this.options.onClick) return;
    L.DomEvent.stop(ev);
    this.options.onClick(hit, ev);
  },

  _hover(hit, ev) {
    const map = this._map;
    if (!map) return;
    map.getContainer().style.cursor = hit ? "pointer" : "";
    if (!hit || !this.options.tooltip) {
      if (this._tip) { this._tip.remove(); this._tip = null; }
      return;
    }
    if (!this._tip) this._tip = L.tooltip({ className: "gm-building-tip", direction: "top", offset: [0, -8] });
    this._tip.setLatLng(map.mouseEventToLatLng(ev)).setContent(this.options.tooltip(hit));
    if (!map.hasLayer(this._tip)) this._tip.addTo(map);
  },
});

// The walls of one polygon (outer ring, then courtyards) that face the viewer, i.e. whose
// outward normal points against the view direction; each with its quad, normal and depth.
function walls(rings, dx, dy) {
  const out = [];
  rings.forEach((ring, k) => {
    if (ring.length < 3) return;
    // Outward (away from the solid): for the outer ring away from its inside, for a courtyard into it.
    const sign = (signedArea(ring) > 0 ? 1 : -1) * (k === 0 ? 1 : -1);
    for (let i = 0; i + 1 < ring.length; i++) {
      const [ax, ay] = ring[i];
      const [bx, by] = ring[i + 1];
      const len = Math.hypot(bx - ax, by - ay);
      if (len === 0) continue;
      // For a clockwise ring on screen (y down) the outward normal of a→b is (dy, -dx)/len.
      const nx = (sign * (by - ay)) / len;
      const ny = (sign * -(bx - ax)) / len;
      if (nx * VIEW.x + ny * VIEW.y >= 0) continue;  // faces away: hidden behind the building
      out.push({
        quad: [[ax, ay], [bx, by], [bx + dx, by + dy], [ax + dx, ay + dy]],
        nx, ny, depth: ((ax + bx) / 2) * VIEW.x + ((ay + by) / 2) * VIEW.y,
      });
    }
  });
  return out;
}
