/*
 * The retrain job: start it (POST /api/v1/jobs/retrain/run), follow the run, and show the
 * latest run's figures (bot/jobs/retrain.py): the labels used, the cross-validation of the
 * intent model before and after them, and what the old and new model make of each label.
 */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { JobStatus } from "../lib/enums.js";
import { humanize, percent } from "../lib/format.js";

const JOB = "retrain";
const POLL_MS = 3000;
const MAX_POLLS = 600;
let polling = null;

const SCORES = { accuracy: "Accuracy", macro_f1: "Macro F1", labels_accuracy: "Labelled messages read right" };

function score(value) {
  return typeof value === "number" ? `${(value * 100).toFixed(1)}%` : "—";
}

/** A table whose first column names each row; `numeric` right-aligns the other columns. */
function table(caption, headings, rows, numeric) {
  const align = numeric ? "num" : "";
  const node = el("table", "data-table compact-table");
  node.append(el("caption", "", caption));
  const head = el("tr");
  head.append(...headings.map((text, index) => el("th", index ? align : "", text)));
  node.createTHead().append(head);
  const body = node.createTBody();
  for (const cells of rows) {
    const row = el("tr");
    row.append(el("th", "", cells[0]), ...cells.slice(1).map((text) => el("td", align, text)));
    body.append(row);
  }
  return node;
}

/** Cross-validation of the intent model without and with the labels (bot/jobs/retrain.py). */
function crossValidation(cv) {
  const names = Object.keys(SCORES).filter((name) => name in (cv.before || {}) || name in (cv.after || {}));
  const rows = names.map((name) => {
    const before = (cv.before || {})[name];
    const after = (cv.after || {})[name];
    const change = typeof before === "number" && typeof after === "number" ? after - before : null;
    const sign = change > 0 ? "+" : "";
    return [SCORES[name], score(before), score(after), change === null ? "—" : `${sign}${(change * 100).toFixed(1)} pt`];
  });
  return table(
    `Cross-validation, ${cv.folds} folds over ${cv.project_examples} examples and ${cv.labels} labels`,
    ["Figure", "Before", "After", "Change"],
    rows,
    true,
  );
}

/** Each labelled message: what the previous model and the new one make of it. */
function predictions(rows) {
  const said = (prediction) => (prediction ? `${humanize(prediction.intent)} ${percent(prediction.confidence)}` : "—");
  return table(
    "The labelled messages, before and after",
    ["Message", "Label", "Before", "After"],
    rows.map((row) => [row.text, humanize(row.label), said(row.old), `${said(row.new)}${row.fixed ? " ✓" : ""}`]),
    false,
  );
}

function figuresView(figures) {
  const box = el("div", "figures");
  if (!figures) {
    return box;
  }
  const used = `${figures.labels_used ?? 0} of ${figures.labels ?? 0} labels used, ${figures.examples_added ?? 0} examples added`;
  const fresh = (figures.new_intents || []).length ? `; new intents: ${figures.new_intents.map(humanize).join(", ")}` : "";
  const model = figures.loaded ? `; model ${figures.model} loaded into the bot` : "";
  const note = figures.note ? ` ${figures.note.charAt(0).toUpperCase()}${figures.note.slice(1)}.` : "";
  box.append(el("p", "figures-summary", `${used}${fresh}${model}.${note}`));
  if (figures.cross_validation) {
    box.append(crossValidation(figures.cross_validation));
  }
  if ((figures.predictions || []).length) {
    box.append(predictions(figures.predictions));
  }
  return box;
}

function showRun(run) {
  if (!run) {
    $("retrain-status").textContent = "No retrain has run yet.";
    $("retrain-figures").replaceChildren();
    return;
  }
  const when = new Date(run.finished_at || run.started_at).toLocaleString();
  const by = run.requested_by ? ` by ${run.requested_by}` : "";
  const error = run.status === JobStatus.FAILED && run.error ? `: ${run.error}` : "";
  $("retrain-status").textContent = `Last run #${run.id} ${humanize(run.status)}${by}, ${when}${error}.`;
  $("retrain-figures").replaceChildren(figuresView(run.figures));
  $("retrain").disabled = run.status === JobStatus.RUNNING;
}

function follow(runId) {
  window.clearTimeout(polling);
  let polls = 0;
  const poll = async () => {
    polls += 1;
    polling = null;
    try {
      const run = await api("GET", `/api/v1/jobs/runs/${runId}`);
      showRun(run);
      if (run.status === JobStatus.RUNNING && polls < MAX_POLLS) {
        polling = window.setTimeout(poll, POLL_MS);
      } else if (run.status === JobStatus.SUCCEEDED) {
        const loaded = run.figures && run.figures.loaded;
        showAlert(loaded ? "The retrained model is loaded into the bot." : "The retrain finished: no model was trained.", "success");
      }
    } catch (error) {
      showError(error);
    }
  };
  poll();
}

async function start() {
  clearAlert();
  $("retrain").disabled = true;
  try {
    const reply = await api("POST", `/api/v1/jobs/${JOB}/run`);
    $("retrain-status").textContent = `Run #${reply.run_id} started: training takes a few minutes.`;
    follow(reply.run_id);
  } catch (error) {
    $("retrain").disabled = false;
    showError(error);
  }
}

export async function refreshRetrain() {
  try {
    const reply = await api("GET", `/api/v1/jobs/runs?job=${JOB}&limit=1`);
    const run = reply.runs[0] || null;
    showRun(run);
    if (run && run.status === JobStatus.RUNNING && polling === null) {
      follow(run.id);
    }
  } catch (error) {
    showError(error);
  }
}

export function setUpRetrain() {
  $("retrain").addEventListener("click", start);
}
