/*
 * The metrics as GET /api/v1/analytics/metrics defines them (name, label, unit, definition:
 * the paragraphs of docs/metrics.md), and how the dashboard writes each unit.
 */

import { api } from "../lib/api.js";

let definitions = new Map();

export async function loadMetrics() {
  const reply = await api("GET", "/api/v1/analytics/metrics");
  definitions = new Map(reply.metrics.map((metric) => [metric.name, metric]));
}

export function metricDef(name) {
  return definitions.get(name) || { name, label: name.replace(/_/g, " "), unit: "count", definition: "" };
}

/** Metrics that have a value per day and per group: every one with a unit. */
export function chartableMetrics() {
  return [...definitions.values()];
}

function duration(seconds) {
  if (seconds < 90) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 5400) {
    return `${(seconds / 60).toFixed(1)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A metric's value as the dashboard writes it; tests format the API's numbers the same way. */
export function formatValue(value, unit) {
  if (value === null || value === undefined) {
    return "n/a";
  }
  switch (unit) {
    case "rate":
      return `${(value * 100).toFixed(1)}%`;
    case "seconds":
      return duration(value);
    case "score":
      return value.toFixed(2);
    default:
      return Math.round(value).toLocaleString("en-GB");
  }
}

/** A value for a chart's axis: rates in percent, durations in minutes. */
export function chartValue(value, unit) {
  if (value === null || value === undefined) {
    return null;
  }
  if (unit === "rate") {
    return value * 100;
  }
  return unit === "seconds" ? value / 60 : value;
}

export function axisTitle(unit) {
  return { rate: "%", seconds: "minutes", score: "score" }[unit] || "count";
}
