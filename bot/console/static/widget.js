/*
 * Northwind chat widget: one script tag puts a chat panel on any page.
 *
 *   <script src="https://CONSOLE/widget.js" data-rasa-url="https://RASA"
 *           data-customer-token="SIGNED_TOKEN" defer></script>
 *
 * It talks to Rasa's socket.io channel with the socket.io client served next to this file.
 * The server issues the session id; the widget keeps it and the transcript in sessionStorage
 * (a reload continues the same conversation, closing the tab forgets it), and sends the
 * customer token with the session request and with every message, as the server checks
 * each one. What the customer typed is shown as pending until the server echoes it back
 * redacted: only that echo is stored, never the raw text. The panel lives in a shadow root
 * so the host page's styles cannot break it. Every text is set with textContent: nothing the
 * bot, an agent or the customer writes is ever parsed as HTML. On every (re)connect it sends
 * the server's `seq` of the last message it showed; the server replays what the bot and the
 * agents said after it, and an agent's message (which can come both live and replayed) is
 * shown once, by its id.
 *
 * Optional: data-title="Acme Bank" names the panel; window.northwindChat.open() and .close()
 * let the host page's own "Chat with us" links drive it.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.northwindChat) {
    return;
  }

  const ASSET_ORIGIN = new URL(script.src, window.location.href).origin;
  const RASA_URL = (script.dataset.rasaUrl || ASSET_ORIGIN).replace(/\/+$/, "");
  const CUSTOMER_TOKEN = script.dataset.customerToken || null;
  const TITLE = script.dataset.title || "Northwind Bank";
  const STORAGE_KEY = `northwind-chat:v2:${RASA_URL}`;
  // Earlier versions kept the raw transcript in localStorage: it is removed on sight.
  const LEGACY_STORAGE_KEY = `northwind-chat:v1:${RASA_URL}`;
  const MAX_STORED_MESSAGES = 200;
  const MAX_SEEN_IDS = 200;
  const MAX_MESSAGE_CHARS = 5000;
  const TYPING_TIMEOUT_MS = 8000;
  const CSAT_PAYLOAD = "/csat_score";
  // A signed token starts with its payload (the customer); the timestamp and signature after
  // the first dot change every time the site issues one, so only the payload names a person.
  const IDENTITY = CUSTOMER_TOKEN ? CUSTOMER_TOKEN.split(".")[0] : "";
  // What the customer is told when the server refuses a message, by the server's error code.
  const REFUSALS = new Map([
    ["invalid_customer_token", "Your sign-in has expired. Please reload the page to go on."],
    ["conversation_bound", "This chat belongs to a signed-in customer. Please reload the page."],
    ["rate_limited", "You are sending messages very quickly. Please wait a moment and try again."],
  ]);
  const REFUSED = "Your message could not be sent. Please try again.";
  const GREETING =
    `Hi! I'm the ${TITLE} assistant. Ask me about your cards, payments or transfers, ` +
    "or ask for a person at any time.";

  const state = loadState();
  const outbox = [];
  // Sent messages the server has not echoed yet: shown, not stored.
  const pending = [];
  let ui = null;
  let socket = null;
  let sessionConfirmed = false;
  let connecting = null;
  let typingTimer = null;

  window.northwindChat = {
    open: () => ui && setOpen(true),
    close: () => ui && setOpen(false),
  };

  // ---------------------------------------------------------------- state

  function emptyState() {
    return {
      sessionId: null,
      identity: IDENTITY,
      open: false,
      unread: 0,
      agent: null,
      messages: [],
      lastSeq: null,
      seenIds: [],
    };
  }

  function loadState() {
    try {
      window.localStorage.removeItem(LEGACY_STORAGE_KEY);
      const saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && saved.identity === IDENTITY && Array.isArray(saved.messages)) {
        return { ...emptyState(), ...saved };
      }
    } catch (error) {
      // Storage disabled or corrupt: this page view starts a new conversation.
    }
    return emptyState();
  }

  function saveState() {
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) {
      // Storage full or disabled: the conversation still works, it just won't survive a reload.
    }
  }

  // ---------------------------------------------------------------- interface

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function buildInterface() {
    const host = el("div");
    host.id = "northwind-chat";
    const shadow = host.attachShadow({ mode: "open" });

    const stylesheet = el("link");
    stylesheet.rel = "stylesheet";
    stylesheet.href = `${ASSET_ORIGIN}/static/widget.css`;

    const root = el("div", "nw-root");
    root.hidden = true;
    const reveal = () => {
      root.hidden = false;
      scroller.scrollTop = scroller.scrollHeight;
    };
    stylesheet.addEventListener("load", reveal);
    stylesheet.addEventListener("error", reveal);

    const panel = el("section", "nw-panel");
    panel.id = "nw-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", `Chat with ${TITLE}`);
    panel.hidden = true;

    const header = el("header", "nw-header");
    const avatar = el("span", "nw-avatar", TITLE.slice(0, 1));
    avatar.setAttribute("aria-hidden", "true");
    const heading = el("div", "nw-heading");
    const title = el("h2", "nw-title", TITLE);
    const status = el("p", "nw-status", "Assistant");
    heading.append(title, status);
    const close = el("button", "nw-close");
    close.type = "button";
    close.setAttribute("aria-label", "Minimise chat");
    close.append(el("span", "nw-close-icon"));
    header.append(avatar, heading, close);

    const scroller = el("div", "nw-scroll");
    const log = el("div", "nw-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Conversation");
    const typing = el("div", "nw-typing");
    typing.hidden = true;
    typing.setAttribute("aria-hidden", "true");
    typing.append(el("span"), el("span"), el("span"));
    // The panel never opens on silence: a greeting heads the conversation, before the
    // customer has said anything. It is the widget's own (not a bot message, not stored),
    // so it costs no request and shows even while the connection is still being made.
    const welcome = el("div", "nw-msg nw-welcome");
    welcome.append(el("span", "nw-sr-only", `${SPEAKERS.bot}:`), el("p", "nw-bubble", GREETING));
    scroller.append(welcome, log, typing);

    const form = el("form", "nw-form");
    const label = el("label", "nw-sr-only", "Your message");
    label.htmlFor = "nw-input";
    const input = el("input", "nw-input");
    input.id = "nw-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = MAX_MESSAGE_CHARS;
    input.placeholder = "Type your message…";
    const sendButton = el("button", "nw-send", "Send");
    sendButton.type = "submit";
    form.append(label, input, sendButton);

    panel.append(header, scroller, form);

    const launcher = el("button", "nw-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-controls", "nw-panel");
    launcher.setAttribute("aria-expanded", "false");
    const icon = el("span", "nw-launcher-icon");
    icon.setAttribute("aria-hidden", "true");
    const launcherLabel = el("span", "nw-launcher-label", "Chat with us");
    const badge = el("span", "nw-badge");
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    launcher.append(icon, launcherLabel, badge);

    root.append(panel, launcher);
    shadow.append(stylesheet, root);
    document.body.append(host);

    launcher.addEventListener("click", () => setOpen(panel.hidden));
    close.addEventListener("click", () => setOpen(false));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        setOpen(false);
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text) {
        input.value = "";
        send(text, text);
      }
    });

    return { panel, status, scroller, log, typing, input, launcher, launcherLabel, badge };
  }

  function setOpen(open) {
    state.open = open;
    if (open) {
      state.unread = 0;
    }
    saveState();
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.classList.toggle("nw-launcher-open", open);
    ui.launcherLabel.textContent = open ? "Close chat" : "Chat with us";
    renderBadge();
    if (open) {
      scrollToEnd();
      ui.input.focus();
      connect();
    } else {
      ui.launcher.focus();
    }
  }

  function renderBadge() {
    const unread = state.open ? 0 : state.unread;
    ui.badge.hidden = unread === 0;
    ui.badge.textContent = String(unread);
    if (unread) {
      const plural = unread === 1 ? "" : "s";
      ui.launcher.setAttribute("aria-label", `Chat with us, ${unread} new message${plural}`);
    } else {
      ui.launcher.removeAttribute("aria-label");
    }
  }

  function renderStatus(text) {
    if (text) {
      ui.status.textContent = text;
    } else if (state.agent) {
      ui.status.textContent = `${state.agent} from our team is helping you`;
    } else {
      ui.status.textContent = "Assistant, replies instantly";
    }
    ui.status.classList.toggle("nw-status-agent", !text && Boolean(state.agent));
  }

  function scrollToEnd() {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  // ---------------------------------------------------------------- messages

  const SPEAKERS = { customer: "You", bot: "Assistant", system: "Notice" };

  function renderMessage(message, isLast) {
    const row = el("div", `nw-msg nw-from-${message.from}`);
    if (message.from === "agent") {
      row.append(el("span", "nw-who", `${message.agent || "Agent"} · ${TITLE} team`));
    } else {
      row.append(el("span", "nw-sr-only", `${SPEAKERS[message.from] || ""}:`));
    }
    if (message.text) {
      row.append(el("p", "nw-bubble", message.text));
    }
    if (message.image) {
      const image = el("img", "nw-image");
      image.alt = "";
      image.src = message.image;
      row.append(image);
    }
    if (isLast && message.buttons && message.buttons.length) {
      row.append(renderButtons(message.buttons));
    }
    return row;
  }

  function renderButtons(buttons) {
    const csat = buttons.every((button) => button.payload.startsWith(CSAT_PAYLOAD));
    const group = el("div", csat ? "nw-replies nw-csat" : "nw-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", csat ? "Rate the help you got" : "Suggested replies");
    const row = csat ? el("div", "nw-csat-scale") : group;
    for (const button of buttons) {
      const node = el("button", "nw-reply", button.title);
      node.type = "button";
      if (csat) {
        node.setAttribute("aria-label", `${button.title} out of ${buttons.length}`);
      }
      node.addEventListener("click", () => send(button.payload, button.title));
      row.append(node);
    }
    if (csat) {
      const legend = el("div", "nw-csat-legend");
      legend.setAttribute("aria-hidden", "true");
      legend.append(el("span", null, "Poor"), el("span", null, "Excellent"));
      group.append(row, legend);
    }
    return group;
  }

  function renderAll() {
    // Re-rendering the stored transcript is not news for screen readers; new messages are.
    ui.log.setAttribute("aria-busy", "true");
    ui.log.replaceChildren(
      ...state.messages.map((message, index) =>
        renderMessage(message, index === state.messages.length - 1),
      ),
    );
    ui.log.setAttribute("aria-busy", "false");
    renderStatus();
    renderBadge();
    scrollToEnd();
  }

  function removeReplies() {
    ui.log.querySelectorAll(".nw-replies").forEach((group) => group.remove());
  }

  function addMessage(message) {
    removeReplies();
    state.messages.push(message);
    ui.log.append(renderMessage(message, true));
    if (!state.open && message.from !== "customer") {
      state.unread += 1;
      renderBadge();
    }
    saveState();
    scrollToEnd();
  }

  function buttonsOf(data) {
    const raw = Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons;
    if (!Array.isArray(raw)) {
      return [];
    }
    return raw
      .filter((button) => button && typeof button.title === "string")
      .map((button) => ({
        title: button.title,
        payload: typeof button.payload === "string" ? button.payload : button.title,
      }));
  }

  function imageOf(data) {
    const attachment = data.attachment;
    const source =
      (typeof data.image === "string" && data.image) ||
      (attachment && attachment.type === "image" && attachment.payload && attachment.payload.src);
    return typeof source === "string" && /^https?:\/\//i.test(source) ? source : null;
  }

  // The server's place in the conversation: where a replay after a reconnect starts.
  function advance(data) {
    if (data && typeof data.seq === "number" && !(state.lastSeq >= data.seq)) {
      state.lastSeq = data.seq;
    }
  }

  // An agent's message (by its CRM id) already shown: it may arrive live and replayed too.
  function alreadyShown(data) {
    const id = data.message_id;
    if (typeof id !== "number") {
      return false;
    }
    if (state.seenIds.includes(id)) {
      return true;
    }
    state.seenIds = [...state.seenIds, id].slice(-MAX_SEEN_IDS);
    return false;
  }

  function receive(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    advance(data);
    if (alreadyShown(data)) {
      saveState();
      return;
    }
    const fromAgent = data.sender === "agent";
    const message = {
      from: fromAgent ? "agent" : "bot",
      text: typeof data.text === "string" ? data.text : "",
      buttons: buttonsOf(data),
      image: imageOf(data),
      at: new Date().toISOString(),
    };
    if (!message.text && !message.buttons.length && !message.image) {
      return;
    }
    if (fromAgent) {
      message.agent = typeof data.agent === "string" && data.agent ? data.agent : "Agent";
    }
    state.agent = fromAgent ? message.agent : null;
    setTyping(false);
    addMessage(message);
    renderStatus();
  }

  function setTyping(on) {
    window.clearTimeout(typingTimer);
    ui.typing.hidden = !on;
    if (on) {
      typingTimer = window.setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  function send(payload, shownText) {
    removeReplies();
    const node = renderMessage({ from: "customer", text: shownText }, false);
    node.classList.add("nw-pending");
    ui.log.append(node);
    scrollToEnd();
    pending.push({ payload, shownText, node });
    outbox.push(payload);
    // A person types more slowly than the bot answers: only the bot gets the typing dots.
    setTyping(!state.agent);
    connect();
    flush();
  }

  function echoed(data) {
    const sent = pending.shift();
    if (!sent) {
      return;
    }
    sent.node.remove();
    advance(data);
    // A typed message is stored as the server redacted it; a button as its own title.
    const typed = sent.payload === sent.shownText;
    const text = typed && data && typeof data.text === "string" ? data.text : sent.shownText;
    addMessage({ from: "customer", text, at: new Date().toISOString() });
  }

  function refused(data) {
    const sent = pending.shift();
    if (sent) {
      sent.node.remove();
    }
    setTyping(false);
    const code = data && data.error && data.error.code;
    notice(REFUSALS.get(code) || REFUSED);
  }

  function flush() {
    if (!socket || !socket.connected || !sessionConfirmed) {
      return;
    }
    while (outbox.length) {
      socket.emit("user_uttered", {
        message: outbox.shift(),
        metadata: CUSTOMER_TOKEN ? { customer_token: CUSTOMER_TOKEN } : {},
      });
    }
  }

  function notice(text) {
    addMessage({ from: "system", text, at: new Date().toISOString() });
  }

  // ---------------------------------------------------------------- transport

  function loadSocketIo() {
    return new Promise((resolve, reject) => {
      const previous = window.io;
      const tag = el("script");
      tag.src = `${ASSET_ORIGIN}/static/vendor/socket.io.min.js`;
      tag.async = true;
      tag.addEventListener("load", () => {
        const io = window.io;
        // Leave the host page's own `io` (if any) as it was.
        if (previous === undefined) {
          delete window.io;
        } else {
          window.io = previous;
        }
        if (typeof io === "function") {
          resolve(io);
        } else {
          reject(new Error("the socket.io client did not load"));
        }
      });
      tag.addEventListener("error", () => reject(new Error("the socket.io client is missing")));
      document.head.append(tag);
    });
  }

  function connect() {
    if (!connecting) {
      connecting = loadSocketIo().then(openSocket, () => {
        connecting = null;
        notice("The chat is unavailable right now. Please try again later.");
      });
    }
    return connecting;
  }

  function openSocket(io) {
    socket = io(RASA_URL, {
      path: "/socket.io",
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    socket.on("connect", () => {
      sessionConfirmed = false;
      socket.emit("session_request", {
        session_id: state.sessionId,
        customer_token: CUSTOMER_TOKEN,
        last_seq: state.lastSeq,
      });
    });
    socket.on("session_confirm", (confirmed) => {
      const sessionId = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
      if (!sessionId) {
        return;
      }
      if (state.sessionId && state.sessionId !== sessionId) {
        state.messages = [];
        state.agent = null;
        state.lastSeq = null;
        state.seenIds = [];
        renderAll();
      }
      state.sessionId = sessionId;
      sessionConfirmed = true;
      saveState();
      renderStatus();
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("user_echo", echoed);
    socket.on("message_refused", refused);
    socket.on("disconnect", () => {
      sessionConfirmed = false;
      renderStatus("Reconnecting…");
    });
    socket.on("connect_error", () => renderStatus("Can't reach the assistant, retrying…"));
  }

  // ---------------------------------------------------------------- start

  function boot() {
    ui = buildInterface();
    renderAll();
    if (state.open) {
      ui.panel.hidden = false;
      ui.launcher.setAttribute("aria-expanded", "true");
      ui.launcher.classList.add("nw-launcher-open");
      ui.launcherLabel.textContent = "Close chat";
    }
    // A returning customer reconnects at once, so an agent's reply reaches a closed panel too.
    if (state.sessionId || state.open) {
      connect();
    }
  }

  if (document.body) {
    boot();
  } else {
    document.addEventListener("DOMContentLoaded", boot);
  }
})();
