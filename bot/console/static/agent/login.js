/* Signing in and out, and switching between the login form and the console. */

import { clearAlert, showAlert, showError } from "../lib/alert.js";
import { signIn, signOut } from "../lib/api.js";
import { $ } from "../lib/dom.js";
import { currentSession, endSession } from "../lib/session.js";
import { connectLive, disconnectLive } from "./live.js";
import { refreshQueues } from "./queue.js";
import { state } from "./state.js";

export function showLogin(message) {
  $("console-view").hidden = true;
  $("login-view").hidden = false;
  $("who").hidden = true;
  $("logout").hidden = true;
  $("live-status").hidden = true;
  if (message) {
    showAlert(message, "error");
  }
  $("username").focus();
}

export function showConsole() {
  const session = currentSession();
  $("login-view").hidden = true;
  $("console-view").hidden = false;
  $("who").textContent = `${session.username} · ${session.role}`;
  $("who").hidden = false;
  $("logout").hidden = false;
  connectLive();
  refreshQueues();
}

export async function logIn(event) {
  event.preventDefault();
  clearAlert();
  try {
    await signIn($("username").value.trim(), $("password").value);
    $("password").value = "";
    showConsole();
  } catch (error) {
    showError(error);
    $("password").select();
  }
}

/** Leaves the console: `message` says why when the server ended the session. */
export function logOut(message) {
  endSession();
  disconnectLive();
  state.selected = null;
  showLogin(message);
}

/** The "Log out" button: the server ends the session first, so the token is dead at once. */
export async function logOutClicked() {
  disconnectLive();
  await signOut();
  logOut();
}
