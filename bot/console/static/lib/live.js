/*
 * The console's live feed (/api/v1/ws) for the signed-in staff member, opened with a one-time
 * ticket (the session token never goes in the URL). A dropped connection, or a ticket that
 * could not be had, is retried with exponential backoff, at most MAX_RETRY_MS apart, while
 * the session lasts.
 */

import { liveTicket } from "./api.js";
import { currentSession } from "./session.js";

const MAX_RETRY_MS = 30000;

/**
 * handlers: onOpen(), onEvent(event) with each parsed message, onClose() before a retry,
 * onError(error) when a message cannot be parsed or handled.
 */
export function liveFeed({ onOpen, onEvent, onClose, onError }) {
  let socket = null;
  let retries = 0;
  let retryTimer = null;
  // Bumped by every connect and disconnect: a ticket that arrives for an older one is dropped.
  let generation = 0;

  function retry() {
    const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** retries);
    retries += 1;
    retryTimer = window.setTimeout(connect, delay);
  }

  async function connect() {
    window.clearTimeout(retryTimer);
    generation += 1;
    const current = generation;
    if (!currentSession()) {
      return;
    }
    let ticket;
    try {
      ticket = await liveTicket();
    } catch (error) {
      // A 401 has signed the agent out already (see onSessionExpired); anything else is retried.
      if (current === generation && currentSession()) {
        retry();
      }
      return;
    }
    if (current !== generation) {
      return;
    }
    const url = new URL("/api/v1/ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    const live = new WebSocket(url);
    socket = live;
    live.addEventListener("open", () => {
      retries = 0;
      onOpen();
    });
    live.addEventListener("message", (event) => {
      try {
        onEvent(JSON.parse(event.data));
      } catch (error) {
        onError(error);
      }
    });
    live.addEventListener("close", () => {
      if (socket !== live || !currentSession()) {
        return;
      }
      onClose();
      retry();
    });
  }

  function disconnect() {
    window.clearTimeout(retryTimer);
    generation += 1;
    if (socket) {
      socket.close();
      socket = null;
    }
  }

  return { connect, disconnect };
}
