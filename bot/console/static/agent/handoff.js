/* How the console names a handoff's customer and priority, and whether the handoff is this agent's. */

import { TicketStatus } from "../lib/enums.js";
import { currentSession } from "../lib/session.js";

const HONORIFIC = /^(mr|mrs|ms|miss|mx|dr|prof)\.?\s+/i;
const PRIORITIES = { 1: "Urgent", 2: "High", 3: "Normal" };

export function priorityLabel(priority) {
  return PRIORITIES[priority] || `P${priority}`;
}

export function customerName(handoff) {
  const customer = handoff.packet && handoff.packet.customer;
  if (customer && customer.name) {
    return customer.name;
  }
  return handoff.customer_id ? `Customer #${handoff.customer_id}` : "Anonymous customer";
}

export function firstName(fullName) {
  const words = String(fullName).replace(HONORIFIC, "").split(/\s+/);
  return words[0] || "there";
}

export function isMine(handoff) {
  const session = currentSession();
  if (!session || handoff.status !== TicketStatus.CLAIMED) {
    return false;
  }
  // The staff id from login decides: a handoff reassigned away is no longer this agent's,
  // even if they claimed it earlier in this session.
  const known = session.staffId !== null && session.staffId !== undefined;
  return known ? handoff.assigned_to === session.staffId : session.claimed.includes(handoff.id);
}
