// gridmap's patrol report (巡查上报) on a phone: GPS point on a map (drag to adjust), category,
// urgency, text, photos; sent to /api/events/report/. Every report goes first into an outbox in
// IndexedDB (photos as Blobs) under its client id, then is sent; network failures leave it there
// to be sent again on `online`, on page load and now and then. The server deduplicates by client
// id, so a resend of a report that did arrive is answered 200 with the same event: exactly once.
import * as L from "leaflet";

const config = JSON.parse(document.getElementById("gridmap-config").textContent);
const T = config.text;
const $ = (sel, root = document) => root.querySelector(sel);
const fmt = (s, vars) => s.replace(/%\((\w+)\)s/g, (_, k) => vars[k]);
const form = $("#report");
const gps = $("[data-testid=gps]");
const sendButton = $("[data-testid=send]");

// --- the map and the point ------------------------------------------------------
const map = L.map("patrol-map", { maxZoom: config.maxZoom, zoomSnap: 0.5, attributionControl: config.tiles.length > 0 });
config.tiles.forEach((t) => L.tileLayer(t.url, t.options).addTo(map));
if (config.extent) {
  const [w, s, e, n] = config.extent;
  map.fitBounds([[s, w], [n, e]]);
} else {
  map.setView(config.center, 14);
}
const pin = L.divIcon({ className: "gm-pin", iconSize: [30, 30], iconAnchor: [15, 15] });
const marker = L.marker(map.getCenter(), { draggable: true, autoPan: true, icon: pin, keyboard: true });
const halo = L.circle(map.getCenter(), { radius: 1, color: "#1976d2", weight: 1, fillOpacity: 0.12, interactive: false });
const state = { point: null, accuracy: null, adjusted: false, centred: false };

function showGps(kind, text) {
  gps.dataset.state = kind;
  gps.textContent = text;
  if (state.point) {
    gps.dataset.lat = state.point.lat.toFixed(6);
    gps.dataset.lon = state.point.lng.toFixed(6);
  }
}

function place(latlng) {
  state.point = L.latLng(latlng);
  marker.setLatLng(state.point);
  if (!map.hasLayer(marker)) marker.addTo(map);
}

function adjust(latlng) {
  place(latlng);
  state.adjusted = true;
  showGps("adjusted", `${T.adjusted} (${state.point.lat.toFixed(5)}, ${state.point.lng.toFixed(5)})`);
}

marker.on("dragend", () => adjust(marker.getLatLng()));
map.on("click", (e) => adjust(e.latlng));

function onFix(pos) {
  const { latitude, longitude, accuracy } = pos.coords;
  state.accuracy = Number.isFinite(accuracy) ? accuracy : null;
  halo.setLatLng([latitude, longitude]).setRadius(state.accuracy || 1);
  if (!map.hasLayer(halo)) halo.addTo(map);
  if (state.adjusted) return;  // the user's own placement wins over later fixes
  place([latitude, longitude]);
  if (!state.centred) {
    map.setView(state.point, Math.max(map.getZoom(), config.zoom));
    state.centred = true;
  }
  showGps("fix", fmt(T.accuracy, { m: state.accuracy === null ? "?" : Math.round(state.accuracy) }));
}

function onGpsError() {
  if (!state.point) showGps("error", T.noGps);
}

showGps("locating", T.locating);
if ("geolocation" in navigator) {
  navigator.geolocation.watchPosition(onFix, onGpsError, { enableHighAccuracy: true, maximumAge: 10_000, timeout: 20_000 });
} else {
  showGps("error", T.noGpsSupport);
}

// The grids as thin outlines, so the point can be checked against them (best effort; the
// page works without them, e.g. offline).
fetch(`${config.api.areas}?level=grid`, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
  .then((res) => (res.ok ? res.json() : null))
  .then((data) => {
    if (!data) return;
    L.geoJSON(data, {
      interactive: false,
      style: { color: "#3949ab", weight: 1.5, fillOpacity: 0.04 },
      onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, { permanent: false }),
    }).addTo(map);
  })
  .catch(() => {});

// --- photos ---------------------------------------------------------------------------
const photoInput = $("[data-testid=photos]");
const thumbs = $("[data-testid=thumbs]");
let photos = [];

function renderThumbs() {
  thumbs.querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
  thumbs.replaceChildren(...photos.map((file, i) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = file.name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `${T.remove} ${file.name}`);
    remove.addEventListener("click", () => { photos.splice(i, 1); renderThumbs(); });
    li.append(img, remove);
    return li;
  }));
}

photoInput.addEventListener("change", () => {
  photos = photos.concat(Array.from(photoInput.files)).slice(0, 9);
  photoInput.value = "";  // the same picture can be added again after removing it
  renderThumbs();
});

// --- the outbox in IndexedDB -------------------------------------------------------------
const outbox = (() => {
  let opened = null;
  const open = () => opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open("gridmap-patrol", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "client_id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const run = async (mode, fn) => {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("outbox", mode);
      const req = fn(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  };
  return {
    put: (rec) => run("readwrite", (s) => s.put(rec)),
    delete: (id) => run("readwrite", (s) => s.delete(id)),
    all: async () => (await run("readonly", (s) => s.getAll())).sort((a, b) => a.created - b.created),
  };
})();

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : (document.querySelector("[name=csrfmiddlewaretoken]")?.value || "");
}

async function send(rec) {
  const body = new FormData();
  for (const [k, v] of Object.entries(rec.fields)) {
    if (v !== null && v !== undefined && v !== "") body.append(k, v);
  }
  body.append("client_id", rec.client_id);
  rec.photos.forEach((p) => body.append("photos", p.blob instanceof Blob ? p.blob : new Blob([p.data], { type: p.type }), p.name));
  let res;
  try {
    res = await fetch(config.api.report, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    });
  } catch {
    return { kind: "network" };
  }
  let answer = null;
  try { answer = await res.json(); } catch { /* not JSON */ }
  if (res.status === 200 || res.status === 201) return { kind: "sent", body: answer };
  if (res.status === 400) return { kind: "rejected", body: answer };
  return { kind: "retry", status: res.status, body: answer };  // 403 (logged out), 5xx: keep it
}

// --- what the user sees: the outbox list, errors, the answer ----------------------------
const outboxCard = $("[data-testid=outbox]");
const errorsCard = $("[data-testid=errors]");
const resultCard = $("[data-testid=result]");
const formError = $("[data-testid=form-error]");

async function renderOutbox() {
  const waiting = await outbox.all();
  outboxCard.hidden = waiting.length === 0;
  if (!waiting.length) $("[data-testid=outbox-note]").textContent = "";
  outboxCard.dataset.count = String(waiting.length);
  $("[data-testid=outbox-count]").textContent = String(waiting.length);
  $(".gm-outbox-list", outboxCard).replaceChildren(...waiting.map((rec) => {
    const li = document.createElement("li");
    li.dataset.clientId = rec.client_id;
    const when = new Date(rec.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.textContent = `${when} · ${rec.label} · ${rec.fields.description.slice(0, 40)}${rec.photos.length ? ` · ${fmt(T.photos, { n: rec.photos.length })}` : ""}`;
    return li;
  }));
}

function addError(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("ul", errorsCard).append(li);
  errorsCard.hidden = false;
}

function reasons(body) {
  if (!body || typeof body !== "object") return "";
  return Object.entries(body).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : typeof v === "object" ? JSON.stringify(v) : v}`).join("; ");
}

function showResult(body) {
  const set = (field, text) => { $(`[data-field=${field}]`, resultCard).textContent = text; };
  set("number", body.number);
  set("grid", body.grid ? `${body.grid_name} (${body.grid})${body.outside_grid ? ` — ${T.outside}` : ""}` : T.triage);
  set("assignee", body.assignee ? body.assignee.name : T.unassigned);
  set("due", body.due_at ? body.due_at.slice(0, 16).replace("T", " ") : "—");
  resultCard.dataset.number = body.number;
  resultCard.hidden = false;
  resultCard.scrollIntoView({ block: "start" });
}

// --- sending: one drain at a time (also across tabs, where Web Locks exist) ---------------
let draining = null;
let again = false;

async function drainOnce() {
  for (const rec of await outbox.all()) {
    const r = await send(rec);
    if (r.kind === "sent") {
      await outbox.delete(rec.client_id);
      showResult(r.body);
    } else if (r.kind === "rejected") {
      await outbox.delete(rec.client_id);
      addError(`${T.rejected}: ${rec.label} · ${rec.fields.description.slice(0, 40)} — ${reasons(r.body)}`);
    } else {
      if (r.kind === "retry") addError(fmt(T.failed, { status: r.status }) + (r.body?.detail ? `: ${r.body.detail}` : ""));
      break;  // offline or the server is unwell: keep the rest for later, in order
    }
    await renderOutbox();
  }
}

function flush() {
  if (draining) { again = true; return draining; }
  const locked = (fn) => (navigator.locks ? navigator.locks.request("gridmap-patrol-outbox", fn) : fn());
  draining = locked(async () => {
    do { again = false; await drainOnce(); } while (again);
  }).catch((err) => addError(String(err)))
    .finally(async () => { draining = null; await renderOutbox(); });
  return draining;
}

// --- the form ---------------------------------------------------------------------------------
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  formError.hidden = true;
  const category = form.elements.category;
  const description = form.elements.description.value.trim();
  const problem = !state.point ? T.needPoint : !category.value ? T.needCategory : !description ? T.needDescription : "";
  if (problem) {
    formError.textContent = problem;
    formError.hidden = false;
    return;
  }
  const rec = {
    client_id: newId(),
    created: Date.now(),
    label: category.selectedOptions[0].textContent.trim(),
    fields: {
      category: category.value,
      urgency: form.elements.urgency.value,
      description,
      address: form.elements.address.value.trim(),
      lon: state.point.lng.toFixed(7),
      lat: state.point.lat.toFixed(7),
      accuracy_m: state.adjusted || state.accuracy === null ? "" : String(state.accuracy),
      channel: "patrol",
    },
    photos: photos.map((f) => ({ name: f.name, type: f.type, blob: f })),
  };
  sendButton.disabled = true;
  try {
    try {
      await outbox.put(rec);
    } catch {
      // a browser that cannot keep Blobs in IndexedDB keeps the bytes instead
      await outbox.put({ ...rec, photos: await Promise.all(photos.map(async (f) => ({ name: f.name, type: f.type, data: await f.arrayBuffer() }))) });
    }
  } catch (err) {
    formError.textContent = `${T.noStorage}: ${err}`;
    formError.hidden = false;
    sendButton.disabled = false;
    return;
  }
  form.reset();
  photos = [];
  renderThumbs();
  resultCard.hidden = true;
  sendButton.textContent = T.sending;
  await renderOutbox();
  if (navigator.onLine) await flush();
  sendButton.disabled = false;
  sendButton.textContent = sendButton.dataset.label;
  if ((await outbox.all()).some((r) => r.client_id === rec.client_id)) {
    $("[data-testid=outbox-note]").textContent = T.queued;
    window.scrollTo({ top: 0 });
  }
});
sendButton.dataset.label = sendButton.textContent;

$("[data-action=new]").addEventListener("click", () => {
  resultCard.hidden = true;
  window.scrollTo({ top: 0 });
});

window.addEventListener("online", () => flush());
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && navigator.onLine) flush(); });
setInterval(() => { if (navigator.onLine) flush(); }, 30_000);

window.gridmapPatrol = { map, marker, state, outbox, flush, renderOutbox };
renderOutbox().then(() => (navigator.onLine ? flush() : null)).finally(() => { document.body.dataset.ready = "1"; });
