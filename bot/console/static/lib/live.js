/*
 * The console's live feed (/api/v1/ws) for the signed-in staff member. A dropped connection
 * is retried with exponential backoff, at most MAX_RETRY_MS apart, while the session lasts.
 */

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

  function connect() {
    window.clearTimeout(retryTimer);
    const session = currentSession();
    if (!session) {
      return;
    }
    const url = new URL("/api/v1/ws", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", session.token);
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
      const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** retries);
      retries += 1;
      retryTimer = window.setTimeout(connect, delay);
    });
  }

  function disconnect() {
    window.clearTimeout(retryTimer);
    if (socket) {
      socket.close();
      socket = null;
    }
  }

  return { connect, disconnect };
}
