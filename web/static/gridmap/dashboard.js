// The dashboard page: reads the API once (the page's own query), then draws the key figures as
// tiles, the breakdowns as ECharts charts and every table with its export links. Clicking a child
// area's bar or row opens that area's dashboard with the same period and filters.
const config = JSON.parse(document.getElementById("gridmap-config").textContent);
const { links, text } = config;
const main = document.querySelector(".db-main");
const status = document.getElementById("db-status");
const echarts = window.echarts; // echarts.min.js, a classic script loaded before this module

const areaQuery = (id) => (id ? `area=${id}&` : "") + links.query;
const dashboardOf = (id) => `${links.dashboard}?${areaQuery(id)}`;
const here = config.selection.area ? config.selection.area.id : null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const shown = (value) => (value === null || value === undefined ? "–" : String(value));

function kpiTiles(table) {
  const box = document.getElementById("db-kpis");
  box.replaceChildren(...table.rows.map((row) => el("div", { class: "db-kpi", "data-kpi": row.key },
    el("span", { class: "db-kpi-value" }, shown(row.value)), el("span", { class: "db-kpi-label" }, row.figure))));
}

function exportLinks(name) {
  const base = `${links.export}?${areaQuery(here)}&table=${encodeURIComponent(name)}`;
  return el("span", { class: "db-export" },
    el("a", { href: `${base}&format=csv`, "data-testid": `export-${name}-csv` }, text.exportCsv),
    el("a", { href: `${base}&format=xlsx`, "data-testid": `export-${name}-xlsx` }, text.exportXlsx));
}

function tableOf(table) {
  const areaRows = table.name === "children" || table.name === "worst";
  const head = el("tr", {}, ...table.columns.map((c) => el("th", { scope: "col" }, c.label)));
  const body = table.rows.map((row) => el("tr", areaRows ? { "data-area": row.id, class: "db-drill" } : {},
    ...table.columns.map((c) => {
      const value = shown(row[c.key]);
      return el("td", {}, areaRows && c.key === "name" ? el("a", { href: dashboardOf(row.id) }, value) : value);
    })));
  return el("section", { class: "db-table", "data-table": table.name },
    el("h3", {}, table.title, " ", exportLinks(table.name)),
    table.note ? el("p", { class: "db-note" }, table.note) : null,
    el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
}

function chart(id, option, onClick) {
  const node = document.getElementById(id);
  if (!node || !echarts) return;
  const instance = echarts.init(node);
  instance.setOption({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, top: 24, bottom: 56, containLabel: true }, ...option });
  if (onClick) instance.on("click", onClick);
  window.addEventListener("resize", () => instance.resize());
}

const bars = (names, series, extra = {}) => ({
  xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 35 : 0 } },
  yAxis: { type: "value" },
  legend: series.length > 1 ? { bottom: 0 } : undefined,
  series: series.map((s) => ({ type: "bar", ...s })),
  ...extra,
});

function draw(byName) {
  const children = byName.children;
  if (children) {
    chart("chart-children", bars(children.rows.map((r) => r.name), [
      { name: text.events, data: children.rows.map((r) => r.events) },
      { name: text.overdue, data: children.rows.map((r) => r.overdue_now) },
    ]), (params) => { window.location.href = dashboardOf(children.rows[params.dataIndex].id); });
  } else {
    document.getElementById("chart-children").closest("figure").hidden = true;
  }
  const trend = byName.trend;
  chart("chart-trend", bars(trend.rows.map((r) => r.month), [
    { name: text.events, data: trend.rows.map((r) => r.events) },
    { name: text.closed, data: trend.rows.map((r) => r.closed) },
  ]));
  const top = byName.by_category.rows.filter((r) => !r.parent);
  chart("chart-category", bars(top.map((r) => r.name), [{ name: text.events, data: top.map((r) => r.events) }]));
  const pie = (table) => ({
    tooltip: { trigger: "item" }, legend: { bottom: 0, type: "scroll" },
    series: [{ type: "pie", radius: ["35%", "65%"], data: table.rows.filter((r) => r.events).map((r) => ({ name: r.label, value: r.events })) }],
  });
  chart("chart-status", pie(byName.by_status));
  chart("chart-channel", pie(byName.by_channel));
  const settled = byName.settlement.rows.filter((r) => r.pattern_pct !== null);
  chart("chart-settlement", bars(settled.map((r) => r.label), [
    { name: text.share, data: settled.map((r) => r.share_pct) },
    { name: text.pattern, data: settled.map((r) => r.pattern_pct) },
  ]));
}

async function load() {
  const response = await fetch(`${links.api}?${areaQuery(here)}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status}`);
  const data = await response.json();
  const byName = Object.fromEntries(data.tables.map((t) => [t.name, t]));
  kpiTiles(byName.kpis);
  document.getElementById("db-tables").replaceChildren(...data.tables.filter((t) => t.name !== "kpis").map(tableOf));
  document.getElementById("db-definitions").replaceChildren(...data.definitions.map((d) => el("li", {}, d)));
  document.getElementById("db-boundaries").textContent = byName.kpis.note;
  draw(byName);
  status.textContent = data.kpis.events ? "" : text.noData;
  main.dataset.state = "ready";
}

// a click anywhere on a child area's row opens its dashboard (the name is also a plain link)
document.getElementById("db-tables").addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-area]");
  if (row && !event.target.closest("a")) window.location.href = dashboardOf(row.dataset.area);
});

load().catch((error) => {
  status.textContent = `${text.failed} (${error.message})`;
  main.dataset.state = "error";
});
