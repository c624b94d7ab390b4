/*
 * The signed-in staff member, kept in sessionStorage: closing the tab logs out, a reload
 * does not. Every console page shares it.
 */

import { StaffRole } from "./enums.js";

const SESSION_KEY = "northwind-agent-session";

let current = loadSession();

function loadSession() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
    if (!saved || !saved.token) {
      return null;
    }
    return { ...saved, claimed: Array.isArray(saved.claimed) ? saved.claimed : [] };
  } catch (error) {
    return null;
  }
}

/** The session ({token, username, role, staffId, claimed}), or null when signed out. */
export function currentSession() {
  return current;
}

/** Stores the session again after a change to its fields. */
export function saveSession() {
  try {
    window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(current));
  } catch (error) {
    // Storage disabled: the session lasts until this page is reloaded.
  }
}

/** Supervisors and admins: they see handoffs claimed by others and the supervisors' dashboard. */
export function isSupervisor() {
  return Boolean(current && (current.role === StaffRole.SUPERVISOR || current.role === StaffRole.ADMIN));
}

export function startSession(session) {
  current = session;
  saveSession();
}

export function endSession() {
  current = null;
  try {
    window.sessionStorage.removeItem(SESSION_KEY);
  } catch (error) {
    // Nothing stored.
  }
}
