// The event panel (事件详情) in the map's side panel (#gm-panel, a bottom sheet on a phone):
// number, category, status, urgency, address, reporter, due time and clock, photos, the
// timeline of actions with their photos, and one button per action the API allows the caller
// (allowed_actions, from the workflow table). A button posts to /api/events/{id}/actions/ with
// the version seen (409 when the event moved on), asking first for what the action needs ("assign":
// a pick from /api/events/{id}/assignees/ (the handling area's staff and those one level below,
// its X-Truncated header "true" when more may be named), refilled from ?q= as a name is typed in
// the box above it; "nobody can be assigned" when that list is empty; a typed username only when
// the list could not be had).
// /?event=<id> opens the map at the event with its panel. After an action changed the event, the
// panel dispatches "gridmap:event-changed" (detail: {id, action, status}) on document.
//
// Test hooks: #gm-panel[data-view=event][data-state=loading|ready|error][data-id][data-status]
// [data-clock], .gm-event-action[data-action], li.gm-step[data-action], .gm-event-message
// [data-kind=ok|conflict|invalid|forbidden|error], form.gm-action-form[data-action],
// select[name=assignee][data-truncated] option[value=<username>][data-on-leave],
// input.gm-assignee-filter, .gm-assignee-note, .gm-assign-nobody.

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);
// "2024-05-01T09:30:00+08:00" → "2024-05-01 09:30" (the API's times are already Asia/Shanghai)
const when = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");
const NEEDS = { assign: "assignee", to_department: "department", rate: "satisfaction" };

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function createEventPanel(config, { map, floors } = {}) {
  const C = config.events;
  const T = C.text;
  const panel = document.getElementById("gm-panel");
  const title = panel.querySelector(".gm-panel-title");
  const body = panel.querySelector(".gm-panel-body");
  const back = panel.querySelector(".gm-panel-back");
  const url = (name, id) => C.api[name].replace("{id}", encodeURIComponent(id));
  const STATUS = Object.fromEntries(C.statuses);
  let current = null;   // abort controller of the request in flight
  let event = null;     // the event shown
  const self = { onChange: null };

  const label = (action) => C.actions[action]?.label || action;
  const table = (rows) => `<table class="gm-kv">${rows.map(([k, v, raw]) =>
    `<tr><th>${esc(k)}</th><td>${raw ? v : esc(dash(v))}</td></tr>`).join("")}</table>`;
  const clock = (c, paused) => `<span class="gm-clock-dot gm-clock-${esc(c)}"></span>${esc(T[c] || c)}${paused ? ` · ${esc(T.paused)}` : ""}`;
  const thumbs = (urls) => (urls.length ? `<div class="gm-thumbs">${urls.map((u, i) =>
    `<a href="${esc(u)}" target="_blank" rel="noopener"><img src="${esc(u)}" alt="${esc(T.photos)} ${i + 1}" loading="lazy" width="72" height="72"></a>`).join("")}</div>` : "");

  function setState(state) {
    panel.dataset.state = state;
    panel.parentElement.classList.toggle("gm-panel-open", !panel.hidden);
  }

  function mine() { return panel.dataset.view === "event" && !panel.hidden; }

  async function open(id, { fly = false, message = null } = {}) {
    if (!mine()) floors?.close();   // the building panel lets go of #gm-panel (and its request)
    current?.abort();
    current = new AbortController();
    panel.hidden = false;
    panel.dataset.view = "event";
    panel.dataset.id = id;
    back.hidden = true;
    setState("loading");
    try {
      const res = await fetch(url("detail", id), { credentials: "same-origin", signal: current.signal, headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(res.status === 404 ? T.notFound : `${res.status}`);
      const data = await res.json();
      if (!mine() || panel.dataset.id !== String(id)) return;   // another view took the panel meanwhile
      render(data, message);
      if (fly && map) map.setView([data.lat, data.lon], Math.max(map.getZoom(), 18));
      title.focus();
    } catch (err) {
      if (err.name === "AbortError" || !mine()) return;
      event = null;
      title.textContent = T.openFailed;
      body.innerHTML = `<p class="gm-panel-error" role="alert">${esc(err.message)}</p>`;
      setState("error");
    }
  }

  function render(e, message = null) {
    event = e;
    panel.dataset.status = e.status;
    panel.dataset.clock = e.clock;
    title.textContent = `${T.number} ${e.number}`;
    const reporter = [e.reporter?.name, e.reporter_phone].filter(Boolean).join(" · ");
    const assignee = e.assignee ? e.assignee.name : null;
    const inTimeline = new Set(e.timeline.flatMap((s) => s.photos));  // each photo once: with its step
    body.innerHTML = `
      ${message ? messageHtml(message) : ""}
      ${table([
        [T.category, `${e.category.name} (${e.category.code})`], [T.status, STATUS[e.status] || e.status],
        [T.urgency, C.urgencies[e.urgency] || e.urgency], [T.address, e.address],
        [T.reporter, reporter], [T.grid, e.grid ? `${e.grid.name} (${e.grid.code})` : null],
        [T.assignee, assignee], [T.department, e.department], [T.reportedAt, when(e.reported_at)],
        [T.dueAt, when(e.due_at)], [T.clock, clock(e.clock, e.paused_at), true],
      ])}
      <p class="gm-event-description">${esc(e.description)}</p>
      ${thumbs(e.photos.filter((u) => !inTimeline.has(u)))}
      <section class="gm-event-actions" aria-label="${esc(T.actions)}"><h3>${esc(T.actions)}</h3>${actionsHtml(e)}</section>
      <h3>${esc(T.timeline)}</h3>
      <ol class="gm-timeline">${e.timeline.map(stepHtml).join("")}</ol>`;
    body.querySelectorAll("button.gm-event-action").forEach((btn) => btn.addEventListener("click", () => choose(btn.dataset.action)));
    setState("ready");
  }

  function actionsHtml(e) {
    if (!e.allowed_actions.length) return `<p class="gm-note">${esc(T.noActions)}</p>`;
    return `<div class="gm-event-buttons">${e.allowed_actions.map((a) =>
      `<button type="button" class="gm-event-action" data-action="${esc(a)}">${esc(label(a))}</button>`).join("")}</div>
      <div class="gm-action-form-slot"></div>`;
  }

  function stepHtml(s) {
    const actor = s.actor ? s.actor.name : T.system;
    const change = s.to_status && s.to_status !== s.from_status
      ? `${esc(STATUS[s.from_status] || s.from_status || "")} → ${esc(STATUS[s.to_status] || s.to_status)}` : "";
    return `<li class="gm-step" data-action="${esc(s.action)}" data-seq="${s.seq}">
      <div><b>${esc(label(s.action))}</b> · ${esc(actor)} · <time datetime="${esc(s.at)}">${esc(when(s.at))}</time></div>
      ${change ? `<div class="gm-step-change">${change}${s.assignee ? ` · ${esc(T.assignedTo.replace("{name}", s.assignee.name))}` : ""}</div>` : ""}
      ${s.note ? `<div class="gm-step-note">${esc(s.note)}</div>` : ""}
      ${thumbs(s.photos)}</li>`;
  }

  function messageHtml({ kind, text }) {
    return `<p class="gm-event-message gm-event-message-${esc(kind)}" data-kind="${esc(kind)}" role="${kind === "ok" ? "status" : "alert"}">${esc(text)}</p>`;
  }

  function showMessage(message) {
    body.querySelector(".gm-event-message")?.remove();
    body.insertAdjacentHTML("afterbegin", messageHtml(message));
  }

  // --- taking an action: straight away, or after a small form for what it needs ----------------
  async function choose(action) {
    const needsNote = C.actions[action]?.needsNote;
    const extra = NEEDS[action];
    if (!needsNote && !extra) { post(action, {}); return; }
    const slot = body.querySelector(".gm-action-form-slot");
    const id = event.id;
    const listed = extra === "assignee" ? await assignees(id) : null;
    if (!slot.isConnected) return;  // the panel showed something else while the list loaded
    // nobody to name: say so, and offer nothing to send (the server would refuse any username)
    const nobody = listed && !listed.people.length && !listed.truncated;
    const field = {
      assignee: !listed ? `<label>${esc(T.assignTo)} <input name="assignee" required autocomplete="off"></label>`
        : nobody ? `<p class="gm-note gm-assign-nobody" role="status">${esc(T.assignNobody)}</p>` : assigneePicker(),
      department: `<label>${esc(T.toDepartment)} <select name="department" required>${C.departments.map(([v, l]) =>
        `<option value="${esc(v)}">${esc(l)}</option>`).join("")}</select></label>`,
      satisfaction: `<label>${esc(T.satisfaction)} <select name="satisfaction" required>${C.satisfactions.map(([v, l]) =>
        `<option value="${esc(v)}">${esc(l)}</option>`).join("")}</select></label>`,
    }[extra] || "";
    slot.innerHTML = `<form class="gm-action-form" data-action="${esc(action)}">
        <p class="gm-action-form-title"><b>${esc(label(action))}</b></p>${field}
        ${nobody ? "" : `<label>${esc(needsNote ? T.noteRequired : T.note)} <textarea name="note" rows="3" ${needsNote ? "required" : ""}></textarea></label>`}
        <div class="gm-action-form-buttons">${nobody ? "" : `<button type="submit">${esc(T.submit)}</button>`}
          <button type="button" class="gm-action-cancel">${esc(T.cancel)}</button></div></form>`;
    const form = slot.querySelector("form");
    form.querySelector(".gm-action-cancel").addEventListener("click", () => { slot.innerHTML = ""; });
    if (listed && !nobody) searchAssignees(form, id, listed);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = Object.fromEntries(new FormData(form).entries());
      post(action, data);
    });
    form.querySelector("input, select, textarea, button")?.focus();
  }

  // whom the caller may assign the event to (those whose name or username holds `q`, when given):
  // {people, truncated}; null when the list cannot be had (then a typed username)
  async function assignees(id, q = "") {
    try {
      const query = q ? `?q=${encodeURIComponent(q)}` : "";
      const res = await fetch(url("assignees", id) + query, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) return null;
      return { people: await res.json(), truncated: res.headers.get("X-Truncated") === "true" };
    } catch {
      return null;
    }
  }

  function assigneePicker() {
    return `<label>${esc(T.assignFilter)} <input type="search" class="gm-assignee-filter" autocomplete="off" maxlength="50"></label>
      <label>${esc(T.assignPick)} <select name="assignee" required></select></label>
      <p class="gm-note gm-assignee-note" hidden></p>`;
  }

  function fillAssignees(form, { people, truncated }, searched) {
    const select = form.querySelector("select[name=assignee]");
    const chosen = select.value;
    const option = (p) => {
      const away = p.on_leave ? (p.deputy ? T.onLeave.replace("{name}", p.deputy.name) : T.onLeaveAway) : "";
      const text = [p.name, p.role_label, p.area?.name, away];
      return `<option value="${esc(p.username)}" data-on-leave="${p.on_leave}">${esc(text.filter(Boolean).join(" · "))}</option>`;
    };
    select.innerHTML = `<option value="">—</option>${people.map(option).join("")}`;
    if (people.some((p) => p.username === chosen)) select.value = chosen;
    select.dataset.truncated = truncated;
    const note = form.querySelector(".gm-assignee-note");
    note.textContent = truncated ? T.assignMore : searched && !people.length ? T.assignNoMatch : "";
    note.hidden = !note.textContent;
  }

  // the list first; what the filter box holds asks the server (?q=) for the matching people of
  // the whole area (not only those listed), a moment after the typing stops
  function searchAssignees(form, id, listed) {
    const box = form.querySelector(".gm-assignee-filter");
    let timer = null;
    let asked = 0;  // the latest search: an older answer arriving late is dropped
    fillAssignees(form, listed, false);
    box.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = box.value.trim();
        const mine = ++asked;
        const found = q ? await assignees(id, q) : listed;
        if (mine !== asked || !form.isConnected) return;
        if (found) {
          fillAssignees(form, found, Boolean(q));
        } else {  // the list stays as it was; the note says the search failed
          const note = form.querySelector(".gm-assignee-note");
          note.textContent = T.assignSearchFailed;
          note.hidden = false;
        }
      }, 250);
    });
    box.addEventListener("keydown", (e) => { if (e.key === "Enter") e.preventDefault(); });  // not a submit
  }

  function changed(id, action, data) {
    self.onChange?.(data);
    document.dispatchEvent(new CustomEvent("gridmap:event-changed", { detail: { id, action, status: data.status } }));
  }

  async function post(action, fields) {
    if (!event) return;
    const id = event.id;
    body.querySelectorAll(".gm-event-actions button").forEach((b) => { b.disabled = true; });
    panel.dataset.state = "loading";
    let res;
    let data = {};
    try {
      res = await fetch(url("actions", id), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ action, expected_version: event.version, ...fields }),
      });
      data = await res.json().catch(() => ({}));
    } catch (err) {
      showMessage({ kind: "error", text: `${T.failed}: ${err.message}` });
      enable();
      return;
    }
    if (!mine() || panel.dataset.id !== String(id)) return;
    if (res.ok) {
      render(data, { kind: "ok", text: T.done.replace("{action}", label(action)) });
      changed(id, action, data);
    } else if (res.status === 409) {
      const status = STATUS[data.status] || data.status;
      await open(id, { message: { kind: "conflict", text: `${T.conflict.replace("{status}", status)} ${data.detail ? `(${data.detail})` : ""}` } });
      changed(id, action, data);
    } else if (res.status === 400) {
      const why = Object.entries(data).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ");
      showMessage({ kind: "invalid", text: `${T.invalid}: ${why || res.status}` });
      enable();
    } else if (res.status === 403) {
      showMessage({ kind: "forbidden", text: `${T.forbidden}: ${data.detail || res.status}` });
      enable();
    } else {
      showMessage({ kind: "error", text: `${T.failed}: ${data.detail || res.status}` });
      enable();
    }
  }

  function enable() {
    body.querySelectorAll(".gm-event-actions button").forEach((b) => { b.disabled = false; });
    panel.dataset.state = "ready";
  }

  function close() {
    current?.abort();
    event = null;
    panel.hidden = true;
    setState("closed");
  }

  // floors.js closes the panel on × and Escape too; both only hide it
  panel.querySelector(".gm-panel-close").addEventListener("click", () => { if (panel.dataset.view === "event") close(); });
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape" && panel.dataset.view === "event") close(); });

  // /?event=<id> (the inbox links here): open it and bring the map to it
  const wanted = new URLSearchParams(window.location.search).get("event");
  if (wanted && /^\d+$/.test(wanted)) open(wanted, { fly: true });

  self.open = (id, opts) => open(String(id), opts);
  self.close = close;
  Object.defineProperty(self, "event", { get: () => event });
  return self;
}
