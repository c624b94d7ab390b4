/*
 * Live updates for the agent console: handoffs that arrive or change, and messages in the
 * selected conversation or, as unread counts, in others, and whether agents' replies reached
 * the customer's chat. The "Live" badge shows the connection.
 */

import { showError } from "../lib/alert.js";
import { $ } from "../lib/dom.js";
import { liveFeed } from "../lib/live.js";
import { renderHeader } from "./header.js";
import { refreshQueues, renderQueues, scheduleRefresh } from "./queue.js";
import { state } from "./state.js";
import { addMessage, loadTranscript, showDelivery } from "./transcript.js";

function setLive(connected) {
  const status = $("live-status");
  status.hidden = false;
  status.textContent = connected ? "Live" : "Reconnecting…";
  status.className = connected ? "live live-on" : "live live-off";
}

function isNews(message) {
  // The messages that led to the handoff are in its packet already; only later ones are new.
  const handoff = state.known.get(message.handoff_id);
  return Boolean(handoff) && Date.parse(message.created_at) > Date.parse(handoff.created_at);
}

function handleEvent(event) {
  if (!event || typeof event !== "object") {
    return;
  }
  if (event.handoff && typeof event.type === "string" && event.type.startsWith("handoff_")) {
    state.known.set(event.handoff.id, event.handoff);
    if (state.selected && event.handoff.id === state.selected.id) {
      state.selected = event.handoff;
      renderHeader();
    }
    scheduleRefresh();
    return;
  }
  if (event.type === "delivery") {
    showDelivery(event.delivery);
    return;
  }
  const message = event.message;
  if (!message || (event.type !== "customer_message" && event.type !== "message")) {
    return;
  }
  if (state.selected && message.conversation_id === state.selected.conversation_id) {
    addMessage(message);
  } else if (event.type === "customer_message" && isNews(message)) {
    state.unread.set(message.handoff_id, (state.unread.get(message.handoff_id) || 0) + 1);
    renderQueues();
  }
}

const feed = liveFeed({
  onOpen() {
    setLive(true);
    refreshQueues();
    if (state.selected) {
      loadTranscript();
    }
  },
  onEvent: handleEvent,
  onClose() {
    setLive(false);
    // An expired session shows up here first; the API call signs the agent out if so.
    refreshQueues();
  },
  onError: showError,
});

export const connectLive = feed.connect;
export const disconnectLive = feed.disconnect;
