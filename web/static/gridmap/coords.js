// The coordinate readout (bottom right, above the attribution): WGS84 longitude, latitude to 6
// decimals — under the pointer where there is one (mouse), else the map centre, following every
// move (a phone; a mouse that left the map). The readout is a button: a click or Enter copies
// "lon, lat" to the clipboard where the browser offers it (secure contexts) and says so briefly.
//
// Always WGS84, whatever the tiles: the data are WGS84 and the map's coordinates are the data's.
// A GCJ-02 tile source (config.tileCrs === "gcj02") is shifted under the data (gcj02.js), not the
// data over the tiles, so the pointer's latlng is already WGS84 and is never converted here.
//
// Test hooks: .gm-coords[data-mode=pointer|centre][data-lng][data-lat][data-copied], .gm-coords-value.
import * as L from "leaflet";

const DIGITS = 6;
const COPIED_MS = 1500;

export const formatLatLng = (ll) => `${ll.lng.toFixed(DIGITS)}, ${ll.lat.toFixed(DIGITS)}`;

export function createCoordsReadout(map, config) {
  const T = config.text;
  const hasPointer = window.matchMedia("(hover: hover) and (pointer: fine)").matches;
  let overMap = false;  // the pointer is over the map (not over a control)
  let copiedTimer = null;

  const Readout = L.Control.extend({
    options: { position: "bottomright" },
    onAdd() {
      const button = L.DomUtil.create("button", "gm-coords");
      button.type = "button";
      button.title = T.coordsCopy;
      button.innerHTML = `<span class="gm-coords-label"></span> <span class="gm-coords-value"></span>`;
      L.DomEvent.disableClickPropagation(button);
      // Over the readout the pointer is not on the map: keep the last place shown, to copy it.
      L.DomEvent.on(button, "mousemove", L.DomEvent.stopPropagation);
      L.DomEvent.on(button, "click", copy);
      return button;
    },
  });
  const control = new Readout().addTo(map);
  const button = control.getContainer();
  const label = button.querySelector(".gm-coords-label");
  const value = button.querySelector(".gm-coords-value");

  function show(latlng, mode) {
    const text = formatLatLng(latlng);
    if (value.textContent === text && button.dataset.mode === mode) return;
    value.textContent = text;
    label.textContent = mode === "pointer" ? T.coordsPointer : T.coordsCentre;
    button.setAttribute("aria-label", `${label.textContent} ${text} · ${T.coordsCopy}`);
    Object.assign(button.dataset, { mode, lng: latlng.lng.toFixed(DIGITS), lat: latlng.lat.toFixed(DIGITS) });
  }

  const showCentre = () => show(map.getCenter(), "centre");

  async function copy() {
    const text = value.textContent;
    if (!text || !navigator.clipboard?.writeText) {
      window.getSelection()?.selectAllChildren(value);  // no clipboard API (plain http): select it instead
      return;
    }
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      window.getSelection()?.selectAllChildren(value);
      return;
    }
    label.textContent = T.coordsCopied;
    button.dataset.copied = text;
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => {
      delete button.dataset.copied;
      label.textContent = button.dataset.mode === "pointer" ? T.coordsPointer : T.coordsCentre;
    }, COPIED_MS);
  }

  // The spot under the pointer. Not e.latlng: Leaflet rescales the event's offset by the
  // container's rect / offset size, which is off by a fraction of a pixel (~2 m at zoom 12) when
  // the container's height is fractional (below the header); the plain offset is exact.
  function pointerLatLng(e) {
    const rect = map.getContainer().getBoundingClientRect();
    const ev = e.originalEvent;
    return map.containerPointToLatLng([ev.clientX - rect.left, ev.clientY - rect.top]);
  }

  if (hasPointer) {
    map.on("mousemove", (e) => { overMap = true; show(pointerLatLng(e), "pointer"); });
    map.on("mouseout", () => { overMap = false; showCentre(); });
  }
  map.on("move", () => { if (!overMap) showCentre(); });
  showCentre();
  return { control, show, showCentre };
}
