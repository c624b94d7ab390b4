/*
 * The handoff packet beside the transcript: why the customer is here, who they are and how to
 * serve them (customer.js), what the bot understood and tried, their mood, and similar
 * tickets resolved before.
 */

import { $, el } from "../lib/dom.js";
import { HandoffReason } from "../lib/enums.js";
import { humanize, percent } from "../lib/format.js";
import { customerSections } from "./customer.js";
import { definitions, section } from "./sections.js";

const REASONS = {
  [HandoffReason.CUSTOMER_REQUEST]: "The customer asked for a person",
  [HandoffReason.FRUSTRATION]: "The customer is frustrated",
  [HandoffReason.REPEATED_FALLBACK]: "The bot did not understand twice",
  [HandoffReason.SEGMENT_STRATEGY]: "Frustrated, and their segment's strategy hands over early",
};

function describe(value) {
  if (value === null || value === undefined) {
    return "n/a";
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A section listing `nodes`, or saying `none` when there are none. */
function listSection(title, list, nodes, none) {
  list.append(...nodes);
  return section(title, nodes.length ? list : el("p", "muted", none));
}

function reasonSection(packet) {
  const reason = REASONS[packet.reason] || humanize(packet.reason);
  return section("Why they're here", el("p", "reason", reason), el("p", "summary", packet.summary || "No summary."));
}

function intentRow(intent) {
  const row = el("li");
  const bar = el("span", "bar");
  const fill = el("span", "bar-fill");
  fill.style.width = percent(intent.confidence === null ? 0 : intent.confidence);
  bar.append(fill);
  row.append(el("span", "intent-name", humanize(intent.intent)), bar, el("span", "intent-score", percent(intent.confidence)));
  return row;
}

function collectedSection(packet) {
  const found = [
    ...(packet.entities || []).map((entity) => [humanize(entity.entity), describe(entity.value)]),
    ...Object.entries(packet.slots || {}).map(([name, value]) => [`slot ${humanize(name)}`, describe(value)]),
  ];
  return section("Entities and slots", found.length ? definitions(found) : el("p", "muted", "Nothing collected."));
}

function attemptRow(attempt) {
  const row = el("li");
  row.append(el("strong", null, humanize(attempt.intent)), el("span", null, ` → ${(attempt.actions || []).join(", ")}`));
  return row;
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
    view.append(moodChart(moods));
    // No frustration at all (a polite request for a person) is not worth a "peak 0%".
    const peak = frustration.length ? Math.max(...frustration) : 0;
    const caption = `Mood per customer message, oldest first${peak > 0 ? `; peak frustration ${percent(peak)}` : ""}.`;
    view.append(el("p", "spark-caption muted", caption));
  }
  return view;
}

function moodChart(moods) {
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
  return chart;
}

function similarRow(ticket) {
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
  return row;
}

export function renderPacket(packet) {
  const aside = $("packet");
  aside.hidden = false;
  if (!packet) {
    aside.replaceChildren(section("Handoff packet", el("p", "muted", "No packet was recorded for this handoff.")));
    return;
  }
  aside.replaceChildren(
    reasonSection(packet),
    ...customerSections(packet.customer),
    listSection("Intents", el("ul", "intents"), (packet.intents || []).map(intentRow), "None recognised."),
    collectedSection(packet),
    listSection("What the bot tried", el("ol", "attempts"), (packet.bot_attempts || []).map(attemptRow), "Nothing yet."),
    section("Sentiment", sentimentView(packet.sentiment_trend)),
    listSection(
      "Similar resolved tickets",
      el("ol", "similar"),
      (packet.similar_tickets || []).map(similarRow),
      "No similar ticket found.",
    ),
  );
}
