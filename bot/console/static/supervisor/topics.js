/*
 * What customers talk about: the topics of their messages for the current filters (the intent
 * filter does not apply: topics cut across intents), each with its keywords, its messages in the
 * range against the period before, the last full week against the one before (rising ones
 * marked), example messages and the digest of complaints and requests.
 */

import { showError } from "../lib/alert.js";
import { api } from "../lib/api.js";
import { $, el } from "../lib/dom.js";
import { humanize } from "../lib/format.js";
import { downloadCsv } from "./csv.js";
import { NO_SEGMENT, filterQuery, filters } from "./filters.js";

const PATH = "/api/v1/analytics/topics";
const ALL_SEGMENTS = "all";

function percentChange(change) {
  return `${change > 0 ? "+" : ""}${Math.round(change * 100)}%`;
}

/** The range's messages against the period before, and the last full week against the one before. */
function sizeText(topic) {
  const week =
    topic.change === null || topic.change === undefined
      ? `last week ${topic.last_week} (none the week before)`
      : `last week ${topic.last_week}, ${percentChange(topic.change)} on the week before`;
  return `${topic.messages} messages (${topic.previous} in the period before) · ${week}`;
}

function segmentName(key) {
  if (key === ALL_SEGMENTS) {
    return "all customers";
  }
  if (key === String(NO_SEGMENT)) {
    return "no segment";
  }
  const option = [...$("filter-segment").options].find((node) => node.value === key);
  return option ? option.textContent : `segment ${key}`;
}

/**
 * {"complaints": {segment id or "all": summary}, "requests": {...}} as a list: the summaries
 * for all customers, or for the filtered segment only (the API keeps only that one).
 */
function digestList(digest) {
  const list = el("ul", "digest");
  for (const [kind, bySegment] of Object.entries(digest || {})) {
    for (const [segment, summary] of Object.entries(bySegment || {})) {
      if (!filters.segment && segment !== ALL_SEGMENTS) {
        continue;
      }
      const item = el("li");
      item.append(el("strong", "", `${humanize(kind)}, ${segmentName(segment)}: `), String(summary));
      list.append(item);
    }
  }
  return list;
}

function topicItem(topic) {
  const rising = Boolean(topic.rising);
  const item = el("li", rising ? "card topic rising" : "card topic");
  const head = el("div", "topic-head");
  head.append(el("h2", "", topic.label));
  if (rising) {
    head.append(el("span", "badge badge-rising", "Rising"));
  }
  head.append(el("span", "topic-size", sizeText(topic)));
  item.append(head);
  const keywords = el("p", "terms");
  for (const keyword of topic.keywords || []) {
    const term = el("span", "term", keyword.word);
    term.title = `weight ${keyword.weight}`;
    keywords.append(term);
  }
  item.append(keywords);
  const examples = el("ul", "examples");
  for (const example of (topic.examples || []).slice(0, 3)) {
    examples.append(el("li", "", typeof example === "string" ? example : example.text));
  }
  item.append(examples);
  const digest = digestList(topic.digest);
  if (digest.childElementCount) {
    const details = el("details", "topic-digest");
    details.append(el("summary", "", "Complaints and requests"), digest);
    item.append(details);
  }
  return item;
}

export async function refreshTopics() {
  try {
    const reply = await api("GET", `${PATH}?${filterQuery()}`);
    $("topic-list").replaceChildren(...reply.topics.map(topicItem));
    $("topics-empty").hidden = reply.topics.length > 0;
  } catch (error) {
    showError(error);
  }
}

export function setUpTopics() {
  $("topics-csv").addEventListener("click", () => downloadCsv(PATH, filterQuery(), "topics.csv"));
}
