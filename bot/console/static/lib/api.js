/*
 * The console's JSON API, called with the session's bearer token. A failed call throws an
 * ApiFailure carrying the API's error shape {"error": {"code", "message"}}; a 401 on a signed-in
 * page means the session ended (expired, logged out elsewhere, account changed), which the page
 * handles (see onSessionExpired).
 */

import { currentSession, endSession, startSession } from "./session.js";

const LOGIN_PATH = "/api/v1/auth/login";
const LOGOUT_PATH = "/api/v1/auth/logout";

let sessionExpired = () => {};

export class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Registers what the page does when the API rejects the session (it is passed a message). */
export function onSessionExpired(handler) {
  sessionExpired = handler;
}

export async function api(method, path, body) {
  const session = currentSession();
  const headers = { Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (session) {
    headers.Authorization = `Bearer ${session.token}`;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiFailure(0, "unreachable", "The console cannot be reached. Check the connection and try again.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    const detail = data && data.error ? data.error : {};
    const failure = new ApiFailure(
      response.status,
      detail.code || "http_error",
      detail.message || `The console answered HTTP ${response.status}.`,
    );
    if (response.status === 401 && currentSession() && path !== LOGIN_PATH && path !== LOGOUT_PATH) {
      sessionExpired(`${failure.message} Please sign in again.`);
    }
    throw failure;
  }
  return data;
}

/** Exchanges the credentials for a token and starts the session with it. */
export async function signIn(username, password) {
  const reply = await api("POST", LOGIN_PATH, { username, password });
  startSession({
    token: reply.token,
    username: reply.username,
    role: reply.role,
    staffId: typeof reply.staff_id === "number" ? reply.staff_id : null,
    claimed: [],
  });
}

/** Ends the session on the server, so the token is refused from now on, then forgets it here. */
export async function signOut() {
  try {
    await api("POST", LOGOUT_PATH);
  } catch (error) {
    // Unreachable or already ended: the session is forgotten here all the same.
  }
  endSession();
}

/** A one-time ticket for opening the live websocket: the session token stays out of URLs. */
export async function liveTicket() {
  const reply = await api("POST", "/api/v1/ws-ticket");
  return reply.ticket;
}
