/*
 * The overview: KPI tiles (each with its definition on hover and focus; selecting one lists
 * its conversations), the metric per day and the metric by intent, segment or channel, as
 * charts and as a table. Every figure comes from the analytics API for the current filters.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { humanize } from "../lib/format.js";
import { drawChart } from "./charts.js";
import { downloadCsv } from "./csv.js";
import { openDrilldown, queryOfUrl } from "./drilldown.js";
import { filterQuery, filters, view, writeUrl } from "./filters.js";
import { chartValue, chartableMetrics, formatValue, metricDef } from "./metrics.js";

const ANALYTICS = "/api/v1/analytics";
/** The tiles: a metric, and the metric written under it (a response rate, a count). */
const TILES = [
  { metric: "conversations", under: "unique_customers", underText: "customers" },
  { metric: "containment_rate" },
  { metric: "durable_containment_rate" },
  { metric: "handoff_rate" },
  { metric: "fallback_rate" },
  { metric: "median_first_response_s" },
  { metric: "p90_first_response_s" },
  { metric: "sla_met_rate" },
  { metric: "csat_bot", under: "csat_bot_response_rate", underText: "rated" },
  { metric: "csat_agent", under: "csat_agent_response_rate", underText: "rated" },
  { metric: "reopen_rate" },
  { metric: "resolution_rate" },
];
const CHART_ROWS = 10;
const BY_LABELS = { intent: "Intent", segment: "Segment", channel: "Channel" };
// Answers that arrive after newer filters were asked for are dropped.
let generation = 0;

function tile(spec, summary) {
  const def = metricDef(spec.metric);
  const value = summary[spec.metric];
  const tipId = `tip-${spec.metric}`;
  const button = el("button", "tile");
  button.type = "button";
  button.dataset.metric = spec.metric;
  button.dataset.value = value === null || value === undefined ? "" : String(value);
  button.setAttribute("aria-describedby", tipId);
  button.append(el("span", "tile-label", def.label), el("span", "tile-value", formatValue(value, def.unit)));
  if (spec.under) {
    const under = summary[spec.under];
    const underDef = metricDef(spec.under);
    const note = el("span", "tile-under", `${formatValue(under, underDef.unit)} ${spec.underText}`);
    note.dataset.metric = spec.under;
    note.dataset.value = under === null || under === undefined ? "" : String(under);
    button.append(note);
  }
  button.addEventListener("click", () => openDrilldown(def.label, filterQuery({ metric: spec.metric })));
  const tip = el("span", "tip", def.definition);
  tip.id = tipId;
  tip.setAttribute("role", "tooltip");
  const wrapper = el("div", "tile-wrap");
  wrapper.append(button, tip);
  // A definition opens towards the page's middle, so the tiles at the right edge keep theirs on screen.
  const place = () => wrapper.classList.toggle("tip-left", wrapper.getBoundingClientRect().left > window.innerWidth / 2);
  wrapper.addEventListener("mouseenter", place);
  button.addEventListener("focus", place);
  return wrapper;
}

async function loadTiles(mine) {
  const summary = await api("GET", `${ANALYTICS}/summary?${filterQuery()}`);
  if (mine !== generation) {
    return;
  }
  const tiles = $("tiles");
  tiles.replaceChildren(...TILES.filter((spec) => spec.metric in summary).map((spec) => tile(spec, summary)));
  tiles.dataset.query = filterQuery().toString();
}

async function loadSeries(mine) {
  const def = metricDef(view.series);
  const query = filterQuery({ metric: view.series });
  const reply = await api("GET", `${ANALYTICS}/timeseries?${query}`);
  if (mine !== generation) {
    return;
  }
  const points = reply.points;
  drawChart(
    $("series-chart"),
    "line",
    points.map((point) => point.day),
    points.map((point) => chartValue(point.value, def.unit)),
    def.unit,
    (index) => {
      const day = points[index].day;
      openDrilldown(`${def.label} on ${day}`, filterQuery({ metric: view.series, from: day, to: day }));
    },
  );
  $("series-chart").setAttribute("aria-label", `${def.label} per day from ${filters.from} to ${filters.to}`);
}

/** Segments have names; intents and channels are identifiers, written as words. */
function rowLabel(row) {
  return view.by === "segment" ? row.label : humanize(row.label);
}

function breakdownRow(row, def) {
  const tr = el("tr", "clickable");
  tr.dataset.key = row.key;
  const open = el("button", "link-button row-button", rowLabel(row));
  open.type = "button";
  const first = el("th");
  first.scope = "row";
  first.append(open);
  const value = el("td", "num", formatValue(row.value, def.unit));
  value.dataset.value = row.value === null || row.value === undefined ? "" : String(row.value);
  tr.append(first, value, el("td", "num", row.n.toLocaleString("en-GB")));
  tr.addEventListener("click", () => openDrilldown(`${def.label}: ${rowLabel(row)}`, queryOfUrl(row.conversations_url)));
  return tr;
}

async function loadBreakdown(mine) {
  const def = metricDef(view.metric);
  const query = filterQuery({ metric: view.metric, by: view.by });
  const reply = await api("GET", `${ANALYTICS}/breakdown?${query}`);
  if (mine !== generation) {
    return;
  }
  const rows = reply.rows;
  // The chart has room for the biggest groups (rows come biggest first); the table has them all.
  const drawn = rows.slice(0, CHART_ROWS);
  drawChart(
    $("breakdown-chart"),
    "bar",
    drawn.map(rowLabel),
    drawn.map((row) => chartValue(row.value, def.unit)),
    def.unit,
    (index) => openDrilldown(`${def.label}: ${rowLabel(drawn[index])}`, queryOfUrl(drawn[index].conversations_url)),
  );
  $("breakdown-note").textContent =
    rows.length > CHART_ROWS ? `The ${CHART_ROWS} biggest of ${rows.length} groups; the table has them all.` : "";
  $("breakdown-key-head").textContent = BY_LABELS[view.by];
  $("breakdown-table").tBodies[0].replaceChildren(...rows.map((row) => breakdownRow(row, def)));
  $("breakdown-chart").setAttribute("aria-label", `${def.label} by ${view.by}; the table below has the same figures`);
}

/** Reloads every figure of the overview for the current filters. */
export async function refreshOverview() {
  generation += 1;
  const mine = generation;
  $("tiles").setAttribute("aria-busy", "true");
  try {
    await Promise.all([loadTiles(mine), loadSeries(mine), loadBreakdown(mine)]);
  } catch (error) {
    showError(error);
  } finally {
    if (mine === generation) {
      $("tiles").setAttribute("aria-busy", "false");
    }
  }
}

function fillMetricPicker(select, current) {
  select.replaceChildren(
    ...chartableMetrics().map((metric) => {
      const option = el("option", "", metric.label);
      option.value = metric.name;
      return option;
    }),
  );
  select.value = current;
}

export function setUpOverview() {
  fillMetricPicker($("series-metric"), view.series);
  fillMetricPicker($("breakdown-metric"), view.metric);
  $("breakdown-by").value = view.by;
  const picked = async (key, value, load) => {
    view[key] = value;
    writeUrl();
    try {
      await load(generation);
    } catch (error) {
      showError(error);
    }
  };
  $("series-metric").addEventListener("change", (event) => picked("series", event.target.value, loadSeries));
  $("breakdown-metric").addEventListener("change", (event) => picked("metric", event.target.value, loadBreakdown));
  $("breakdown-by").addEventListener("change", (event) => picked("by", event.target.value, loadBreakdown));
  $("summary-csv").addEventListener("click", () =>
    downloadCsv(`${ANALYTICS}/summary`, filterQuery(), `summary-${filters.from}-${filters.to}.csv`),
  );
  $("series-csv").addEventListener("click", () =>
    downloadCsv(`${ANALYTICS}/timeseries`, filterQuery({ metric: view.series }), `${view.series}-per-day.csv`),
  );
  $("breakdown-csv").addEventListener("click", () =>
    downloadCsv(`${ANALYTICS}/breakdown`, filterQuery({ metric: view.metric, by: view.by }), `${view.metric}-by-${view.by}.csv`),
  );
}
