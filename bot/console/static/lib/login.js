/*
 * Signing staff in and out on a console page. The page has the login form (#login-view,
 * #login-form, #username, #password), the top bar's #who and #logout, and one view for the
 * signed-in staff member; what else it does on entering and leaving is passed in.
 */

import { clearAlert, showAlert, showError } from "./alert.js";
import { signIn, signOut } from "./api.js";
import { $ } from "./dom.js";
import { currentSession, endSession } from "./session.js";

/**
 * view: the id of the signed-in view; hiddenWhenOut: ids also hidden on the login form;
 * onEnter(session) once the view is shown; onLeave() before the session is forgotten.
 */
export function staffLogin({ view, hiddenWhenOut = [], onEnter, onLeave }) {
  function showLogin(message) {
    for (const id of [view, ...hiddenWhenOut, "who", "logout"]) {
      $(id).hidden = true;
    }
    $("login-view").hidden = false;
    if (message) {
      showAlert(message, "error");
    }
    $("username").focus();
  }

  function showPage() {
    const session = currentSession();
    $("login-view").hidden = true;
    $(view).hidden = false;
    $("who").textContent = `${session.username} · ${session.role}`;
    $("who").hidden = false;
    $("logout").hidden = false;
    onEnter(session);
  }

  async function logIn(event) {
    event.preventDefault();
    clearAlert();
    try {
      await signIn($("username").value.trim(), $("password").value);
      $("password").value = "";
      showPage();
    } catch (error) {
      showError(error);
      $("password").select();
    }
  }

  /** Leaves the page's view: `message` says why when the server ended the session. */
  function logOut(message) {
    endSession();
    onLeave();
    showLogin(message);
  }

  /** The "Log out" button: the server ends the session first, so the token is dead at once. */
  async function logOutClicked() {
    onLeave();
    await signOut();
    logOut();
  }

  return { showLogin, showPage, logIn, logOut, logOutClicked };
}
