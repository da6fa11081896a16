// The map's search box (#gm-search in the header): type, move with the arrow keys, Enter (or a
// click) flies to the result and opens it — a building's floor table, a person's record, an
// event, or an area's bounds. Results come from /api/search/?q=… (scoped and masked on the server).
// A coordinate pair ("113.9327, 22.5227", lat first too, "gcj:" for a pair copied from a GCJ-02
// map) gives one "point" result (WGS84): the map flies there and drops a pin naming the grid, which
// goes with the next search or Escape.
// Test hooks: #gm-search[data-state=idle|loading|ready|empty|error], li.gm-search-item[data-kind][data-id],
// .gm-search-pin (the pin's marker) and .gm-search-pin-tip (its label).
import * as L from "leaflet";

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const DEBOUNCE_MS = 200;
const FLY_ZOOM = 18;

export function createSearch(gm) {
  const { map, config, panel } = gm;
  const T = config.text;
  const box = document.getElementById("gm-search");
  if (!box) return null;
  const input = box.querySelector("input");
  const list = box.querySelector("ul");
  let results = [];
  let active = -1;
  let timer = null;
  let inFlight = null;
  let lastQuery = null;
  let pending = Promise.resolve();  // the search in flight (Enter waits for it)
  let pin = null;  // the marker of a picked coordinate

  function clearPin() {
    pin?.remove();
    pin = null;
  }

  function dropPin(r) {
    clearPin();
    const icon = L.divIcon({ className: "gm-search-pin", html: "<span></span>", iconSize: [22, 22], iconAnchor: [11, 11] });
    pin = L.marker([r.point[1], r.point[0]], { icon, keyboard: false, interactive: false, zIndexOffset: 1000 })
      .bindTooltip(`<b>${esc(r.label)}</b><br>${esc(r.sublabel)}`,
        { permanent: true, direction: "top", offset: [0, -12], className: "gm-search-pin-tip" })
      .addTo(map);
  }

  function setState(state) { box.dataset.state = state; }

  function show(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  }

  function highlight(i) {
    const items = list.querySelectorAll("li.gm-search-item");
    active = items.length ? (i + items.length) % items.length : -1;
    items.forEach((li, k) => li.setAttribute("aria-selected", String(k === active)));
    const current = items[active];
    if (current) {
      input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function render(data) {
    results = data.results;
    const labels = Object.fromEntries(data.groups.map((g) => [g.kind, g.label]));
    let html = "";
    let kind = null;
    results.forEach((r, i) => {
      if (r.kind !== kind) {
        kind = r.kind;
        html += `<li class="gm-search-group" role="presentation">${esc(labels[kind] || kind)}</li>`;
      }
      html += `<li id="gm-search-opt-${i}" class="gm-search-item gm-search-${esc(r.kind)}" role="option" aria-selected="false"
        data-index="${i}" data-kind="${esc(r.kind)}" data-id="${esc(r.id)}"><span class="gm-search-label">${esc(r.label)}</span>
        <span class="gm-search-sub">${esc(r.sublabel)}</span></li>`;
    });
    list.innerHTML = html || `<li class="gm-search-none" role="presentation">${esc(T.searchNone)}</li>`;
    setState(results.length ? "ready" : "empty");
    show(true);
    highlight(results.length ? 0 : -1);
  }

  function run(q) {
    if (q === lastQuery && box.dataset.state !== "error") { show(Boolean(q)); return pending; }
    lastQuery = q;
    pending = fetchResults(q);
    return pending;
  }

  async function fetchResults(q) {
    inFlight?.abort();
    clearPin();  // a new search takes the last coordinate's pin away
    if (!q) { results = []; list.innerHTML = ""; show(false); setState("idle"); return; }
    inFlight = new AbortController();
    setState("loading");
    try {
      const res = await fetch(`${config.api.search}?q=${encodeURIComponent(q)}`,
        { credentials: "same-origin", signal: inFlight.signal, headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`${res.status}`);
      render(await res.json());
    } catch (err) {
      if (err.name === "AbortError") return;
      list.innerHTML = `<li class="gm-search-none" role="alert">${esc(T.searchFailed)}</li>`;
      setState("error");
      show(true);
    }
  }

  // Fly to a result and open what it names.
  function go(r) {
    if (!r) return;
    show(false);
    clearPin();
    if (r.bbox) {
      const [w, s, e, n] = r.bbox;
      if (r.kind === "area") map.flyToBounds([[s, w], [n, e]], { padding: [16, 16], duration: 0.8 });
      else map.flyTo(L.latLngBounds([[s, w], [n, e]]).getCenter(), Math.max(map.getZoom(), FLY_ZOOM), { duration: 0.8 });
    } else if (r.point) {
      map.flyTo([r.point[1], r.point[0]], Math.max(map.getZoom(), FLY_ZOOM), { duration: 0.8 });
    }
    if (r.kind === "point" && r.point) dropPin(r);
    const o = r.open || {};
    if (o.person) panel.open("person", o.person);
    else if (o.building) panel.openBuilding(o.building);
    else if (o.event) openEvent(o.event, o.url);
    box.dataset.picked = `${r.kind}:${r.id}`;
  }

  function openEvent(id, url) {
    // The event panel (when the map has one) opens in place; otherwise the page that shows it.
    const opener = gm.openEvent || gm.eventPanel?.open;
    if (typeof opener === "function") opener(id);
    else if (url) window.location.assign(url);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value.trim()), DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden && results.length) { show(true); highlight(0); return; }
      highlight(active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      const q = input.value.trim();
      const fresh = q !== lastQuery || box.dataset.state === "loading";
      // typed and pressed Enter before the results came: search (or wait), then take the first
      run(q).then(() => {
        if (lastQuery === q && box.dataset.state === "ready") go(results[fresh ? 0 : Math.max(active, 0)]);
      });
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); show(false); } else { input.value = ""; run(""); }
    }
  });
  input.addEventListener("focus", () => { if (results.length) show(true); });
  list.addEventListener("mousedown", (e) => e.preventDefault());  // keep focus in the box
  list.addEventListener("click", (e) => {
    const li = e.target.closest("li.gm-search-item");
    if (li) go(results[Number(li.dataset.index)]);
  });
  document.addEventListener("click", (e) => { if (!box.contains(e.target)) show(false); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") clearPin(); });  // in the box or on the map
  setState("idle");
  return { run, go, clearPin, get results() { return results; }, get pin() { return pin; } };
}
