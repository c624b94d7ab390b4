/*
 * Drill-down: the conversations behind a figure (GET /api/v1/analytics/conversations with the
 * figure's filters and metric), page by page, in a dialog; selecting one shows its transcript.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { humanize } from "../lib/format.js";
import { downloadCsv } from "./csv.js";
import { showTranscript } from "./transcript.js";

const PATH = "/api/v1/analytics/conversations";
let current = { query: new URLSearchParams(), cursor: null, opener: null };

function outcome(row) {
  if (!row.handed_off) {
    return "contained";
  }
  return row.resolved ? "resolved" : "handed off";
}

function conversationRow(row) {
  const id = row.conversation_id;
  const tr = el("tr", "clickable");
  tr.dataset.conversationId = id;
  const open = el("button", "link-button row-button", id);
  open.type = "button";
  open.addEventListener("click", (event) => {
    event.stopPropagation();
    selectConversation(tr, id);
  });
  const first = el("td");
  first.append(open);
  tr.append(
    first,
    el("td", "", row.day || ""),
    el("td", "", row.channel || ""),
    el("td", "", humanize(row.intent)),
    el("td", "", outcome(row)),
  );
  tr.addEventListener("click", () => selectConversation(tr, id));
  return tr;
}

async function selectConversation(tr, id) {
  for (const row of $("drilldown-table").querySelectorAll("tr.selected")) {
    row.classList.remove("selected");
  }
  tr.classList.add("selected");
  $("drilldown-meta").textContent = id;
  const conversation = await showTranscript($("drilldown-transcript"), id);
  if (conversation) {
    const customer = conversation.customer_id ? `customer #${conversation.customer_id}` : "anonymous customer";
    $("drilldown-meta").textContent = `${id} · ${conversation.channel} · ${customer} · ${conversation.status}`;
  }
}

async function loadPage() {
  const query = new URLSearchParams(current.query);
  if (current.cursor) {
    query.set("cursor", current.cursor);
  }
  $("drilldown-more").hidden = true;
  try {
    const reply = await api("GET", `${PATH}?${query}`);
    $("drilldown-table").tBodies[0].append(...reply.conversations.map(conversationRow));
    current.cursor = reply.next_cursor;
    $("drilldown-more").hidden = !reply.next_cursor;
    $("drilldown-empty").hidden = $("drilldown-table").tBodies[0].rows.length > 0;
  } catch (error) {
    showError(error);
  }
}

/** The filters of a drill-down, in words: "1 Nov to 30 Nov · channel rest". */
function describe(query) {
  const parts = [query.get("from") === query.get("to") ? query.get("from") : `${query.get("from")} to ${query.get("to")}`];
  for (const name of ["segment", "intent", "channel"]) {
    if (query.get(name) !== null) {
      const option = $(`filter-${name}`).querySelector(`option[value="${CSS.escape(query.get(name))}"]`);
      parts.push(`${name} ${option ? option.textContent : humanize(query.get(name))}`);
    }
  }
  return parts.join(" · ");
}

/** Opens the dialog on the conversations of `query` (filters and metric), titled `title`. */
export function openDrilldown(title, query) {
  current = { query: new URLSearchParams(query), cursor: null, opener: document.activeElement };
  $("drilldown-heading").textContent = title;
  $("drilldown-filters").textContent = describe(current.query);
  $("drilldown-table").tBodies[0].replaceChildren();
  $("drilldown-transcript").replaceChildren();
  $("drilldown-meta").textContent = "Pick a conversation.";
  $("drilldown-empty").hidden = true;
  if (!$("drilldown").open) {
    $("drilldown").showModal();
  }
  $("drilldown-close").focus();
  loadPage();
}

/** A breakdown row's own link (`conversations_url`) as the query of a drill-down. */
export function queryOfUrl(url) {
  return new URL(url, window.location.href).searchParams;
}

export function setUpDrilldown() {
  $("drilldown-close").addEventListener("click", () => $("drilldown").close());
  $("drilldown-more").addEventListener("click", loadPage);
  $("drilldown-csv").addEventListener("click", () => downloadCsv(PATH, current.query, "conversations.csv"));
  $("drilldown").addEventListener("close", () => {
    if (current.opener && document.contains(current.opener)) {
      current.opener.focus();
    }
  });
}
