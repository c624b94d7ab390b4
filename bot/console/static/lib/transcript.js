/*
 * One message of a transcript as a list item, as the agent console and the supervisors'
 * dashboard both show it: who said it and when, the text, and for a customer's message the
 * intent the bot read, its confidence and the sentiment.
 */

import { el } from "./dom.js";
import { Sender } from "./enums.js";
import { humanize, percent } from "./format.js";

/** `who` and `time` are the page's: its names for the speakers and its way of writing times. */
export function messageItem(message, who, time) {
  const item = el("li", `message from-${message.sender}`);
  const head = el("span", "message-head");
  head.append(el("span", "message-who", who), el("span", "message-time", time));
  item.append(head, el("p", "message-text", message.text || ""));
  if (message.sender === Sender.CUSTOMER && message.intent) {
    const facts = [`${humanize(message.intent)} ${percent(message.confidence)}`];
    if (typeof message.sentiment === "number") {
      facts.push(`sentiment ${message.sentiment.toFixed(2)}`);
    }
    item.append(el("span", "message-facts", facts.join(" · ")));
  }
  return item;
}
