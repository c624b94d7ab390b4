/*
 * The agent console: the handoff queue, the transcript beside the handoff packet, live updates
 * over the console's websocket, replies, canned replies and resolving.
 *
 * Everything goes through the JSON API with the staff token kept in sessionStorage (closing
 * the tab logs out). All text is set with textContent, never parsed as HTML.
 */
(() => {
  "use strict";

  const SESSION_KEY = "northwind-agent-session";
  const AGE_REFRESH_MS = 30000;
  const MAX_RETRY_MS = 30000;
  const REASONS = {
    customer_request: "The customer asked for a person",
    frustration: "The customer is frustrated",
    repeated_fallback: "The bot did not understand twice",
    segment_strategy: "The customer's segment goes to a person",
  };
  const HONORIFIC = /^(mr|mrs|ms|miss|mx|dr|prof)\.?\s+/i;
  const PRIORITIES = { 1: "Urgent", 2: "High", 3: "Normal" };
  const CANNED_REPLIES = [
    {
      label: "Greeting",
      text: "Hi {name}, I'm {agent} from the Northwind team. I've read your conversation with our assistant, so there's no need to repeat anything.",
    },
    { label: "Checking", text: "Thanks, let me check that for you. It will take a minute." },
    {
      label: "Card replaced",
      text: "I've blocked the card so nobody can use it, and a replacement is on its way: it usually arrives within 3 to 5 working days.",
    },
    { label: "Anything else?", text: "Is there anything else I can help you with today?" },
    {
      label: "Closing",
      text: "Thanks for your patience, {name}. I'm closing this chat now; the assistant will ask you for a quick rating.",
    },
  ];

  const $ = (id) => document.getElementById(id);
  let session = loadSession();
  let queues = { open: [], claimed: [] };
  let selected = null;
  let messages = [];
  let socket = null;
  let retries = 0;
  let retryTimer = null;
  let refreshTimer = null;
  const unread = new Map();
  const known = new Map();

  // ---------------------------------------------------------------- helpers

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

  function loadSession() {
    try {
      return JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function saveSession() {
    try {
      window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    } catch (error) {
      // Storage disabled: the session lasts until this page is reloaded.
    }
  }

  function formatAge(iso) {
    const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
    if (Number.isNaN(minutes)) {
      return "";
    }
    if (minutes < 1) {
      return "less than a minute";
    }
    if (minutes < 60) {
      return `${minutes} min`;
    }
    const hours = Math.floor(minutes / 60);
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime())
      ? ""
      : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function percent(value) {
    return typeof value === "number" ? `${Math.round(value * 100)}%` : "n/a";
  }

  function humanize(name) {
    return String(name || "unknown").replace(/_/g, " ");
  }

  function customerName(handoff) {
    const customer = handoff.packet && handoff.packet.customer;
    if (customer && customer.name) {
      return customer.name;
    }
    return handoff.customer_id ? `Customer #${handoff.customer_id}` : "Anonymous customer";
  }

  function firstName(fullName) {
    const words = String(fullName).replace(HONORIFIC, "").split(/\s+/);
    return words[0] || "there";
  }

  function isMine(handoff) {
    return Boolean(
      session &&
        handoff.status === "claimed" &&
        (handoff.assigned_to === session.staffId || session.claimed.includes(handoff.id)),
    );
  }

  // ---------------------------------------------------------------- API

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
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
      if (response.status === 401 && session && path !== "/api/v1/auth/login") {
        logOut(`${failure.message} Please sign in again.`);
      }
      throw failure;
    }
    return data;
  }

  function showError(error) {
    const message =
      error instanceof ApiFailure ? `${error.message} (${error.code})` : String(error.message || error);
    showAlert(message, "error");
  }

  function showAlert(message, kind) {
    $("alert").className = `alert alert-${kind}`;
    $("alert-text").textContent = message;
    $("alert").hidden = false;
  }

  function clearAlert() {
    $("alert").hidden = true;
  }

  // ---------------------------------------------------------------- login

  function showLogin(message) {
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

  async function logIn(event) {
    event.preventDefault();
    clearAlert();
    try {
      const reply = await api("POST", "/api/v1/auth/login", {
        username: $("username").value.trim(),
        password: $("password").value,
      });
      session = {
        token: reply.token,
        username: reply.username,
        role: reply.role,
        staffId: typeof reply.staff_id === "number" ? reply.staff_id : null,
        claimed: [],
      };
      saveSession();
      $("password").value = "";
      showConsole();
    } catch (error) {
      showError(error);
      $("password").select();
    }
  }

  function logOut(message) {
    session = null;
    try {
      window.sessionStorage.removeItem(SESSION_KEY);
    } catch (error) {
      // Nothing stored.
    }
    window.clearTimeout(retryTimer);
    if (socket) {
      socket.close();
      socket = null;
    }
    selected = null;
    showLogin(message);
  }

  function showConsole() {
    $("login-view").hidden = true;
    $("console-view").hidden = false;
    $("who").textContent = `${session.username} · ${session.role}`;
    $("who").hidden = false;
    $("logout").hidden = false;
    connectLive();
    refreshQueues();
  }

  // ---------------------------------------------------------------- queue

  async function refreshQueues() {
    try {
      const [open, claimed] = await Promise.all([
        api("GET", "/api/v1/handoffs?status=open"),
        api("GET", "/api/v1/handoffs?status=claimed"),
      ]);
      queues = { open: open.handoffs, claimed: claimed.handoffs };
      for (const handoff of [...queues.open, ...queues.claimed]) {
        known.set(handoff.id, handoff);
      }
    } catch (error) {
      if (session) {
        showError(error);
      }
      return;
    }
    if (selected) {
      const fresh = [...queues.open, ...queues.claimed].find((h) => h.id === selected.id);
      if (fresh) {
        selected = fresh;
        renderHeader();
      }
    }
    renderQueues();
  }

  function scheduleRefresh() {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(refreshQueues, 100);
  }

  function renderQueues() {
    const focused = document.activeElement && document.activeElement.dataset.handoffId;
    renderList("open", queues.open);
    renderList("mine", queues.claimed.filter(isMine));
    if (focused) {
      const again = document.querySelector(`.handoff[data-handoff-id="${CSS.escape(focused)}"]`);
      if (again) {
        again.focus();
      }
    }
    const waiting = queues.open.length;
    document.title = `${waiting ? `(${waiting}) ` : ""}Agent console · Northwind Bank`;
  }

  function renderList(name, handoffs) {
    $(`${name}-list`).replaceChildren(...handoffs.map(queueItem));
    $(`${name}-count`).textContent = String(handoffs.length);
    $(`${name}-empty`).hidden = handoffs.length > 0;
  }

  function queueItem(handoff) {
    const item = el("li");
    const button = el("button", `handoff priority-${handoff.priority}`);
    button.type = "button";
    button.dataset.handoffId = String(handoff.id);
    button.dataset.conversationId = handoff.conversation_id;
    if (selected && selected.id === handoff.id) {
      button.setAttribute("aria-current", "true");
    }
    const top = el("span", "handoff-top");
    top.append(
      el("span", "priority", PRIORITIES[handoff.priority] || `P${handoff.priority}`),
      el("span", "handoff-name", customerName(handoff)),
    );
    const count = unread.get(handoff.id);
    if (count) {
      top.append(el("span", "unread", `${count} new`));
    }
    const since = handoff.status === "claimed" ? handoff.claimed_at : handoff.created_at;
    const verb = handoff.status === "claimed" ? "claimed" : "waiting";
    button.append(
      top,
      el("span", "handoff-subject", handoff.subject || "Handoff"),
      el(
        "span",
        "handoff-meta",
        `${verb} ${formatAge(since)}${handoff.category ? ` · ${humanize(handoff.category)}` : ""}`,
      ),
    );
    button.addEventListener("click", () => select(handoff));
    item.append(button);
    return item;
  }

  // ---------------------------------------------------------------- selected handoff

  async function select(handoff) {
    selected = handoff;
    messages = [];
    unread.delete(handoff.id);
    renderQueues();
    $("placeholder").hidden = true;
    $("conversation").hidden = false;
    renderHeader();
    renderPacket(handoff.packet);
    $("transcript").replaceChildren(el("li", "loading", "Loading the transcript…"));
    await loadTranscript();
  }

  async function loadTranscript() {
    const handoff = selected;
    try {
      const conversation = await api(
        "GET",
        `/api/v1/conversations/${encodeURIComponent(handoff.conversation_id)}`,
      );
      if (selected !== handoff) {
        return;
      }
      messages = conversation.messages || [];
      renderTranscript();
    } catch (error) {
      $("transcript").replaceChildren(el("li", "loading", "The transcript could not be loaded."));
      showError(error);
    }
  }

  function renderHeader() {
    const handoff = selected;
    $("conversation-heading").textContent = `${customerName(handoff)}: ${handoff.subject || "handoff"}`;
    const parts = [
      `Handoff #${handoff.id}`,
      `conversation ${handoff.conversation_id}`,
      `${PRIORITIES[handoff.priority] || `P${handoff.priority}`} priority`,
      `opened ${formatTime(handoff.created_at)}`,
    ];
    $("conversation-meta").textContent = parts.join(" · ");
    $("claim").hidden = handoff.status !== "open";
    const mine = isMine(handoff);
    $("composer").hidden = !mine;
    const note = $("state-note");
    note.hidden = mine || handoff.status === "open";
    if (handoff.status === "resolved") {
      note.textContent = `Resolved: ${handoff.resolution || "no note"}`;
    } else if (handoff.status === "claimed" && !mine) {
      note.textContent = "Another agent has claimed this handoff.";
    }
  }

  function renderTranscript() {
    const list = $("transcript");
    // A whole new transcript is not news for screen readers; only later additions are.
    list.setAttribute("aria-busy", "true");
    list.replaceChildren();
    for (const message of messages) {
      appendToTranscript(message);
    }
    if (!messages.length) {
      list.append(el("li", "loading", "No messages yet."));
    }
    list.setAttribute("aria-busy", "false");
  }

  function appendToTranscript(message) {
    const list = $("transcript");
    list.querySelectorAll(".loading").forEach((node) => node.remove());
    const handedOff = Date.parse(message.created_at) > Date.parse(selected.created_at);
    if (handedOff && !list.querySelector(".divider")) {
      list.append(el("li", "divider", "Handed off to a person"));
    }
    list.append(transcriptItem(message));
    list.scrollTop = list.scrollHeight;
  }

  function transcriptItem(message) {
    const item = el("li", `message from-${message.sender}`);
    item.dataset.messageId = String(message.id);
    let who = { customer: customerName(selected), bot: "Bot", agent: "Agent" }[message.sender];
    if (message.sender === "agent" && message.data && message.data.staff_id === session.staffId) {
      who = `${session.username} (you)`;
    }
    const head = el("span", "message-head");
    head.append(el("span", "message-who", who || message.sender), el("span", "message-time", formatTime(message.created_at)));
    item.append(head, el("p", "message-text", message.text || ""));
    if (message.sender === "customer" && message.intent) {
      const facts = [`${humanize(message.intent)} ${percent(message.confidence)}`];
      if (typeof message.sentiment === "number") {
        facts.push(`sentiment ${message.sentiment.toFixed(2)}`);
      }
      item.append(el("span", "message-facts", facts.join(" · ")));
    }
    return item;
  }

  function addMessage(message) {
    if (messages.some((known) => known.id === message.id)) {
      return;
    }
    messages.push(message);
    appendToTranscript(message);
  }

  // ---------------------------------------------------------------- packet

  function section(title, ...content) {
    const block = el("section", "packet-section");
    block.append(el("h2", null, title), ...content);
    return block;
  }

  function definitions(pairs) {
    const list = el("dl", "facts");
    for (const [term, value] of pairs) {
      list.append(el("dt", null, term), el("dd", null, value));
    }
    return list;
  }

  function describe(value) {
    if (value === null || value === undefined) {
      return "n/a";
    }
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function renderPacket(packet) {
    const aside = $("packet");
    aside.hidden = false;
    if (!packet) {
      aside.replaceChildren(section("Handoff packet", el("p", "muted", "No packet was recorded for this handoff.")));
      return;
    }
    const blocks = [];
    const reason = REASONS[packet.reason] || humanize(packet.reason);
    blocks.push(section("Why they're here", el("p", "reason", reason), el("p", "summary", packet.summary || "No summary.")));

    const customer = packet.customer;
    blocks.push(
      section(
        "Customer",
        customer
          ? definitions([
              ["Name", customer.name],
              ["Customer id", customer.id],
              ["Segment", customer.segment || "not known"],
              ["Strategy", customer.strategy || "none"],
            ])
          : el("p", "muted", "Not signed in: anonymous customer."),
      ),
    );

    const intents = el("ul", "intents");
    for (const intent of packet.intents || []) {
      const row = el("li");
      const bar = el("span", "bar");
      const fill = el("span", "bar-fill");
      fill.style.width = percent(intent.confidence === null ? 0 : intent.confidence);
      bar.append(fill);
      row.append(el("span", "intent-name", humanize(intent.intent)), bar, el("span", "intent-score", percent(intent.confidence)));
      intents.append(row);
    }
    blocks.push(section("Intents", intents.childElementCount ? intents : el("p", "muted", "None recognised.")));

    const found = [
      ...(packet.entities || []).map((entity) => [humanize(entity.entity), describe(entity.value)]),
      ...Object.entries(packet.slots || {}).map(([name, value]) => [`slot ${humanize(name)}`, describe(value)]),
    ];
    blocks.push(section("Entities and slots", found.length ? definitions(found) : el("p", "muted", "Nothing collected.")));

    const tried = el("ol", "attempts");
    for (const attempt of packet.bot_attempts || []) {
      const row = el("li");
      row.append(el("strong", null, humanize(attempt.intent)), el("span", null, ` → ${(attempt.actions || []).join(", ")}`));
      tried.append(row);
    }
    blocks.push(section("What the bot tried", tried.childElementCount ? tried : el("p", "muted", "Nothing yet.")));

    blocks.push(section("Sentiment", sentimentView(packet.sentiment_trend)));

    const similar = el("ol", "similar");
    for (const ticket of packet.similar_tickets || []) {
      const row = el("li");
      const head = el("span", "similar-head");
      head.append(el("strong", null, `Ticket #${ticket.ticket_id}`), el("span", "muted", ` · match ${percent(ticket.score)}`));
      row.append(head, el("p", "similar-text", ticket.text || ""));
      const resolution = el("p", "similar-resolution");
      resolution.append(el("strong", null, "Resolution: "), document.createTextNode(ticket.resolution || "none recorded"));
      row.append(resolution);
      if (ticket.matched_terms && ticket.matched_terms.length) {
        const terms = el("span", "terms");
        for (const term of ticket.matched_terms) {
          terms.append(el("span", "term", term));
        }
        row.append(terms);
      }
      similar.append(row);
    }
    blocks.push(section("Similar resolved tickets", similar.childElementCount ? similar : el("p", "muted", "No similar ticket found.")));
    aside.replaceChildren(...blocks);
  }

  function sentimentView(sentiment) {
    const view = el("div", "sentiment");
    if (!sentiment) {
      view.append(el("p", "muted", "Not measured."));
      return view;
    }
    const trend = String(sentiment.trend || "unknown");
    view.append(el("p", `trend trend-${trend.replace(/[^a-z]/g, "")}`, `Trend: ${humanize(trend)}`));
    const scores = Array.isArray(sentiment.scores) ? sentiment.scores : [];
    const frustration = Array.isArray(sentiment.frustration) ? sentiment.frustration : [];
    // The trend follows mood (sentiment minus frustration), so the chart shows the same.
    const moods = scores.map((score, index) => score - (frustration[index] || 0));
    if (moods.length) {
      const chart = el("div", "spark");
      chart.setAttribute("role", "img");
      const listed = moods.map((mood) => mood.toFixed(2)).join(", ");
      chart.setAttribute("aria-label", `Mood per customer message: ${listed}`);
      for (const mood of moods) {
        const column = el("span", "spark-column");
        const bar = el("span", mood < 0 ? "spark-bar negative" : "spark-bar positive");
        bar.style.height = `${Math.max(4, Math.min(1, Math.abs(mood)) * 50)}%`;
        column.append(bar);
        chart.append(column);
      }
      view.append(chart);
      const caption = `Mood per customer message, oldest first${
        frustration.length ? `; peak frustration ${percent(Math.max(...frustration))}` : ""
      }.`;
      view.append(el("p", "spark-caption muted", caption));
    }
    return view;
  }

  // ---------------------------------------------------------------- actions

  async function claim() {
    const handoff = selected;
    try {
      const claimed = await api("POST", `/api/v1/handoffs/${handoff.id}/claim`);
      session.staffId = claimed.assigned_to;
      session.claimed.push(claimed.id);
      saveSession();
      clearAlert();
      if (selected && selected.id === claimed.id) {
        selected = claimed;
        renderHeader();
        $("reply").focus();
      }
    } catch (error) {
      showError(error);
    }
    scheduleRefresh();
  }

  async function sendReply(event) {
    event.preventDefault();
    const box = $("reply");
    const text = box.value.trim();
    if (!text || !selected) {
      return;
    }
    try {
      const reply = await api("POST", `/api/v1/handoffs/${selected.id}/messages`, { text });
      box.value = "";
      if (reply.message && reply.message.conversation_id === selected.conversation_id) {
        addMessage(reply.message);
      }
      if (reply.delivered === false) {
        showAlert("Saved, but the customer's chat is not connected right now.", "warning");
      } else {
        clearAlert();
      }
    } catch (error) {
      showError(error);
    }
  }

  async function resolve(event) {
    event.preventDefault();
    const resolution = $("resolution").value.trim();
    if (!resolution || !selected) {
      return;
    }
    try {
      const reply = await api("POST", `/api/v1/handoffs/${selected.id}/resolve`, {
        resolution,
        return_to_bot: $("return-to-bot").checked,
      });
      $("resolution").value = "";
      selected = reply.handoff;
      renderHeader();
      if (reply.bot_resumed) {
        showAlert("Resolved. The customer is back with the bot, which asks them for a rating.", "success");
      } else {
        showAlert("Resolved, but the bot could not be resumed for this customer.", "warning");
      }
    } catch (error) {
      showError(error);
    }
    scheduleRefresh();
  }

  function fillCanned(template) {
    const customer = selected && selected.packet && selected.packet.customer;
    const name = customer && customer.name ? firstName(customer.name) : "there";
    const box = $("reply");
    box.value = template.replace(/\{name\}/g, name).replace(/\{agent\}/g, session.username);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // ---------------------------------------------------------------- live updates

  function setLive(connected) {
    const status = $("live-status");
    status.hidden = false;
    status.textContent = connected ? "Live" : "Reconnecting…";
    status.className = connected ? "live live-on" : "live live-off";
  }

  function connectLive() {
    window.clearTimeout(retryTimer);
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
      setLive(true);
      refreshQueues();
      if (selected) {
        loadTranscript();
      }
    });
    live.addEventListener("message", (event) => {
      try {
        handleEvent(JSON.parse(event.data));
      } catch (error) {
        showError(error);
      }
    });
    live.addEventListener("close", () => {
      if (socket !== live || !session) {
        return;
      }
      setLive(false);
      // An expired session shows up here first; the API call signs the agent out if so.
      refreshQueues();
      const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** retries);
      retries += 1;
      retryTimer = window.setTimeout(connectLive, delay);
    });
  }

  function isNews(message) {
    // The messages that led to the handoff are in its packet already; only later ones are new.
    const handoff = known.get(message.handoff_id);
    return Boolean(handoff) && Date.parse(message.created_at) > Date.parse(handoff.created_at);
  }

  function handleEvent(event) {
    if (!event || typeof event !== "object") {
      return;
    }
    if (event.handoff && typeof event.type === "string" && event.type.startsWith("handoff_")) {
      known.set(event.handoff.id, event.handoff);
      if (selected && event.handoff.id === selected.id) {
        selected = event.handoff;
        renderHeader();
      }
      scheduleRefresh();
      return;
    }
    const message = event.message;
    if (!message || (event.type !== "customer_message" && event.type !== "message")) {
      return;
    }
    if (selected && message.conversation_id === selected.conversation_id) {
      addMessage(message);
    } else if (event.type === "customer_message" && isNews(message)) {
      unread.set(message.handoff_id, (unread.get(message.handoff_id) || 0) + 1);
      renderQueues();
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    $("login-form").addEventListener("submit", logIn);
    $("logout").addEventListener("click", () => logOut());
    $("alert-close").addEventListener("click", clearAlert);
    $("claim").addEventListener("click", claim);
    $("reply-form").addEventListener("submit", sendReply);
    $("resolve-form").addEventListener("submit", resolve);
    $("reply").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("reply-form").requestSubmit();
      }
    });
    for (const canned of CANNED_REPLIES) {
      const button = el("button", "canned-reply", canned.label);
      button.type = "button";
      button.title = canned.text;
      button.addEventListener("click", () => fillCanned(canned.text));
      $("canned").append(button);
    }
    window.setInterval(() => {
      if (session) {
        renderQueues();
      }
    }, AGE_REFRESH_MS);
    if (session && session.token) {
      session.claimed = Array.isArray(session.claimed) ? session.claimed : [];
      showConsole();
    } else {
      showLogin();
    }
  }

  start();
})();
