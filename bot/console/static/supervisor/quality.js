/*
 * The quality review queue: flagged conversations, most severe first, filtered by status and
 * kind; selecting one shows why it was flagged and its transcript, and takes the reviewer's
 * outcome and note (POST /api/v1/quality/flags/{id}/review).
 */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { FlagKind, FlagStatus, ReviewOutcome } from "../lib/enums.js";
import { humanize } from "../lib/format.js";
import { downloadCsv } from "./csv.js";
import { formatValue } from "./metrics.js";
import { showTranscript } from "./transcript.js";

const PATH = "/api/v1/quality/flags";
const SEVERITY = { 3: "look first", 2: "worth a look soon", 1: "worth a look" };
let flags = [];
let cursor = null;
let selected = null;

function options(select, values, labelOf) {
  for (const value of values) {
    const option = el("option", "", labelOf(value));
    option.value = value;
    select.append(option);
  }
}

function query() {
  const params = new URLSearchParams();
  for (const [name, id] of [["status", "flag-status"], ["kind", "flag-kind"]]) {
    if ($(id).value) {
      params.set(name, $(id).value);
    }
  }
  return params;
}

function detailValue(key, value) {
  if (typeof value !== "number") {
    return String(value);
  }
  return key.endsWith("_s") ? formatValue(value, "seconds") : String(Math.round(value * 100) / 100);
}

/** Why the rule flagged it, from the figures it judged (`slowest_reply_s: 32760` → "slowest reply: 9.1 h"). */
function detailText(detail) {
  return Object.entries(detail || {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${humanize(key.replace(/_s$/, ""))}: ${detailValue(key, value)}`)
    .join(" · ");
}

function flagItem(flag) {
  const item = el("li");
  const button = el("button", `flag severity-${flag.severity}`);
  button.type = "button";
  button.dataset.flagId = String(flag.id);
  button.setAttribute("aria-pressed", String(selected !== null && selected.id === flag.id));
  const top = el("span", "flag-top");
  top.append(
    el("span", `badge severity-badge-${flag.severity}`, `Severity ${flag.severity}`),
    el("span", "flag-kind", humanize(flag.kind)),
  );
  button.append(top, el("span", "flag-conversation", flag.conversation_id), el("span", "flag-detail", detailText(flag.detail)));
  if (flag.status === FlagStatus.REVIEWED) {
    button.append(el("span", "flag-outcome", `Reviewed: ${humanize(flag.outcome)}`));
  }
  button.addEventListener("click", () => selectFlag(flag));
  item.append(button);
  return item;
}

function renderList() {
  $("flag-list").replaceChildren(...flags.map(flagItem));
  $("flags-empty").hidden = flags.length > 0;
  $("flags-more").hidden = !cursor;
}

async function selectFlag(flag) {
  selected = flag;
  renderList();
  $("flag-placeholder").hidden = true;
  $("flag-body").hidden = false;
  $("flag-heading").textContent = `${humanize(flag.kind)} · ${flag.conversation_id}`;
  const facts = $("flag-facts");
  facts.replaceChildren();
  const rows = [
    ["Severity", `${flag.severity} (${SEVERITY[flag.severity] || ""})`],
    ["Why", detailText(flag.detail) || humanize(flag.kind)],
    ["Flagged", new Date(flag.created_at).toLocaleString()],
  ];
  if (flag.status === FlagStatus.REVIEWED) {
    rows.push(["Outcome", humanize(flag.outcome)], ["Note", flag.note || ""]);
  }
  for (const [term, value] of rows) {
    facts.append(el("dt", "", term), el("dd", "", value));
  }
  const open = flag.status === FlagStatus.OPEN;
  $("review-form").hidden = !open;
  $("review-done").hidden = open;
  $("review-done").textContent = open ? "" : "This flag has been reviewed.";
  $("review-note").value = "";
  await showTranscript($("flag-transcript"), flag.conversation_id);
}

async function loadFlags(more) {
  const params = query();
  if (more && cursor) {
    params.set("cursor", cursor);
  }
  try {
    const reply = await api("GET", `${PATH}?${params}`);
    flags = more ? [...flags, ...reply.flags] : reply.flags;
    cursor = reply.next_cursor;
    renderList();
    if ($("flag-status").value === FlagStatus.OPEN) {
      $("quality-count").textContent = flags.length && !cursor ? String(flags.length) : flags.length ? `${flags.length}+` : "";
    }
  } catch (error) {
    showError(error);
  }
}

async function review(event) {
  event.preventDefault();
  if (!selected) {
    return;
  }
  clearAlert();
  const body = { note: $("review-note").value.trim(), outcome: $("review-outcome").value };
  try {
    const reviewed = await api("POST", `${PATH}/${selected.id}/review`, body);
    showAlert(`Reviewed ${reviewed.conversation_id}: ${humanize(reviewed.outcome)}.`, "success");
    const keep = $("flag-status").value !== FlagStatus.OPEN;
    flags = keep ? flags.map((flag) => (flag.id === reviewed.id ? reviewed : flag)) : flags.filter((flag) => flag.id !== reviewed.id);
    selected = keep ? reviewed : null;
    renderList();
    if (keep) {
      selectFlag(reviewed);
    } else {
      $("flag-body").hidden = true;
      $("flag-placeholder").hidden = false;
      const next = $("flag-list").querySelector("button");
      (next || $("flag-status")).focus();
      loadFlags(false);
    }
  } catch (error) {
    showError(error);
  }
}

export function refreshQuality() {
  return loadFlags(false);
}

export function setUpQuality() {
  options($("flag-status"), ["", ...Object.values(FlagStatus)], (value) => (value ? humanize(value) : "All"));
  $("flag-status").value = FlagStatus.OPEN;
  options($("flag-kind"), Object.values(FlagKind), humanize);
  options($("review-outcome"), Object.values(ReviewOutcome), humanize);
  $("flag-status").addEventListener("change", () => loadFlags(false));
  $("flag-kind").addEventListener("change", () => loadFlags(false));
  $("flags-more").addEventListener("click", () => loadFlags(true));
  $("review-form").addEventListener("submit", review);
  $("flags-csv").addEventListener("click", () => downloadCsv(PATH, query(), "quality-flags.csv"));
}
