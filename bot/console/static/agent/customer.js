/*
 * The customer in the handoff packet: their segment, the strategy it gets, their risk of
 * leaving, the channel they prefer, and what to offer them or why not now. Packets recorded
 * before the batch jobs existed carry only id, name and segment, and show just those.
 */

import { el } from "../lib/dom.js";
import { ContactChannel } from "../lib/enums.js";
import { humanize, percent } from "../lib/format.js";
import { priorityLabel } from "./handoff.js";
import { definitions, section } from "./sections.js";

const CHANNEL_ADVICE = {
  [ContactChannel.PHONE]: "offer a call back",
  [ContactChannel.EMAIL]: "offer to follow up by e-mail",
  [ContactChannel.BRANCH]: "offer a branch appointment",
  [ContactChannel.CHAT]: "keep helping here in chat",
};

function segmentView(customer) {
  if (!customer.segment) {
    return el("span", "muted", "none yet");
  }
  const view = el("span", "segment");
  view.append(el("strong", "segment-name", customer.segment));
  if (customer.segment_description) {
    // Clamped to a few lines in the narrow panel; the whole description is the tooltip.
    const description = el("span", "segment-description", customer.segment_description);
    description.title = customer.segment_description;
    view.append(description);
  }
  return view;
}

/** A driver as the risk job records it, {feature, value, contribution}: "recency days (210)". */
function driverName(driver) {
  if (!driver || typeof driver !== "object") {
    return humanize(driver);
  }
  const value = typeof driver.value === "number" ? ` (${Math.round(driver.value * 100) / 100})` : "";
  return `${humanize(driver.feature)}${value}`;
}

function riskView(risk) {
  if (!risk) {
    return el("span", "muted", "not scored");
  }
  const view = el("span", risk.at_risk ? "risk at-risk" : "risk");
  view.append(el("strong", null, `${percent(risk.score)} ${risk.at_risk ? "at risk of leaving" : "risk of leaving"}`));
  const drivers = (risk.drivers || []).map(driverName);
  if (drivers.length) {
    view.append(el("span", "risk-drivers", `driven by ${drivers.join(", ")}`));
  }
  return view;
}

function channelText(channel) {
  if (!channel) {
    return "not known";
  }
  const confidence = typeof channel.confidence === "number" ? ` (${percent(channel.confidence)})` : "";
  const advice = CHANNEL_ADVICE[channel.channel];
  return `prefers ${humanize(channel.channel)}${confidence}${advice ? `: ${advice}` : ""}`;
}

function offersView(offers) {
  if (!offers || !offers.length) {
    return el("span", "muted", "none");
  }
  const list = el("ul", "offers");
  list.append(...offers.map((offer) => el("li", null, offer)));
  return list;
}

function strategySection(strategy) {
  const content = [
    definitions([
      ["Tone", humanize(strategy.tone)],
      ["Priority", `${strategy.priority} · ${priorityLabel(strategy.priority)}`],
      ["SLA", `answer within ${strategy.sla_minutes} min`],
      ["Hands over", `at ${percent(strategy.handoff_threshold)} frustration`],
      ["Offers", offersView(strategy.offers)],
    ]),
  ];
  if (strategy.default) {
    content.push(el("p", "muted strategy-note", "Default strategy: the customer has no segment yet."));
  }
  return section("Strategy", ...content);
}

function hintRow(hint) {
  const row = el("li");
  row.append(
    el("strong", null, humanize(hint.product)),
    el("span", "hint-why", ` · holds ${hint.because.map(humanize).join(" + ")}`),
    el("span", "hint-figures muted", ` · ${percent(hint.confidence)} of them have it, lift ${hint.lift.toFixed(1)}`),
  );
  return row;
}

function crossSellSection(crossSell) {
  if (crossSell.withheld) {
    return section("Cross-sell", el("p", "withheld", `Withheld: ${crossSell.withheld}`));
  }
  if (!crossSell.hints.length) {
    return section("Cross-sell", el("p", "muted", "Nothing to suggest."));
  }
  const list = el("ul", "hints");
  list.append(...crossSell.hints.map(hintRow));
  return section("Cross-sell", list);
}

/**
 * The packet's sections about the customer: one for an old or anonymous packet; otherwise who
 * they are, what to offer them (or why not now) and how their segment is served.
 */
export function customerSections(customer) {
  if (!customer) {
    return [section("Customer", el("p", "muted", "Not signed in: anonymous customer."))];
  }
  const facts = [
    ["Name", customer.name],
    ["Customer id", customer.id],
  ];
  if (!customer.strategy) {
    return [section("Customer", definitions([...facts, ["Segment", customer.segment || "not known"]]))];
  }
  return [
    section(
      "Customer",
      definitions([
        ...facts,
        ["Segment", segmentView(customer)],
        ["Risk", riskView(customer.risk)],
        ["Channel", channelText(customer.preferred_channel)],
      ]),
    ),
    crossSellSection(customer.cross_sell || { hints: [], withheld: null }),
    strategySection(customer.strategy),
  ];
}
