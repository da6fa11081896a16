// The boundary editor's side panel as HTML: the findings of a check, the impact preview, a grid's
// boundary versions and the suggestions. Builders only: editor.js puts them in the page and wires
// the buttons (by their data-* attributes).
//
// Test hooks: #ed-findings li[data-severity][data-kind]; the preview's td[data-kind][data-from]
// [data-to] holds a count, td[data-grid][data-kind] a grid's total after; li[data-event][data-moves].

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
export const KINDS = ["buildings", "dwellings", "households", "people", "organisations", "facilities", "events"];

/** The findings of a check, errors first. */
export function findingsHtml(T, findings) {
  const groups = [["error", T.errors], ["warning", T.warnings], ["info", T.notes]];
  const parts = groups.map(([severity, title]) => {
    const items = findings.filter((f) => f.severity === severity);
    if (!items.length) return "";
    // the message names the area where it has one (topology.py)
    const lis = items.map((f) => `<li data-severity="${esc(severity)}" data-kind="${esc(f.kind)}">${esc(f.message)}</li>`);
    return `<h3 class="ed-${severity}">${esc(title)}</h3><ul class="ed-findings">${lis.join("")}</ul>`;
  });
  return parts.join("") || `<p class="ed-ok">${esc(T.checkOk)}</p>`;
}

/** The impact preview: what moves from which grid to which, by kind; each grid's totals after;
 * the open events, each with whether `policy` moves it. */
export function previewHtml(T, impact, policy) {
  const code = (c) => (c == null ? T.noGrid : c);
  const rows = KINDS.flatMap((kind) => (impact.moves[kind] || []).map((m) => `<tr><th>${esc(T.kinds[kind])}</th>`
    + `<td>${esc(code(m.from))}</td><td>${esc(code(m.to))}</td>`
    + `<td class="ed-num" data-kind="${kind}" data-from="${esc(m.from ?? "")}" data-to="${esc(m.to ?? "")}">${m.count}</td></tr>`));
  const moves = rows.length
    ? `<table class="ed-table"><caption>${esc(T.previewTitle)}</caption><thead><tr><th>${esc(T.kind)}</th><th>${esc(T.from)}</th>`
      + `<th>${esc(T.to)}</th><th>${esc(T.count)}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
    : `<p class="gm-note" data-kind="none">${esc(T.nothingMoves)}</p>`;
  // a kind a row, a grid a column: a drawn change touches two or three grids; an imported set,
  // many: then a grid a row
  const grids = Object.keys(impact.totals);
  const kinds = KINDS.filter((k) => k !== "events");
  const cell = (g, k) => `<td class="ed-num" data-grid="${esc(g)}" data-kind="${k}">${impact.totals[g][k] ?? 0}</td>`;
  const [heads, lines] = grids.length > 3
    ? [kinds.map((k) => esc(T.kinds[k])), grids.map((g) => `<tr><th>${esc(g)}</th>${kinds.map((k) => cell(g, k)).join("")}</tr>`)]
    : [grids.map(esc), kinds.map((k) => `<tr><th>${esc(T.kinds[k])}</th>${grids.map((g) => cell(g, k)).join("")}</tr>`)];
  const totalsTable = `<table class="ed-table"><caption>${esc(T.totalsAfter)}</caption><thead><tr><th></th>`
    + heads.map((h) => `<th class="ed-num">${h}</th>`).join("") + `</tr></thead><tbody>${lines.join("")}</tbody></table>`;
  const events = (impact.listed.events || []).map((e) => {
    const moves = policy === "move" || (policy === "default" && e.moves);
    return `<li data-event="${esc(e.label)}" data-moves="${moves}">${esc(e.label)} · ${esc(code(e.from))} → ${esc(code(e.to))}: `
      + `<strong>${esc(moves ? T.moves : T.stays)}</strong></li>`;
  });
  const eventList = events.length ? `<h3>${esc(T.eventsListed)}</h3><ul class="ed-events">${events.join("")}</ul>` : "";
  return moves + totalsTable + eventList;
}

/** A grid's boundary versions, newest first, each with a button to draw it against the current one. */
export function historyHtml(T, history) {
  const items = history.versions.map((v, i) => {
    const moved = Object.entries(v.moved || {}).filter(([k, n]) => T.kinds[k] && typeof n === "number" && n)
      .map(([k, n]) => `${T.kinds[k]} ${n}`).join(", ");
    const when = String(v.valid_from).slice(0, 16).replace("T", " ");
    return `<li data-version="${v.version}"><strong>${esc(fill(T.version, { n: v.version }))}</strong>`
      + `${i === 0 && !history.retired_at ? ` <small>(${esc(T.current)})</small>` : ""} · ${esc(when)}`
      + `${v.author ? ` · ${esc(fill(T.by, { who: v.author }))}` : ""}`
      + `${v.operation ? ` · ${esc(T.operations[v.operation] || v.operation)}` : ""}<br>`
      + `<span class="gm-note">${esc(v.reason || T.noReason)}${moved ? ` — ${esc(moved)}` : ""}</span>`
      + `${i > 0 ? ` <button type="button" data-show-version="${v.version}">${esc(T.showVersion)}</button>` : ""}</li>`;
  });
  return `<h3>${esc(T.versions)}</h3><ol class="ed-versions">${items.join("")}</ol>`;
}

/** The suggestions: grids outside the household bounds, each with Preview and Edit. */
export function suggestionsHtml(T, found, [low, high]) {
  if (!found.length) return `<p class="gm-note">${esc(fill(T.noSuggestions, { low, high }))}</p>`;
  return `<ul class="ed-suggestions">${found.map((s, i) => {
    const text = fill(s.kind === "split" ? T.suggestSplit : T.suggestMerge,
      { code: s.grid, n: s.households, after: (s.households_after || []).join(" + ") });
    const buttons = s.operation
      ? ` <button type="button" data-suggestion="${i}" data-then="preview">${esc(T.preview)}</button>`
        + ` <button type="button" data-suggestion="${i}" data-then="edit">${esc(T.editSuggestion)}</button>`
      : ` <span class="gm-note">${esc(s.note || "")}</span>`;
    return `<li data-grid="${esc(s.grid)}" data-kind="${esc(s.kind)}">${esc(text)}${buttons}</li>`;
  }).join("")}</ul>`;
}

export { esc, fill };
