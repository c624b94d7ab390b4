/* A conversation's transcript (GET /api/v1/conversations/{id}) in a list, read-only. */

import { api } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { Sender } from "../lib/enums.js";
import { messageItem } from "../lib/transcript.js";

const SPEAKERS = { [Sender.CUSTOMER]: "Customer", [Sender.BOT]: "Bot", [Sender.AGENT]: "Agent" };

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ""
    : date.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function transcriptItem(message) {
  return messageItem(message, SPEAKERS[message.sender] || message.sender, when(message.created_at));
}

/** Loads the conversation into `list` and returns it (its channel, status, handoff...). */
export async function showTranscript(list, conversationId) {
  list.setAttribute("aria-busy", "true");
  list.replaceChildren(el("li", "loading", "Loading the transcript…"));
  try {
    const conversation = await api("GET", `/api/v1/conversations/${encodeURIComponent(conversationId)}`);
    list.replaceChildren(...conversation.messages.map(transcriptItem));
    if (!conversation.messages.length) {
      list.append(el("li", "loading", "No messages."));
    }
    return conversation;
  } catch (error) {
    list.replaceChildren(el("li", "loading", `The transcript could not be loaded: ${error.message}`));
    return null;
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}
