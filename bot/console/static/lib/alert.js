/* The page's alert bar (#alert, #alert-text): errors, warnings and confirmations. */

import { ApiFailure } from "./api.js";
import { $ } from "./dom.js";

export function showAlert(message, kind) {
  $("alert").className = `alert alert-${kind}`;
  $("alert-text").textContent = message;
  $("alert").hidden = false;
}

export function clearAlert() {
  $("alert").hidden = true;
}

export function showError(error) {
  const message =
    error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error.message || error);
  showAlert(message, "error");
}
