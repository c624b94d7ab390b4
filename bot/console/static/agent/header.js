/*
 * The selected handoff's header: who and what it is, and which of Claim, the composer or a
 * note on its state the agent sees.
 */

import { $ } from "../lib/dom.js";
import { TicketStatus } from "../lib/enums.js";
import { formatTime } from "../lib/format.js";
import { customerName, isMine, priorityLabel } from "./handoff.js";
import { state } from "./state.js";
import { renderSupervision } from "./supervise.js";

export function renderHeader() {
  const handoff = state.selected;
  $("conversation-heading").textContent = `${customerName(handoff)}: ${handoff.subject || "handoff"}`;
  const parts = [
    `Handoff #${handoff.id}`,
    `conversation ${handoff.conversation_id}`,
    `${priorityLabel(handoff.priority)} priority`,
    `opened ${formatTime(handoff.created_at)}`,
  ];
  $("conversation-meta").textContent = parts.join(" · ");
  $("claim").hidden = handoff.status !== TicketStatus.OPEN;
  const mine = isMine(handoff);
  $("composer").hidden = !mine;
  const note = $("state-note");
  note.hidden = mine || handoff.status === TicketStatus.OPEN;
  if (handoff.status === TicketStatus.RESOLVED) {
    note.textContent = `Resolved: ${handoff.resolution || "no note"}`;
  } else if (handoff.status === TicketStatus.CLAIMED && !mine) {
    note.textContent = "Another agent has claimed this handoff.";
  }
  renderSupervision();
}
