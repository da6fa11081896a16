// "My patch" (我的网格): a collapsible card over the map with the caller's grid, area or whole
// district — households, people by residence type, open events by clock colour, visits due,
// unread messages and the due list (assigned open events, soonest first). Data: /api/patch/,
// fetched again whenever the event panel changed an event ("gridmap:event-changed" on document).
// Test hooks: .gm-patch[data-state=loading|ready|error], [data-count=households|people|...],
// li.gm-due-item[data-id].
import * as L from "leaflet";

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STORE = "gridmap.patch.open";

export function createPatchCard(gm) {
  const { map, config } = gm;
  const T = config.text;
  let data = null;
  let inFlight = null;  // the newest load wins

  const Card = L.Control.extend({
    options: { position: "topleft" },
    onAdd() {
      const root = L.DomUtil.create("details", "gm-patch");
      root.dataset.state = "loading";
      root.setAttribute("data-testid", "patch");
      const stored = window.localStorage?.getItem(STORE);
      root.open = stored === null ? !window.matchMedia("(max-width: 600px)").matches : stored === "1";
      root.innerHTML = `<summary class="gm-patch-summary">${esc(T.myPatch)}</summary><div class="gm-patch-body" aria-live="polite">…</div>`;
      root.addEventListener("toggle", () => window.localStorage?.setItem(STORE, root.open ? "1" : "0"));
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      return root;
    },
  });
  const card = new Card().addTo(map);
  const root = card.getContainer();
  const summary = root.querySelector(".gm-patch-summary");
  const body = root.querySelector(".gm-patch-body");

  const count = (key, n) => `<b data-count="${key}">${esc(n ?? "—")}</b>`;
  const dueTime = (iso) => (iso ? new Date(iso).toLocaleString(document.documentElement.lang || undefined,
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : T.noDue);

  function fly() {
    const b = data?.area?.bbox;
    if (b) map.flyToBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [16, 16], duration: 0.8 });
  }

  function openEvent(e) {
    const opener = gm.openEvent || gm.eventPanel?.open;
    if (typeof opener === "function") opener(e.id);
    else window.location.assign(e.url);
  }

  function render(d) {
    data = d;
    const a = d.area;
    summary.innerHTML = `${esc(T.myPatch)} · <span class="gm-patch-area">${esc(a.name)}</span>`;
    const p = d.people;
    const ev = d.events;
    const dueItems = d.due.map((e) => `<li class="gm-due-item" data-id="${e.id}">
        <button type="button" class="gm-due-open" data-id="${e.id}"><i class="gm-clock gm-clock-${esc(e.clock)}" aria-label="${esc(T[`clock_${e.clock}`])}"></i>
        <b>${esc(e.number)}</b> ${esc(e.category)}<br><small>${esc(e.status_label)} · ${esc(T.dueAt)} ${esc(dueTime(e.due_at))}</small></button></li>`).join("");
    body.innerHTML = `
      <p class="gm-patch-where">${esc(a.level_label || T.wholeDistrict)}${a.code ? ` · ${esc(a.code)}` : ""}
        ${a.bbox ? `<button type="button" class="gm-patch-fly">${esc(T.showPatch)}</button>` : ""}</p>
      <table class="gm-patch-counts">
        <tr><th>${esc(T.households)}</th><td>${count("households", d.households)}</td></tr>
        <tr><th>${esc(T.residents)}</th><td>${count("people", p.total)}
          <small>${esc(T.registered)} ${count("registered", p.registered)} · ${esc(T.floating)} ${count("floating", p.floating)} · ${esc(T.overseas)} ${count("overseas", p.overseas)}</small></td></tr>
        <tr><th>${esc(T.openEvents)}</th><td>${count("events", ev.open)}
          <span class="gm-clocks"><i class="gm-clock gm-clock-green" title="${esc(T.clock_green)}"></i>${count("green", ev.green)}
          <i class="gm-clock gm-clock-yellow" title="${esc(T.clock_yellow)}"></i>${count("yellow", ev.yellow)}
          <i class="gm-clock gm-clock-red" title="${esc(T.clock_red)}"></i>${count("red", ev.red)}</span></td></tr>
        <tr><th title="${esc(d.visits_due_basis === "mine" ? T.visitsDueMine : T.visitsDueArea)}">${esc(T.visitsDue)}</th><td>${count("visits_due", d.visits_due)}</td></tr>
        <tr><th>${esc(T.unread)}</th><td>${count("unread", d.unread)} ${config.api.inbox ? `<a href="${esc(config.api.inbox)}">${esc(T.openInbox)}</a>` : ""}</td></tr>
      </table>
      <h3 class="gm-due-title">${esc(T.dueList)} ${count("due", d.due_total)}</h3>
      ${dueItems ? `<ol class="gm-due">${dueItems}</ol>` : `<p class="gm-note">${esc(T.nothingDue)}</p>`}`;
    body.querySelector(".gm-patch-fly")?.addEventListener("click", fly);
    body.querySelectorAll("button.gm-due-open").forEach((btn) => btn.addEventListener("click", () => {
      const e = d.due.find((x) => String(x.id) === btn.dataset.id);
      if (e.point) map.flyTo([e.point[1], e.point[0]], Math.max(map.getZoom(), 17), { duration: 0.8 });
      openEvent(e);
    }));
  }

  async function load() {
    inFlight?.abort();
    inFlight = new AbortController();
    root.dataset.state = "loading";
    try {
      const res = await fetch(config.api.patch, { credentials: "same-origin", signal: inFlight.signal, headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`${res.status}`);
      render(await res.json());
      root.dataset.state = "ready";
    } catch (err) {
      if (err.name === "AbortError") return;
      body.innerHTML = `<p class="gm-panel-error" role="alert">${esc(T.patchFailed)} (${esc(err.message)})</p>`;
      root.dataset.state = "error";
    }
  }

  document.addEventListener("gridmap:event-changed", () => load());
  load();
  return { reload: load, fly, get data() { return data; } };
}
