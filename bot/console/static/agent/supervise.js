/*
 * A supervisor's hold on handoffs claimed by others: release one back to the queue, or
 * reassign it to another active staff member (both audited by the API). Hidden for agents.
 */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { TicketStatus } from "../lib/enums.js";
import { isSupervisor } from "../lib/session.js";
import { isMine } from "./handoff.js";
import { state } from "./state.js";

let staff = null;

async function loadStaff() {
  if (staff === null) {
    staff = (await api("GET", "/api/v1/staff")).staff.filter((member) => member.active);
  }
  return staff;
}

/** Shows Release and Reassign for a handoff another staff member holds, to supervisors only. */
export async function renderSupervision() {
  const handoff = state.selected;
  const box = $("supervise");
  const show = Boolean(handoff) && isSupervisor() && handoff.status === TicketStatus.CLAIMED && !isMine(handoff);
  if (!show) {
    box.hidden = true;
    return;
  }
  let members = [];
  try {
    members = await loadStaff();
  } catch (error) {
    showError(error);
  }
  const holder = members.find((member) => member.id === handoff.assigned_to);
  $("supervise-holder").textContent = `Claimed by ${holder ? holder.username : `staff #${handoff.assigned_to}`}.`;
  const choices = members.filter((member) => member.id !== handoff.assigned_to);
  $("reassign-to").replaceChildren(
    ...choices.map((member) => {
      const option = el("option", null, `${member.username} (${member.role})`);
      option.value = String(member.id);
      return option;
    }),
  );
  $("reassign").disabled = choices.length === 0;
  // Shown only once it names the holder: a box that appears blank first reads as "nobody".
  box.hidden = false;
}

async function act(path, body, done, refresh) {
  const handoff = state.selected;
  try {
    const changed = await api("POST", `/api/v1/handoffs/${handoff.id}/${path}`, body);
    clearAlert();
    showAlert(done, "success");
    if (state.selected && state.selected.id === changed.id) {
      state.selected = changed;
    }
  } catch (error) {
    showError(error);
  }
  refresh();
}

/** Wires the Release and Reassign buttons; `refresh` redraws the header and the queues. */
export function setUpSupervision(refresh) {
  $("release").addEventListener("click", () =>
    act("release", undefined, "Released: the handoff is back in the queue.", refresh),
  );
  $("reassign").addEventListener("click", () => {
    const select = $("reassign-to");
    const name = select.selectedOptions.length ? select.selectedOptions[0].textContent : "";
    act("reassign", { staff_id: Number(select.value) }, `Reassigned to ${name}.`, refresh);
  });
}
