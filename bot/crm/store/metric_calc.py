"""The arithmetic behind the supervisors' metrics, apart from the queries: which summed
components each metric reads, how percentiles are taken, and the drill-down row."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from bot.crm import models
from bot.crm.models_supervision import ConversationFact
from bot.crm.store.base import as_utc, iso

F = ConversationFact
PERCENTILES = {"median": 50.0, "p90": 90.0}
VALUE_COLUMNS = {
    "first_response": F.first_response_s,
    "first_response_bh": F.first_response_bh_s,
    "reply_time": F.reply_times_s,
    "reply_time_bh": F.reply_times_bh_s,
    "handle_time": F.handle_s,
    "handle_time_bh": F.handle_bh_s,
    "queue_wait": F.queue_wait_s,
}
"""The fact column behind each duration metric (`median_<key>_s`, `p90_<key>_s`)."""


def duration_of(name: str) -> tuple[float, str] | None:
    """(percentile, value column key) of a duration metric; None for any other metric."""
    stat, _, rest = name.partition("_")
    if stat in PERCENTILES and rest.endswith("_s") and rest[:-2] in VALUE_COLUMNS:
        return PERCENTILES[stat], rest[:-2]
    return None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


Components = dict[str, Any]
RATES: dict[str, Callable[[Components], tuple[Any, int]]] = {
    "conversations": lambda c: (c["conv"], c["conv"]),
    "unique_customers": lambda c: (c["customers"], c["conv"]),
    "customer_messages": lambda c: (c["cmsg"], c["conv"]),
    "handoffs": lambda c: (c["handed"], c["conv"]),
    "containment_rate": lambda c: (_ratio(c["conv"] - c["handed"], c["conv"]), c["conv"]),
    "handoff_rate": lambda c: (_ratio(c["handed"], c["conv"]), c["conv"]),
    "durable_containment_rate": lambda c: (_ratio(c["durable"], c["judged"]), c["judged"]),
    "fallback_rate": lambda c: (_ratio(c["fallback"], c["cmsg"]), c["cmsg"]),
    "sla_met_rate": lambda c: (_ratio(c["sla_met"], c["sla_judged"]), c["sla_judged"]),
    "csat_agent": lambda c: (_ratio(c["agent_good"], c["agent_rated"]), c["agent_rated"]),
    "csat_agent_response_rate": lambda c: (_ratio(c["agent_rated"], c["resolved"]), c["resolved"]),
    "csat_bot": lambda c: (_ratio(c["bot_good"], c["bot_rated"]), c["bot_rated"]),
    "csat_bot_response_rate": lambda c: (
        _ratio(c["bot_rated"], c["conv"] - c["handed"]),
        c["conv"] - c["handed"],
    ),
    "sentiment_mean": lambda c: (c["sentiment"], c["sentiment_n"]),
    "sentiment_last": lambda c: (c["sentiment_last"], c["sentiment_last_n"]),
    "reopen_rate": lambda c: (_ratio(c["reopened"], c["reopen_judged"]), c["reopen_judged"]),
    "resolution_rate": lambda c: (_ratio(c["resolved"], c["handed"]), c["handed"]),
}
"""(value, n) of each non-duration metric from a group's summed components."""
NEEDS: dict[str, tuple[str, ...]] = {
    "unique_customers": ("customers",),
    "customer_messages": ("cmsg",),
    "handoffs": ("handed",),
    "containment_rate": ("handed",),
    "handoff_rate": ("handed",),
    "durable_containment_rate": ("durable", "judged"),
    "fallback_rate": ("fallback", "cmsg"),
    "sla_met_rate": ("sla_met", "sla_judged"),
    "csat_agent": ("agent_good", "agent_rated"),
    "csat_agent_response_rate": ("agent_rated", "resolved"),
    "csat_bot": ("bot_good", "bot_rated"),
    "csat_bot_response_rate": ("bot_rated", "handed"),
    "sentiment_mean": ("sentiment_sum", "sentiment_n"),
    "sentiment_last": ("sentiment_last_sum", "sentiment_last_n"),
    "reopen_rate": ("reopened", "reopen_judged"),
    "resolution_rate": ("resolved", "handed"),
}
"""The components a metric reads besides `conv`: a timeseries or breakdown sums only these."""


def metric_value(metric: str, parts: Components, values: dict[str, list[float]]) -> tuple[Any, int]:
    """(value, n) of `metric` from a group's components and duration values."""
    duration = duration_of(metric)
    if duration is None:
        return RATES[metric](parts)
    percentile, column = duration
    sample = values.get(column, [])
    if not sample:
        return None, 0
    value = np.percentile(np.asarray(sample, dtype=float), percentile, method="linear")
    return float(value), len(sample)


def collect_values(
    rows: Iterable[Sequence[Any]], wanted: list[str], grouped: bool
) -> dict[Any, dict[str, list[float]]]:
    """Rows of (group, *wanted value lists) from the daily rollup, each list comma-separated
    numbers or NULL, as lists of values per group and column: a group's texts are joined and
    parsed at once."""
    texts: dict[Any, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        bucket = texts[row[0] if grouped else None]
        for name, value in zip(wanted, row[1:], strict=True):
            if value:
                bucket[name].append(value)
    return {
        group: {name: json.loads("[" + ",".join(parts) + "]") for name, parts in columns.items()}
        for group, columns in texts.items()
    }


def now_or_utcnow(now: datetime | None) -> datetime:
    """`now` in UTC, or the current time."""
    return as_utc(now) if now else models.utcnow()


def empty() -> Components:
    """A group's components before anything is added."""
    return {
        "conv": 0, "customers": 0, "cmsg": 0, "fallback": 0, "handed": 0, "judged": 0,
        "durable": 0, "durable_all": 0, "sla_judged": 0, "sla_met": 0, "resolved": 0,
        "reopen_judged": 0, "reopened": 0, "agent_rated": 0, "agent_good": 0, "bot_rated": 0,
        "bot_good": 0, "sentiment": None, "sentiment_sum": 0.0, "sentiment_n": 0,
        "sentiment_last": None, "sentiment_last_sum": 0.0, "sentiment_last_n": 0,
    }  # fmt: skip


def durations_of(metrics: Iterable[str]) -> set[str]:
    """The value columns the duration metrics among `metrics` read."""
    return {duration[1] for name in metrics if (duration := duration_of(name)) is not None}


def drill_row(fact: ConversationFact) -> dict[str, Any]:
    return {
        "conversation_id": fact.conversation_id,
        "customer_id": fact.customer_id,
        "day": fact.day,
        "started_at": iso(fact.started_at),
        "ended_at": iso(fact.ended_at),
        "channel": fact.channel,
        "segment_id": fact.segment_id,
        "intent": fact.intent,
        "customer_messages": fact.customer_messages,
        "fallback_messages": fact.fallback_messages,
        "handed_off": fact.handed_off,
        "handoff_reason": fact.handoff_reason,
        "agent_id": fact.agent_id,
        "first_response_s": fact.first_response_s,
        "sla_met": fact.sla_met,
        "resolved": fact.resolved,
        "reopened": fact.reopened,
        "csat_agent": fact.csat_agent,
        "csat_bot": fact.csat_bot,
        "sentiment_mean": fact.sentiment_mean,
    }
