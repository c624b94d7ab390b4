/*
 * The queues, "Mine" (handoffs this agent claimed), "Queue" (handoffs waiting) and, for
 * supervisors, "Claimed by others", in the API's order, each with its SLA ("due in 12 min",
 * "overdue"), and selecting a handoff from them.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { TicketStatus } from "../lib/enums.js";
import { formatAge, humanize } from "../lib/format.js";
import { currentSession, isSupervisor } from "../lib/session.js";
import { customerName, isMine, priorityLabel } from "./handoff.js";
import { renderHeader } from "./header.js";
import { renderPacket } from "./packet.js";
import { state } from "./state.js";
import { loadTranscript, showTranscriptLoading } from "./transcript.js";

let refreshTimer = null;
const OVERDUE = "overdue";

/** The handoff's SLA as the queue shows it: "due in 12 min", "overdue", or "" without one. */
export function dueLabel(dueAt) {
  const due = Date.parse(dueAt || "");
  if (Number.isNaN(due)) {
    return "";
  }
  const minutes = Math.ceil((due - Date.now()) / 60000);
  if (minutes <= 0) {
    return OVERDUE;
  }
  if (minutes < 60) {
    return `due in ${minutes} min`;
  }
  const rest = minutes % 60;
  return `due in ${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ""}`;
}

export async function refreshQueues() {
  try {
    const [open, claimed] = await Promise.all([
      api("GET", `/api/v1/handoffs?status=${TicketStatus.OPEN}`),
      api("GET", `/api/v1/handoffs?status=${TicketStatus.CLAIMED}`),
    ]);
    state.queues = { open: open.handoffs, claimed: claimed.handoffs };
    for (const handoff of [...state.queues.open, ...state.queues.claimed]) {
      state.known.set(handoff.id, handoff);
    }
  } catch (error) {
    if (currentSession()) {
      showError(error);
    }
    return;
  }
  if (state.selected) {
    const fresh = [...state.queues.open, ...state.queues.claimed].find((h) => h.id === state.selected.id);
    if (fresh) {
      state.selected = fresh;
      renderHeader();
    }
  }
  renderQueues();
}

/** Refreshes soon, once for a burst of changes. */
export function scheduleRefresh() {
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(refreshQueues, 100);
}

export function renderQueues() {
  const focused = document.activeElement && document.activeElement.dataset.handoffId;
  renderList("open", state.queues.open);
  renderList("mine", state.queues.claimed.filter(isMine));
  $("others-section").hidden = !isSupervisor();
  renderList("others", state.queues.claimed.filter((handoff) => !isMine(handoff)));
  if (focused) {
    const again = document.querySelector(`.handoff[data-handoff-id="${CSS.escape(focused)}"]`);
    if (again) {
      again.focus();
    }
  }
  const waiting = state.queues.open.length;
  document.title = `${waiting ? `(${waiting}) ` : ""}Agent console · Northwind Bank`;
}

/** Fills the list whose elements in agent.html are #NAME-list, #NAME-count and #NAME-empty. */
function renderList(name, handoffs) {
  $(`${name}-list`).replaceChildren(...handoffs.map(queueItem));
  $(`${name}-count`).textContent = String(handoffs.length);
  $(`${name}-empty`).hidden = handoffs.length > 0;
}

function queueItem(handoff) {
  const item = el("li");
  const button = el("button", `handoff priority-${handoff.priority}`);
  button.type = "button";
  button.dataset.handoffId = String(handoff.id);
  button.dataset.conversationId = handoff.conversation_id;
  if (state.selected && state.selected.id === handoff.id) {
    button.setAttribute("aria-current", "true");
  }
  const top = el("span", "handoff-top");
  top.append(el("span", "priority", priorityLabel(handoff.priority)), el("span", "handoff-name", customerName(handoff)));
  const count = state.unread.get(handoff.id);
  if (count) {
    top.append(el("span", "unread", `${count} new`));
  }
  const age =
    handoff.status === TicketStatus.CLAIMED
      ? `claimed ${formatAge(handoff.claimed_at)}`
      : `waiting ${formatAge(handoff.created_at)}`;
  const meta = el("span", "handoff-meta", `${age}${handoff.category ? ` · ${humanize(handoff.category)}` : ""}`);
  // The SLA is for picking the handoff up: once claimed, it is no longer "due" or "overdue".
  const due = handoff.status === TicketStatus.OPEN ? dueLabel(handoff.due_at) : null;
  if (due) {
    meta.append(" · ", el("span", due === OVERDUE ? "sla overdue" : "sla", due));
  }
  button.append(top, el("span", "handoff-subject", handoff.subject || "Handoff"), meta);
  button.addEventListener("click", () => select(handoff));
  item.append(button);
  return item;
}

async function select(handoff) {
  state.selected = handoff;
  state.messages = [];
  state.unread.delete(handoff.id);
  renderQueues();
  $("placeholder").hidden = true;
  $("conversation").hidden = false;
  renderHeader();
  renderPacket(handoff.packet);
  showTranscriptLoading();
  await loadTranscript();
}
