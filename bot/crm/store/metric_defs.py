"""What every supervisor metric means: the filter it is read with and its written definition.

docs/metrics.md holds the same paragraphs under a `### name` heading each (a test keeps
them equal), so the definition a supervisor reads in the dashboard is the one the code
computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Unit = Literal["rate", "seconds", "count", "score"]
NO_SEGMENT = 0
"""The segment key (and `MetricFilter.segment_id`) of conversations whose customer had no
segment: a breakdown's "No segment" row drills down with it."""
DIMENSIONS = ("intent", "segment", "channel")


@dataclass(frozen=True)
class MetricFilter:
    """Which conversations a number covers: started on a UTC day in [date_from, date_to],
    optionally of one segment (`NO_SEGMENT` for none), opening intent and channel."""

    date_from: date
    date_to: date
    segment_id: int | None = None
    intent: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class MetricDef:
    name: str
    label: str
    unit: Unit
    definition: str


PERCENTILE_NOTE = (
    "Percentiles use numpy's linear interpolation over every value in the range; "
    "no value when there is none."
)
BUSINESS_NOTE = (
    "Business hours count only the time inside CRM_BUSINESS_HOURS "
    "(default Mon-Fri 09:00-17:00 Europe/London, following summer time)."
)
_DURATIONS = {
    "first_response": (
        "first response time",
        "from a handoff's creation to the first agent message after it, for the latest "
        "handoff of each conversation that got a reply. Bot and automated messages never "
        "stop the clock, as in Chatwoot and Zendesk",
    ),
    "reply_time": (
        "reply time",
        "from each customer message that waited (the first unanswered customer message after "
        "the handoff) to the next agent message, for every exchange of the latest handoff, "
        "not only the first, as Chatwoot measures it",
    ),
    "handle_time": (
        "handling time",
        "from the moment an agent claimed a handoff to its resolution, for resolved handoffs",
    ),
    "queue_wait": (
        "queue wait",
        "from a handoff's creation to the moment an agent claimed it",
    ),
}


def _duration_metrics() -> list[MetricDef]:
    metrics = []
    for key, (label, span) in _DURATIONS.items():
        variants = [("", "")] if key == "queue_wait" else [("", ""), ("_bh", " (business hours)")]
        for suffix, label_suffix in variants:
            for stat, stat_label in (("median", "Median"), ("p90", "90th percentile")):
                definition = f"The {stat_label.lower()} {label}{label_suffix}: {span}."
                if suffix:
                    definition += f" {BUSINESS_NOTE}"
                metrics.append(
                    MetricDef(
                        f"{stat}_{key}{suffix}_s",
                        f"{stat_label} {label}{label_suffix}",
                        "seconds",
                        f"{definition} {PERCENTILE_NOTE}",
                    )
                )
    return metrics


_METRICS = [
    MetricDef(
        "conversations",
        "Conversations",
        "count",
        "Conversations that started (UTC date) within the range and in which the customer "
        "wrote at least one message. A conversation's intent is its opening intent: the "
        "first customer message's intent that is not small talk (greet, goodbye, affirm, "
        "deny, thanks, csat_score, stop, nlu_fallback), or unknown; its segment is the "
        "customer's segment when it started (for conversations before the customer's first "
        "segmentation, their first segment).",
    ),
    MetricDef(
        "unique_customers",
        "Customers",
        "count",
        "Distinct known customers among the counted conversations. Anonymous conversations "
        "(nobody signed in) count as conversations only.",
    ),
    MetricDef(
        "customer_messages",
        "Customer messages",
        "count",
        "Messages the customers wrote in the counted conversations.",
    ),
    MetricDef(
        "handoffs",
        "Handoffs",
        "count",
        "Counted conversations handed off to a person at least once.",
    ),
    MetricDef(
        "containment_rate",
        "Containment",
        "rate",
        "Conversations never handed off to a person, divided by conversations. Containment "
        "and the handoff rate add up to 100%: every conversation is either contained or "
        "handed off, unlike Chatwoot's bot metrics, whose handoff and resolution rates can "
        "add up to more than 100%.",
    ),
    MetricDef(
        "handoff_rate",
        "Handoff rate",
        "rate",
        "Conversations handed off to a person at least once, divided by conversations: the "
        "complement of the containment rate.",
    ),
    MetricDef(
        "durable_containment_rate",
        "Durable containment",
        "rate",
        "Contained conversations after which the customer did not start another "
        "conversation (one in which they wrote at least one message) within 7 days of the "
        "conversation's end, divided by contained "
        "conversations that ended at least 7 days ago. Younger conversations are not judged "
        "yet, so recent days show no value instead of a rate that would later fall. "
        "Anonymous contained conversations are judged by age only: there is no way to see "
        "them come back.",
    ),
    MetricDef(
        "fallback_rate",
        "Fallback rate",
        "rate",
        "Customer messages the assistant did not understand (intent nlu_fallback), divided "
        "by customer messages.",
    ),
    *_duration_metrics(),
    MetricDef(
        "sla_met_rate",
        "SLA met",
        "rate",
        "Handoffs whose first agent reply came at or before their due time (the customer "
        "segment strategy's SLA), divided by the handoffs that can be judged: answered, or "
        "unanswered and already past due. Handoffs without a due time, or unanswered and "
        "not yet due, are not judged.",
    ),
    MetricDef(
        "csat_agent",
        "CSAT (agents)",
        "rate",
        "Rated resolved handoffs with a score of 4 or 5, divided by rated resolved handoffs. "
        "Read it with csat_agent_response_rate: a satisfaction share means little when few "
        "customers answer.",
    ),
    MetricDef(
        "csat_agent_response_rate",
        "CSAT response rate (agents)",
        "rate",
        "Resolved handoffs the customer rated, divided by resolved handoffs. Every "
        "resolution asks for a rating, so this is responses over surveys sent.",
    ),
    MetricDef(
        "csat_bot",
        "CSAT (bot)",
        "rate",
        "Bot ratings of 4 or 5 divided by bot ratings, over contained conversations, taking "
        "the latest rating of each conversation. A rating in a handed-off conversation rates "
        "the people as well as the bot, so it is left out.",
    ),
    MetricDef(
        "csat_bot_response_rate",
        "CSAT response rate (bot)",
        "rate",
        "Contained conversations with a bot rating, divided by contained conversations. The "
        "bot asks for a rating only when the customer offers feedback, so this rate is low "
        "by design and says how much weight csat_bot carries.",
    ),
    MetricDef(
        "sentiment_mean",
        "Sentiment",
        "score",
        "The mean sentiment (compound score, -1 to 1) of each conversation's customer "
        "messages, averaged over the conversations that have one, so every conversation "
        "weighs the same however long it is.",
    ),
    MetricDef(
        "sentiment_last",
        "Closing sentiment",
        "score",
        "The sentiment of each conversation's last scored customer message, averaged over "
        "conversations: how customers leave, which the mean hides.",
    ),
    MetricDef(
        "reopen_rate",
        "Reopen rate",
        "rate",
        "Resolved handoffs after which the customer wrote something that is not small talk "
        "within 7 days of the resolution (in the same conversation, or in another one whose "
        "first such message falls within the 7 days), divided by the resolved handoffs that "
        "can be judged: resolved at least 7 days ago, or already reopened. The answer to the "
        "rating question and small talk (greet, goodbye, affirm, deny, thanks, csat_score, "
        "stop, nlu_fallback) reopen nothing. Zendesk counts reopens of the same ticket; here "
        "a new conversation counts too, since the chat widget starts a new conversation.",
    ),
    MetricDef(
        "resolution_rate",
        "Resolution rate",
        "rate",
        "Handed-off conversations whose latest handoff is resolved, divided by handed-off "
        "conversations.",
    ),
]
METRICS: dict[str, MetricDef] = {metric.name: metric for metric in _METRICS}
"""Every scalar metric by name, in the order the dashboard lists them."""

LISTS: dict[str, MetricDef] = {
    "intents": MetricDef(
        "intents",
        "Intents",
        "count",
        "Customer messages per intent (the assistant's prediction; unknown when it has "
        "none) in the counted conversations, most first.",
    ),
    "handoff_reasons": MetricDef(
        "handoff_reasons",
        "Handoff reasons",
        "count",
        "Handed-off conversations per reason of their latest handoff (customer_request, "
        "frustration, repeated_fallback, segment_strategy), most first.",
    ),
}
"""The summary's lists: not one number, so not in a timeseries or breakdown."""


def metric_def(name: str) -> MetricDef:
    """The metric called `name`; ValueError listing the valid names otherwise."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; metrics: {', '.join(METRICS)}") from None


def check_dimension(by: str) -> str:
    if by not in DIMENSIONS:
        raise ValueError(f"unknown breakdown {by!r}; by: {', '.join(DIMENSIONS)}")
    return by
