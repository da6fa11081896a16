// The map as of a date (历史边界): a date field at the top left of the map. A past date redraws
// the area layers with the boundary versions in force at the end of that day
// (/api/map/areas/?as_of=YYYY-MM-DD) and says so in a banner over the map; "Today" returns to
// the live boundaries. Buildings, events and the low-zoom overview stay live.
// Test hooks: #map[data-as-of] (the date shown, "" for live), .gm-as-of input, .gm-as-of-today,
// .gm-as-of-note.
import * as L from "leaflet";

/** onData(level, featureCollection) is called for each of config.levels once loaded. */
export function createAsOf(map, config, { getJSON, status, esc, onData }) {
  const T = config.text;
  const el = map.getContainer();
  let asked = 0;  // a newer choice makes an older answer stale

  const Picker = L.Control.extend({
    options: { position: "topleft" },
    onAdd() {
      const div = L.DomUtil.create("div", "gm-as-of leaflet-bar");
      div.innerHTML = `<label>${esc(T.asOf)} <input type="date" max="${esc(config.today)}"></label>`
        + `<button type="button" class="gm-as-of-today">${esc(T.asOfToday)}</button>`;
      L.DomEvent.disableClickPropagation(div);
      return div;
    },
  });
  const picker = new Picker().addTo(map);
  const input = picker.getContainer().querySelector("input");
  const note = L.DomUtil.create("div", "gm-as-of-note", el);
  note.hidden = true;
  el.dataset.asOf = "";

  async function show(day) {
    const ticket = ++asked;
    const live = !day || day >= config.today;
    const query = live ? "" : `&as_of=${encodeURIComponent(day)}`;
    const results = await Promise.allSettled(config.levels.map((level) => getJSON(`${config.api.areas}?level=${level}${query}`)));
    if (ticket !== asked) return;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") onData(config.levels[i], r.value);
      else status.set(`${T.loadFailed}: ${T[config.levels[i]]}`, true);
    });
    input.value = live ? "" : day;
    // before the first boundary version the layers are empty: say so, not a blank map
    const none = results.every((r) => r.status === "fulfilled" && !r.value.features.length);
    note.textContent = live ? "" : (none ? T.asOfNone : T.asOfShowing).replace("{date}", day);
    note.hidden = live;
    el.dataset.asOf = live ? "" : day;
  }

  input.addEventListener("change", () => show(input.value));
  picker.getContainer().querySelector(".gm-as-of-today").addEventListener("click", () => show(""));
  return { show };
}
