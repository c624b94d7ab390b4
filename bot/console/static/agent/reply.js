/*
 * Working on the selected handoff: claiming it, replying (typed or canned) and resolving it,
 * optionally handing the customer back to the bot.
 */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { currentSession, saveSession } from "../lib/session.js";
import { firstName } from "./handoff.js";
import { renderHeader } from "./header.js";
import { scheduleRefresh } from "./queue.js";
import { state } from "./state.js";
import { addMessage, showDelivery } from "./transcript.js";

const CANNED_REPLIES = [
  {
    label: "Greeting",
    text: "Hi {name}, I'm {agent} from the Northwind team. I've read your conversation with our assistant, so there's no need to repeat anything.",
  },
  { label: "Checking", text: "Thanks, let me check that for you. It will take a minute." },
  {
    label: "Card replaced",
    text: "I've blocked the card so nobody can use it, and a replacement is on its way: it usually arrives within 3 to 5 working days.",
  },
  { label: "Anything else?", text: "Is there anything else I can help you with today?" },
  {
    label: "Closing",
    text: "Thanks for your patience, {name}. I'm closing this chat now; the assistant will ask you for a quick rating.",
  },
];

async function claim() {
  const handoff = state.selected;
  try {
    const claimed = await api("POST", `/api/v1/handoffs/${handoff.id}/claim`);
    const session = currentSession();
    session.staffId = claimed.assigned_to;
    session.claimed.push(claimed.id);
    saveSession();
    clearAlert();
    if (state.selected && state.selected.id === claimed.id) {
      state.selected = claimed;
      renderHeader();
      $("reply").focus();
    }
  } catch (error) {
    showError(error);
  }
  scheduleRefresh();
}

async function sendReply(event) {
  event.preventDefault();
  const box = $("reply");
  const text = box.value.trim();
  if (!text || !state.selected) {
    return;
  }
  try {
    const reply = await api("POST", `/api/v1/handoffs/${state.selected.id}/messages`, { text });
    box.value = "";
    if (reply.message && reply.message.conversation_id === state.selected.conversation_id) {
      if (reply.delivery) {
        state.deliveries.set(reply.message.id, reply.delivery);
      }
      addMessage(reply.message);
      showDelivery(reply.delivery);
    }
    if (reply.delivered === false) {
      showAlert("Saved. The chat service is not answering: your reply goes out when it is back.", "warning");
    } else {
      clearAlert();
    }
  } catch (error) {
    showError(error);
  }
}

async function resolve(event) {
  event.preventDefault();
  const resolution = $("resolution").value.trim();
  if (!resolution || !state.selected) {
    return;
  }
  try {
    const reply = await api("POST", `/api/v1/handoffs/${state.selected.id}/resolve`, {
      resolution,
      return_to_bot: $("return-to-bot").checked,
    });
    $("resolution").value = "";
    state.selected = reply.handoff;
    renderHeader();
    if (reply.bot_resumed) {
      showAlert("Resolved. The customer is back with the bot, which asks them for a rating.", "success");
    } else if ((reply.deliveries || []).length) {
      showAlert("Resolved. The chat service is not answering: the bot takes over when it is back.", "warning");
    } else {
      showAlert("Resolved and closed. The bot stays out of this conversation.", "success");
    }
  } catch (error) {
    showError(error);
  }
  scheduleRefresh();
}

function fillCanned(template) {
  const customer = state.selected && state.selected.packet && state.selected.packet.customer;
  const name = customer && customer.name ? firstName(customer.name) : "there";
  const box = $("reply");
  box.value = template.replace(/\{name\}/g, name).replace(/\{agent\}/g, currentSession().username);
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

/** Wires the Claim button, the canned replies and the reply and resolve forms. */
export function setUpReplies() {
  $("claim").addEventListener("click", claim);
  $("reply-form").addEventListener("submit", sendReply);
  $("resolve-form").addEventListener("submit", resolve);
  $("reply").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  for (const canned of CANNED_REPLIES) {
    const button = el("button", "canned-reply", canned.label);
    button.type = "button";
    button.title = canned.text;
    button.addEventListener("click", () => fillCanned(canned.text));
    $("canned").append(button);
  }
}
