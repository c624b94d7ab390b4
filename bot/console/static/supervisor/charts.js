/*
 * The two charts, drawn with Chart.js (vendored from npm, /static/vendor/chart.umd.min.js, a
 * global `Chart`): the metric per day as a line, and the metric per group as bars. Selecting a
 * point or a bar calls back with its index, for the drill-down.
 */

import { axisTitle } from "./metrics.js";

const BRAND = "#0b5cad";
const charts = new Map();

const MAX_LABEL = 22;

function shortLabel(label) {
  const text = String(label);
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/** Bars lie flat, so intent names read across; the value axis is the metric's unit. */
function scales(type, unit) {
  const value = { beginAtZero: true, title: { display: true, text: axisTitle(unit) } };
  if (type === "bar") {
    const names = { ticks: { autoSkip: false, callback(index) { return shortLabel(this.getLabelForValue(index)); } } };
    return { x: { ...value, position: "top" }, y: names };
  }
  return { y: value, x: { ticks: { autoSkip: true, maxRotation: 0 } } };
}

function options(type, unit, onSelect) {
  return {
    animation: false,
    maintainAspectRatio: false,
    responsive: true,
    indexAxis: type === "bar" ? "y" : "x",
    plugins: { legend: { display: false } },
    scales: scales(type, unit),
    onClick: (event, elements) => {
      if (elements.length) {
        onSelect(elements[0].index);
      }
    },
    onHover: (event, elements) => {
      event.native.target.style.cursor = elements.length ? "pointer" : "default";
    },
  };
}

/** Draws (or redraws) the chart on `canvas`: `type` "line" or "bar", labels and values. */
export function drawChart(canvas, type, labels, values, unit, onSelect) {
  const existing = charts.get(canvas.id);
  if (existing && existing.config.type === type) {
    existing.data.labels = labels;
    existing.data.datasets[0].data = values;
    existing.options.scales = scales(type, unit);
    existing.options.onClick = options(type, unit, onSelect).onClick;
    existing.update();
    return;
  }
  if (existing) {
    existing.destroy();
  }
  const dataset = {
    data: values,
    borderColor: BRAND,
    backgroundColor: type === "bar" ? "rgba(11, 92, 173, 0.75)" : "rgba(11, 92, 173, 0.15)",
    fill: type === "line",
    pointRadius: 3,
    spanGaps: true,
  };
  charts.set(canvas.id, new window.Chart(canvas, { type, data: { labels, datasets: [dataset] }, options: options(type, unit, onSelect) }));
}
