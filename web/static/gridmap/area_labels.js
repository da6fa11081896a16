// Area labels — "name (code)" and, for grids, the leader on a second line — as permanent Leaflet
// tooltips created only where they are read: in their level's zoom range, near the view, and
// where the label fits inside its polygon; the others are unbound. A Leaflet tooltip measures
// itself when it is placed, so labels made up front for a city (2,700 areas in the ×100 demo)
// cost seconds of layout before the first render; made on demand, a view places a few dozen.
// Widths are measured on a canvas (no layout), once per label.

const FONTS = {  // as map.css draws .gm-label-<level> and .gm-label-leader
  district: "700 16px", street: "600 14px", community: "400 13px", grid: "400 12px", leader: "400 11px",
};
const PAD_X = 6 + 8;  // the label's padding, and a margin to the polygon's edge
const MIN_HEIGHT = 24;

let ctx = null;
function textWidth(text, font, family) {
  ctx ??= document.createElement("canvas").getContext("2d");
  ctx.font = `${font} ${family}`;
  return ctx.measureText(text).width;
}

/** Gives `layer` a label: shown by showLabels when it fits. `colour` sets the label's border. */
export function setLabel(layer, { level, name, code, leader, className, colour, esc }) {
  const second = leader ? `<span class="gm-label-leader">${esc(leader)}</span>` : "";
  layer._gmLabel = {
    level, colour, className: `gm-label gm-label-${level} ${className || ""}`.trim(),
    html: `${esc(name)} (${esc(code)})${second}`, lines: [`${name} (${code})`, leader || ""], width: null,
  };
}

/** entries: [group, inRange] — label each group's layers that are in range, near the view and fit. */
export function showLabels(map, entries) {
  const view = map.getBounds().pad(0.25);
  const family = getComputedStyle(map.getContainer()).fontFamily;
  for (const [group, inRange] of entries) {
    if (!group) continue;
    const on = inRange && map.hasLayer(group);
    group.eachLayer((layer) => {
      const label = layer._gmLabel;
      if (!label) return;
      const want = on && view.intersects(layer.getBounds()) && fits(map, layer, label, family);
      const shown = Boolean(layer.getTooltip());
      if (want && !shown) {
        layer.bindTooltip(label.html, { permanent: true, direction: "center", className: label.className });
        const el = layer.getTooltip().getElement();
        if (el && label.colour) el.style.borderColor = label.colour;
      } else if (!want && shown) {
        layer.unbindTooltip();
      }
    });
  }
}

function fits(map, layer, label, family) {
  label.width ??= Math.max(textWidth(label.lines[0], FONTS[label.level], family),
    label.lines[1] ? textWidth(label.lines[1], FONTS.leader, family) : 0) + PAD_X;
  const b = layer.getBounds();
  const sw = map.latLngToLayerPoint(b.getSouthWest());
  const ne = map.latLngToLayerPoint(b.getNorthEast());
  return ne.x - sw.x >= label.width && sw.y - ne.y >= MIN_HEIGHT;
}
