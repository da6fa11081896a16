// Leaflet-Geoman (drawing, vertex editing, snapping) is a classic script that extends a global,
// mutable `L` (L.PM, L.Control.PMButton …), while this site's Leaflet is an ES module whose
// namespace object is frozen. This module puts a plain copy of that namespace on window before
// the editor imports Geoman: the same classes, so layers made by the page and by Geoman belong
// to one Leaflet.
import * as Leaflet from "leaflet";

window.L = { ...Leaflet };
export const L = window.L;
