/*
 * The selected handoff's conversation, from the bot's first message to the latest reply, with a
 * divider where it was handed off to a person.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import * as enums from "../lib/enums.js";
import { Sender } from "../lib/enums.js";
import { formatTime } from "../lib/format.js";
import { currentSession } from "../lib/session.js";
import { messageItem } from "../lib/transcript.js";
import { customerName } from "./handoff.js";
import { state } from "./state.js";

// What an agent reply whose delivery Rasa has not confirmed says, by delivery status.
const DeliveryStatus = enums.DeliveryStatus || {};
const DELIVERY_NOTES = new Map([
  [DeliveryStatus.PENDING, "Not delivered yet: retrying"],
  [DeliveryStatus.FAILED, "Not delivered: the customer's chat could not be reached"],
]);

// Within this many pixels of the end, the transcript counts as showing the latest message.
const AT_END_PX = 24;
let followsEnd = true;
// Set while the scroll event of our own jump to the end is still to come: that event says
// nothing about where the agent wants to read.
let ownScroll = false;

function scrollToEnd(list) {
  const before = list.scrollTop;
  list.scrollTop = list.scrollHeight;
  ownScroll = list.scrollTop !== before;
  followsEnd = true;
}

/**
 * Keeps the latest message in view when the transcript's box shrinks (an alert opening, the
 * reply box growing on a small screen), unless the agent has scrolled up to read.
 */
export function keepTranscriptAtEnd() {
  const list = $("transcript");
  list.addEventListener("scroll", () => {
    if (ownScroll) {
      ownScroll = false;
      return;
    }
    followsEnd = list.scrollHeight - list.scrollTop - list.clientHeight < AT_END_PX;
  });
  new ResizeObserver(() => {
    if (followsEnd) {
      scrollToEnd(list);
    }
  }).observe(list);
}

export function showTranscriptLoading() {
  $("transcript").replaceChildren(el("li", "loading", "Loading the transcript…"));
}

export async function loadTranscript() {
  const handoff = state.selected;
  try {
    const conversation = await api("GET", `/api/v1/conversations/${encodeURIComponent(handoff.conversation_id)}`);
    if (state.selected !== handoff) {
      return;
    }
    state.messages = conversation.messages || [];
    state.deliveries = new Map(
      (conversation.deliveries || [])
        .filter((delivery) => delivery.message_id !== null)
        .map((delivery) => [delivery.message_id, delivery]),
    );
    renderTranscript();
  } catch (error) {
    $("transcript").replaceChildren(el("li", "loading", "The transcript could not be loaded."));
    showError(error);
  }
}

/** Adds a message unless the transcript has it already (it may come both live and as a reply). */
export function addMessage(message) {
  if (state.messages.some((known) => known.id === message.id)) {
    return;
  }
  state.messages.push(message);
  appendToTranscript(message);
}

function renderTranscript() {
  const list = $("transcript");
  // A whole new transcript is not news for screen readers; only later additions are.
  list.setAttribute("aria-busy", "true");
  list.replaceChildren();
  for (const message of state.messages) {
    appendToTranscript(message);
  }
  if (!state.messages.length) {
    list.append(el("li", "loading", "No messages yet."));
  }
  list.setAttribute("aria-busy", "false");
}

function appendToTranscript(message) {
  const list = $("transcript");
  list.querySelectorAll(".loading").forEach((node) => node.remove());
  const handedOff = Date.parse(message.created_at) > Date.parse(state.selected.created_at);
  if (handedOff && !list.querySelector(".divider")) {
    list.append(el("li", "divider", "Handed off to a person"));
  }
  list.append(transcriptItem(message));
  scrollToEnd(list);
}

function speaker(message) {
  const session = currentSession();
  if (message.sender === Sender.AGENT && message.data && message.data.staff_id === session.staffId) {
    return `${session.username} (you)`;
  }
  const speakers = {
    [Sender.CUSTOMER]: customerName(state.selected),
    [Sender.BOT]: "Bot",
    [Sender.AGENT]: "Agent",
  };
  return speakers[message.sender] || message.sender;
}

function deliveryNote(message) {
  const delivery = state.deliveries.get(message.id);
  const note = delivery && DELIVERY_NOTES.get(delivery.status);
  return note ? el("span", `message-delivery delivery-${delivery.status}`, note) : null;
}

function transcriptItem(message) {
  const item = messageItem(message, speaker(message), formatTime(message.created_at));
  item.dataset.messageId = String(message.id);
  const note = deliveryNote(message);
  if (note) {
    item.append(note);
  }
  return item;
}

/** Shows a delivery's new status on its agent reply, if that reply is on screen. */
export function showDelivery(delivery) {
  if (!delivery || delivery.message_id === null || delivery.message_id === undefined) {
    return;
  }
  state.deliveries.set(delivery.message_id, delivery);
  const item = $("transcript").querySelector(`[data-message-id="${delivery.message_id}"]`);
  if (!item) {
    return;
  }
  item.querySelectorAll(".message-delivery").forEach((node) => node.remove());
  const note = deliveryNote({ id: delivery.message_id });
  if (note) {
    item.append(note);
  }
}
