/*
 * The NLU improvement inbox: open messages grouped by similar text. For a group's ticked
 * messages the supervisor gives the right intent (one the bot knows, picked from the list, or
 * a new one with the answer the bot should give) or dismisses them as no bot error.
 */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { InboxStatus } from "../lib/enums.js";
import { humanize, percent } from "../lib/format.js";
import { downloadCsv } from "./csv.js";

const PATH = "/api/v1/nlu/inbox";
let known = new Set();

function field(labelText, control) {
  const label = el("label", "field", labelText);
  label.append(control);
  return label;
}

function itemRow(item) {
  const row = el("li", "inbox-item");
  row.dataset.itemId = String(item.id);
  const box = el("input");
  box.type = "checkbox";
  box.checked = true;
  box.value = String(item.id);
  box.id = `inbox-item-${item.id}`;
  const label = el("label", "inbox-text", item.text);
  label.htmlFor = box.id;
  const guess = item.predicted_intent ? `${humanize(item.predicted_intent)} ${percent(item.confidence)}` : "no intent";
  row.append(box, label, el("span", "inbox-meta", `${guess} · ${humanize(item.source)}`));
  return row;
}

function groupCard(group) {
  const card = el("li", "card inbox-group");
  card.dataset.groupKey = group.key;
  const heading = el("h2", "", group.label || "Messages without shared words");
  heading.id = `group-${group.key}`;
  card.setAttribute("aria-labelledby", heading.id);
  const head = el("div", "group-head");
  head.append(heading, el("span", "count", String(group.items.length)));
  const list = el("ul", "inbox-items");
  list.append(...group.items.map(itemRow));

  const form = el("form", "label-form");
  const intent = el("input");
  intent.name = "intent";
  intent.required = true;
  intent.setAttribute("list", "intent-options");
  intent.autocomplete = "off";
  intent.value = group.suggested_intent || "";
  intent.placeholder = "intent name";
  const response = el("textarea");
  response.name = "response";
  response.rows = 2;
  response.maxLength = 500;
  response.placeholder = "What the bot should answer to this new intent";
  const responseField = field("Answer for the new intent", response);
  const showResponse = () => {
    const isNew = intent.value.trim() !== "" && !known.has(intent.value.trim());
    responseField.hidden = !isNew;
    response.required = isNew;
  };
  intent.addEventListener("input", showResponse);
  showResponse();
  const label = el("button", "primary small", "Label ticked");
  label.type = "submit";
  const dismiss = el("button", "secondary small", "Dismiss ticked");
  dismiss.type = "button";
  const actions = el("div", "label-actions");
  actions.append(label, dismiss);
  form.append(field("Right intent", intent), responseField, actions);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { intent: intent.value.trim() };
    if (!responseField.hidden) {
      body.response = response.value.trim();
    }
    act(card, body, `labelled ${body.intent}`);
  });
  dismiss.addEventListener("click", () => act(card, { dismiss: true }, "dismissed"));
  card.append(head, list, form);
  return card;
}

/** Sends `body` for each ticked message of the group's card; labelled ones leave the inbox. */
async function act(card, body, done) {
  clearAlert();
  const ticked = [...card.querySelectorAll("input[type=checkbox]:checked")];
  if (!ticked.length) {
    showAlert("Tick the messages first.", "warning");
    return;
  }
  let count = 0;
  try {
    for (const box of ticked) {
      await api("POST", `${PATH}/${box.value}/label`, body);
      box.closest("li").remove();
      count += 1;
    }
    showAlert(`${count} message${count === 1 ? "" : "s"} ${done}. Retrain to teach the bot.`, "success");
  } catch (error) {
    showError(error);
  }
  if (!card.querySelector(".inbox-item")) {
    card.remove();
  }
  updateCount();
}

function updateCount() {
  const items = $("group-list").querySelectorAll(".inbox-item").length;
  $("inbox-count").textContent = items ? String(items) : "";
  $("inbox-empty").hidden = items > 0;
}

export async function refreshInbox() {
  try {
    const reply = await api("GET", `${PATH}?status=${InboxStatus.OPEN}`);
    known = new Set(reply.intents || []);
    $("intent-options").replaceChildren(
      ...[...known].sort().map((name) => {
        const option = el("option");
        option.value = name;
        return option;
      }),
    );
    $("group-list").replaceChildren(...reply.groups.map(groupCard));
    updateCount();
  } catch (error) {
    showError(error);
  }
}

export function setUpInbox() {
  $("inbox-csv").addEventListener("click", () =>
    downloadCsv(PATH, new URLSearchParams({ status: InboxStatus.OPEN }), "nlu-inbox.csv"),
  );
}
