// The building → floor → household → person drill-down (楼盘表) in a side panel (a bottom sheet
// on a phone). The data comes from /api/buildings/{id}/floors/, /api/dwellings/{id}/ and
// /api/persons/{id}/, scoped and masked on the server; this module only draws it. A person links
// to their record page (/people/{id}/); a linked event opens in the map's event panel.
// Test hooks: #gm-panel[data-state=loading|ready|error][data-view=building|dwelling|person],
// table.gm-floors[data-floors][data-dwellings], button.gm-dw[data-id][data-room], .gm-member,
// a.gm-full-record[data-id], a.gm-event-link[data-id].

const USES = ["self", "rented", "vacant", "commercial"];
const TAGS = ["floating", "special", "welfare", "elderly_alone"];

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);
const fmt = (template, n) => String(template).replace("{n}", n);
// Most surveyed footprints have no name: a building is called by its address, else its code.
const buildingName = (b) => b.label || b.name || b.address || b.code;

export function createFloorPanel(config) {
  const T = config.text;
  const panel = document.getElementById("gm-panel");
  const title = panel.querySelector(".gm-panel-title");
  const body = panel.querySelector(".gm-panel-body");
  const back = panel.querySelector(".gm-panel-back");
  const url = (name, id) => config.api[name].replace("{id}", encodeURIComponent(id));
  let stack = [];           // [{view, id}] — the trail back to the building
  let current = null;       // abort controller of the request in flight
  let lastCell = null;      // the dwelling button to focus again after "back"

  const TAG_MARK = { floating: T.markFloating, special: T.markSpecial, welfare: T.markWelfare, elderly_alone: T.markElderly };
  const TAG_LABEL = { floating: T.tagFloating, special: T.tagSpecial, welfare: T.tagWelfare, elderly_alone: T.tagElderly };
  const USE_LABEL = { self: T.useSelf, rented: T.useRented, vacant: T.useVacant, commercial: T.useCommercial };

  const table = (rows) => `<table class="gm-kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(dash(v))}</td></tr>`).join("")}</table>`;
  const mark = (tag) => `<i class="gm-mark gm-mark-${tag}" aria-hidden="true">${esc(TAG_MARK[tag])}</i>`;

  function setState(state, view) {
    panel.dataset.state = state;
    panel.parentElement.classList.toggle("gm-panel-open", !panel.hidden);  // moves the map's right-hand controls aside
    if (view) panel.dataset.view = view;
  }

  async function load(view, id) {
    current?.abort();
    current = new AbortController();
    panel.hidden = false;
    setState("loading", view);
    panel.dataset.id = id;
    back.hidden = stack.length <= 1;
    try {
      const res = await fetch(url(view === "building" ? "buildingFloors" : view === "dwelling" ? "dwelling" : "person", id),
        { credentials: "same-origin", signal: current.signal, headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(res.status === 404 ? T.notFound : `${res.status}`);
      const data = await res.json();
      ({ building: renderBuilding, dwelling: renderDwelling, person: renderPerson })[view](data);
      setState("ready", view);
      title.focus();
      return data;
    } catch (err) {
      if (err.name === "AbortError") return;
      title.textContent = T.openFailed;
      body.innerHTML = `<p class="gm-panel-error" role="alert">${esc(err.message)}</p>`;
      setState("error", view);
    }
  }

  // --- building: card, legend with counts, floors × units table --------------------------------
  function renderBuilding(data) {
    const b = data.building;
    title.textContent = buildingName(b);
    const grid = b.grid ? `${b.grid.name} (${b.grid.code})` : T.unassigned;
    const floors = data.floors.length;
    const count = data.totals.dwellings;
    const legendUses = USES.map((u) => `<li><span class="gm-swatch gm-use-${u}"></span>${esc(USE_LABEL[u])} <b>${data.totals[u] ?? 0}</b></li>`).join("");
    const legendTags = TAGS.filter((t) => t in data.totals)
      .map((t) => `<li>${mark(t)}${esc(TAG_LABEL[t])} <b data-tag="${t}">${data.totals[t]}</b></li>`).join("");
    const head = data.units.map((u) => `<th scope="col">${esc(fmt(T.unitN, u))}</th>`).join("");
    const rows = data.floors.map((f) => `<tr data-floor="${f.floor}"><th scope="row">${esc(f.label)}</th>${f.cells.map((c) =>
      `<td>${c.dwellings.map(cellButton).join("")}</td>`).join("")}</tr>`).join("");
    body.innerHTML = `
      ${table([[T.code, b.code], [T.address, b.address], [T.use, b.use_label],
        [T.floorsAboveBelow, `${b.floors_above_label ?? b.floors_above} / ${b.floors_below}`], [T.units, b.units], [T.roomsPerFloor, b.rooms_per_floor],
        [T.yearBuilt, b.year_built], [T.propertyManager, b.property_manager], [T.buildingHead, b.building_head],
        [T.gridCode, grid], [T.leader, b.grid?.leader || T.noLeader]])}
      <section class="gm-legend" aria-label="${esc(T.legend)}">
        <p class="gm-totals">${esc(T.dwellings)} <b data-total="dwellings">${count}</b> · ${esc(T.households)} <b>${data.totals.households}</b>
          · ${esc(T.residents)} <b>${data.totals.residents}</b> · ${esc(T.floatingResidents)} <b>${data.totals.floating_residents}</b></p>
        <ul>${legendUses}</ul><ul>${legendTags}</ul>
        ${data.sensitive ? "" : `<p class="gm-note">${esc(T.specialHidden)}</p>`}
      </section>
      ${data.floors_note ? `<p class="gm-note" data-floors-unknown>${esc(data.floors_note)}</p>` : ""}
      <div class="gm-floors-wrap"><table class="gm-floors" data-floors="${floors}" data-dwellings="${count}">
        <caption>${esc(T.floorTable)}</caption><thead><tr><th></th>${head}</tr></thead><tbody>${rows}</tbody></table></div>`;
    body.querySelectorAll("button.gm-dw").forEach((btn) => btn.addEventListener("click", () => {
      lastCell = btn.dataset.id;
      open("dwelling", btn.dataset.id);
    }));
  }

  function cellButton(d) {
    const tags = d.tags.map(mark).join("");
    const tip = [d.room, d.use_label, `${T.residents} ${d.residents}`, ...d.tags.map((t) =>
      t === "elderly_alone" ? `${TAG_LABEL[t]} (${d.elderly_alone === "record" ? T.elderlyRecord : T.elderlyAlone60})` : TAG_LABEL[t])].join(" · ");
    return `<button type="button" class="gm-dw gm-use-${esc(d.use)}" data-id="${d.id}" data-room="${esc(d.room)}"
      data-tags="${esc(d.tags.join(" "))}" title="${esc(tip)}" aria-label="${esc(tip)}">${esc(d.room)}<span class="gm-marks">${tags}</span></button>`;
  }

  // --- dwelling: rental, households and their members, visits, events -----------------------
  function records(list, label) {
    if (!list.length) return "";
    return `<ul class="gm-records">${list.map((r) => `<li>${label(r)} <span class="gm-dates">${esc(r.start)} – ${esc(r.end || T.now)}</span></li>`).join("")}</ul>`;
  }
  const welfare = (r) => esc([r.kind_label, r.category, r.grade ? fmt(T.gradeN, r.grade) : ""].filter(Boolean).join(" · "));
  const special = (r) => `<span class="gm-special">${esc(r.group_label)}</span> · ${esc(T.risk)} ${esc(r.risk_label)} · ${esc(fmt(T.visitEveryN, r.visit_every_days))}${r.sealed ? ` · ${esc(T.sealed)}` : ""}`;
  const job = (e) => (e ? [e.status_label, e.employer, e.occupation].filter(Boolean).join(" · ") : "—");

  function member(m, sensitive) {
    return `<tr class="gm-member" data-id="${m.id}">
      <td>${esc(m.relation_label || "—")}</td>
      <td><button type="button" class="gm-person-link" data-id="${m.id}">${esc(m.name)}</button> ${fullRecord(m.id)}</td>
      <td>${esc(m.sex_label)}</td><td>${esc(dash(m.age))}</td><td>${esc(m.residence_label)}</td>
      <td class="gm-id">${esc(dash(m.id_number))}</td><td>${esc(dash(m.phone))}</td><td>${esc(job(m.employment_now))}</td></tr>
      ${m.welfare.length || m.special_groups.length ? `<tr class="gm-member-records"><td></td><td colspan="7">
        ${m.welfare.length ? `<b>${esc(T.welfare)}</b>${records(m.welfare, welfare)}` : ""}
        ${sensitive && m.special_groups.length ? `<b>${esc(T.specialGroups)}</b>${records(m.special_groups, special)}` : ""}</td></tr>` : ""}`;
  }

  function members(list, sensitive) {
    return `<div class="gm-scroll"><table class="gm-members"><thead><tr><th>${esc(T.relation)}</th><th>${esc(T.name)}</th><th>${esc(T.sex)}</th>
      <th>${esc(T.age)}</th><th>${esc(T.residence)}</th><th>${esc(T.idNumber)}</th><th>${esc(T.phone)}</th><th>${esc(T.employment)}</th></tr></thead>
      <tbody>${list.map((m) => member(m, sensitive)).join("")}</tbody></table></div>`;
  }

  const visitList = (list) => (list.length
    ? `<ul class="gm-records">${list.map((v) => `<li>${esc(v.visited_at.slice(0, 10))} · ${esc(v.worker)} · ${esc(v.findings)}</li>`).join("")}</ul>`
    : `<p class="gm-note">${esc(T.none)}</p>`);
  const eventList = (list) => (list.length
    ? `<ul class="gm-records">${list.map((e) => `<li><a class="gm-event-link" href="?event=${e.id}" data-id="${e.id}"><b>${esc(e.number)}</b></a>
        ${esc(e.category)} · ${esc(e.status_label)} · ${esc(e.reported_at.slice(0, 10))}<br>${esc(e.description)}</li>`).join("")}</ul>`
    : `<p class="gm-note">${esc(T.none)}</p>`);
  const fullRecord = (id) => `<a class="gm-full-record" href="${esc(config.pages.person.replace("{id}", encodeURIComponent(id)))}"
    data-id="${id}">${esc(T.fullRecord)}</a>`;

  // A linked event opens in the map's event panel (gridmap.openEvent, from map.js); without one,
  // or opened into a new tab, the link itself (?event=<id>) opens the map page at the event.
  function linkEvents() {
    body.querySelectorAll("a.gm-event-link").forEach((a) => a.addEventListener("click", (ev) => {
      const openEvent = window.gridmap?.openEvent;
      if (typeof openEvent !== "function" || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      openEvent(a.dataset.id);
    }));
  }

  function renderDwelling(data) {
    const d = data.dwelling;
    title.textContent = `${buildingName(data.building)} ${fmt(T.unitN, d.unit)} ${d.room}`;
    const r = data.rental;
    const homes = data.households.map((h) => `<section class="gm-household" data-id="${h.id}">
        <h3>${esc(T.household)} ${esc(h.number)} <small>${esc(h.kind_label)}</small></h3>${members(h.members, data.sensitive)}</section>`).join("");
    body.innerHTML = `
      ${table([[T.use, d.use_label], [T.area, d.area_m2], [T.owner, d.owner], [T.floor, d.floor]])}
      ${r ? `<h3>${esc(T.rental)}</h3>${table([[T.landlord, r.landlord], [T.phone, r.landlord_phone], [T.lease, `${dash(r.lease_start)} – ${dash(r.lease_end)}`],
        [T.agent, r.agent], [T.registration, r.status_label], [T.tenants, r.tenants.join("、")]])}` : ""}
      ${homes || `<p class="gm-note">${esc(T.noHouseholds)}</p>`}
      ${data.other_residents.length ? `<section><h3>${esc(T.otherResidents)}</h3>${members(data.other_residents, data.sensitive)}</section>` : ""}
      ${data.sensitive ? "" : `<p class="gm-note">${esc(T.specialHidden)}</p>`}
      <h3>${esc(T.visits)}</h3>${visitList(data.visits)}
      <h3>${esc(T.events)}</h3>${eventList(data.events)}`;
    body.querySelectorAll("button.gm-person-link").forEach((btn) => btn.addEventListener("click", () => open("person", btn.dataset.id)));
    linkEvents();
  }

  // --- person: the full record with history ----------------------------------------------------
  function renderPerson(p) {
    title.textContent = p.name;
    const h = p.household;
    const d = p.dwelling;
    body.innerHTML = `
      <p>${fullRecord(p.id)}</p>
      ${table([[T.sex, p.sex_label], [T.age, p.age], [T.birthDate, p.birth_date], [T.idNumber, p.id_number], [T.phone, p.phone],
        [T.residence, p.residence_label], [T.ethnicity, p.ethnicity], [T.registeredResidence, p.registered_residence],
        [T.origin, p.origin], [T.arrived, p.arrived_on], [T.stayUntil, p.stay_until],
        [T.partyMember, p.party_member ? T.yes : T.no], [T.volunteer, p.volunteer ? T.yes : T.no],
        [T.dwelling, d ? `${buildingName(d.building)} ${fmt(T.unitN, d.unit)} ${d.room}` : null],
        [T.household, h ? `${h.number} · ${h.relation_label}` : null]])}
      ${h ? `<h3>${esc(T.members)}</h3><ul class="gm-records">${h.members.map((m) => `<li>${esc(m.relation_label)} · ${esc(m.name)}</li>`).join("")}</ul>` : ""}
      <h3>${esc(T.employment)}</h3>${p.employment.length ? records(p.employment, (e) => esc(job(e))) : `<p class="gm-note">${esc(T.none)}</p>`}
      <h3>${esc(T.welfare)}</h3>${p.welfare.length ? records(p.welfare, welfare) : `<p class="gm-note">${esc(T.none)}</p>`}
      ${p.masked ? `<p class="gm-note">${esc(T.specialHidden)}</p>`
        : `<h3>${esc(T.specialGroups)}</h3>${p.special_groups.length ? records(p.special_groups, special) : `<p class="gm-note">${esc(T.none)}</p>`}`}
      <h3>${esc(T.visits)}</h3>${visitList(p.visits)}
      <h3>${esc(T.events)}</h3>${eventList(p.events)}`;
    linkEvents();
  }

  // --- navigation ------------------------------------------------------------------------
  /** Opens a view; resolves to its data once shown (undefined when it failed or was replaced). */
  function open(view, id) {
    if (view === "building") stack = [];
    stack.push({ view, id });
    return load(view, id);
  }

  async function goBack() {
    if (stack.length <= 1) return;
    stack.pop();
    const { view, id } = stack[stack.length - 1];
    await load(view, id);
    if (view === "building" && lastCell) body.querySelector(`button.gm-dw[data-id="${lastCell}"]`)?.focus();
  }

  function close() {
    current?.abort();
    stack = [];
    panel.hidden = true;
    setState("closed");
  }

  back.addEventListener("click", goBack);
  panel.querySelector(".gm-panel-close").addEventListener("click", close);
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });

  return { openBuilding: (id) => open("building", id), open, close, back: goBack };
}
