/*
 * The dashboard's filters (date range, segment, intent, channel) and which tab and charts are
 * shown, all kept in the page's URL query so a view can be reloaded, bookmarked or shared.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { humanize } from "../lib/format.js";

const DAY_MS = 86400000;
// The `segment` of customers without one (bot/crm/store/metric_defs.py NO_SEGMENT).
export const NO_SEGMENT = 0;
const DEFAULT_DAYS = 30;
const FILTERS = ["from", "to", "segment", "intent", "channel"];
const VIEW_DEFAULTS = { tab: "overview", series: "conversations", metric: "handoff_rate", by: "intent" };

export const view = { ...VIEW_DEFAULTS };
export const filters = { from: "", to: "", segment: "", intent: "", channel: "" };
const listeners = [];

function isoDay(time) {
  return new Date(time).toISOString().slice(0, 10);
}

/** The last 30 days, today (UTC, as the API counts days) included. */
function defaultRange() {
  const today = Date.now();
  return { from: isoDay(today - (DEFAULT_DAYS - 1) * DAY_MS), to: isoDay(today) };
}

export function readUrl() {
  const query = new URLSearchParams(window.location.search);
  Object.assign(filters, { segment: "", intent: "", channel: "" }, defaultRange());
  for (const key of FILTERS) {
    if (query.get(key)) {
      filters[key] = query.get(key);
    }
  }
  for (const [key, fallback] of Object.entries(VIEW_DEFAULTS)) {
    view[key] = query.get(key) || fallback;
  }
}

export function writeUrl() {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    if (filters[key]) {
      query.set(key, filters[key]);
    }
  }
  for (const [key, fallback] of Object.entries(VIEW_DEFAULTS)) {
    if (view[key] !== fallback) {
      query.set(key, view[key]);
    }
  }
  const search = query.toString();
  window.history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

/** The filters as API query parameters, with `extra` ({name: value}) added. */
export function filterQuery(extra = {}) {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    if (filters[key]) {
      query.set(key, filters[key]);
    }
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && value !== null && value !== "") {
      query.set(key, value);
    }
  }
  return query;
}

/** `handler()` runs whenever a filter changes. */
export function onFiltersChanged(handler) {
  listeners.push(handler);
}

function setOptions(select, options, current, allLabel) {
  const values = new Set(options.map((option) => option.value));
  if (current && !values.has(current)) {
    options.push({ value: current, label: humanize(current) });
  }
  select.replaceChildren(el("option", "", allLabel));
  select.firstChild.value = "";
  for (const option of options) {
    const node = el("option", "", option.label);
    node.value = option.value;
    select.append(node);
  }
  select.value = current;
}

/** The segments (active ones), intents and channels the date range has, for the pickers. */
export async function loadFilterOptions() {
  const range = new URLSearchParams({ from: filters.from, to: filters.to, metric: "conversations" });
  try {
    const [segments, intents, channels] = await Promise.all([
      api("GET", "/api/v1/segments"),
      api("GET", `/api/v1/analytics/breakdown?${range}&by=intent`),
      api("GET", `/api/v1/analytics/breakdown?${range}&by=channel`),
    ]);
    const segmentOptions = segments.segments.map((segment) => ({ value: String(segment.id), label: segment.name }));
    segmentOptions.push({ value: String(NO_SEGMENT), label: "No segment" });
    setOptions($("filter-segment"), segmentOptions, filters.segment, "All segments");
    const asOptions = (rows) => rows.map((row) => ({ value: row.key, label: row.label || humanize(row.key) }));
    setOptions($("filter-intent"), asOptions(intents.rows), filters.intent, "All intents");
    setOptions($("filter-channel"), asOptions(channels.rows), filters.channel, "All channels");
  } catch (error) {
    showError(error);
  }
}

function showFilters() {
  $("filter-from").value = filters.from;
  $("filter-to").value = filters.to;
  for (const key of ["segment", "intent", "channel"]) {
    $(`filter-${key}`).value = filters[key];
  }
}

function changed() {
  writeUrl();
  for (const handler of listeners) {
    handler();
  }
}

export function setUpFilters() {
  showFilters();
  $("filters").addEventListener("change", (event) => {
    const key = event.target.name;
    if (!FILTERS.includes(key)) {
      return;
    }
    const from = $("filter-from").value;
    const to = $("filter-to").value;
    if (!from || !to || from > to) {
      showError(new Error("Pick a start date on or before the end date."));
      showFilters();
      return;
    }
    filters[key] = event.target.value;
    if (key === "from" || key === "to") {
      loadFilterOptions();
    }
    changed();
  });
  $("filter-reset").addEventListener("click", () => {
    Object.assign(filters, { segment: "", intent: "", channel: "" }, defaultRange());
    showFilters();
    loadFilterOptions();
    changed();
  });
}
