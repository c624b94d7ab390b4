"""Which conversations a supervisor should look at, and how urgently: pure rules over one
conversation's rolled-up figures (a `conversation_facts` row as a mapping), no database.

Each rule gives at most one `Flag` of its `FlagKind`, with a severity from 1 (worth a look)
to 3 (look first) and a detail that holds the numbers it was judged on, so a reviewer sees
why without re-deriving it. Severities grow with how far past its bound a figure is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.crm.enums import FlagKind

Fact = Mapping[str, Any]

NEGATIVE_END_AT = -0.3
"""A conversation whose last customer message scores below this (VADER compound) ended upset.
VADER calls anything under -0.05 negative, which a plain complaint about a late card already
is; -0.3 needs clearly negative wording, so the queue holds customers who left unhappy."""

NEGATIVE_END_STEPS = (-0.3, -0.55, -0.8)
"""Severity bands of the last sentiment: below -0.55 is angry, below -0.8 is furious."""

LONG_WAIT_S = 30 * 60.0
"""A queue wait (handoff to claim) longer than the longest first-answer SLA any default
strategy promises (30 minutes, analytics.strategy) is long for a customer of any segment."""

REPEATED_FALLBACK_AT = 2
"""Two fallbacks in one conversation is the bot looping: asking to rephrase once is normal,
twice means it did not understand the customer (Intercom's "repetitive looping" monitor)."""

LOW_CSAT_AT = 2
"""Ratings go 1-5 and csat counts 4-5 as satisfied; 3 is neutral, so 1 and 2 are the
customer saying it went badly."""

UNRESOLVED_AFTER = timedelta(hours=24)
"""A handoff still unresolved a day after it was opened has missed every SLA and outlived
the customer's patience; younger ones are still being worked and are the live queue's job."""

SEVERITY_STEPS = (2, 4)
"""A figure up to twice its bound is severity 1, up to four times 2, beyond that 3."""

UNRESOLVED_FLIPS = (UNRESOLVED_AFTER, *(step * UNRESOLVED_AFTER for step in SEVERITY_STEPS))
"""The ages of an unresolved handoff at which its flag changes with `now` alone: raised past
the bound, then a severity step at each multiple. `unresolved_handoff` is the only rule that
reads `now` (a missed SLA is judged into the fact's `sla_met` by the fact refresh), so a flag
can only change between two detections without a new fact when a handoff crosses one of
these ages; its detail holds no running figure (the handoff's time, not its age)."""

SLOW_REPLY_S = 15 * 60.0
"""The default strategy's first-answer SLA (15 minutes): an agent answer, first or later,
slower than what the bank promises for a first answer is slow in a live chat. Counted in
business hours (`*_bh_s`), the hours agents are at work."""


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    severity: int
    detail: dict[str, Any]


def _times_past(value: float, bound: float) -> int:
    """1 up to twice the bound, 2 up to four times, 3 beyond: each step doubles the delay."""
    ratio = value / bound
    return 1 + sum(ratio >= step for step in SEVERITY_STEPS)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def negative_end(fact: Fact, now: datetime) -> Flag | None:
    last = fact.get("sentiment_last")
    if last is None or last >= NEGATIVE_END_AT:
        return None
    severity = sum(last < step for step in NEGATIVE_END_STEPS)
    return Flag(
        FlagKind.NEGATIVE_END,
        severity,
        {"sentiment_last": round(last, 4), "threshold": NEGATIVE_END_AT},
    )


def long_wait(fact: Fact, now: datetime) -> Flag | None:
    wait = fact.get("queue_wait_s")
    too_long = wait is not None and wait > LONG_WAIT_S
    sla_missed = fact.get("sla_met") is False
    if not (too_long or sla_missed):
        return None
    severity = _times_past(wait, LONG_WAIT_S) if too_long else 1
    return Flag(
        FlagKind.LONG_WAIT,
        severity,
        {
            "queue_wait_s": None if wait is None else round(wait, 1),
            "bound_s": LONG_WAIT_S,
            "sla_met": fact.get("sla_met"),
        },
    )


def repeated_fallback(fact: Fact, now: datetime) -> Flag | None:
    fallbacks = fact.get("fallback_messages") or 0
    if fallbacks < REPEATED_FALLBACK_AT:
        return None
    return Flag(
        FlagKind.REPEATED_FALLBACK,
        min(3, fallbacks - REPEATED_FALLBACK_AT + 1),
        {
            "fallback_messages": fallbacks,
            "customer_messages": fact.get("customer_messages"),
            "threshold": REPEATED_FALLBACK_AT,
        },
    )


def low_csat(fact: Fact, now: datetime) -> Flag | None:
    scores = {
        name: fact.get(name)
        for name in ("csat_agent", "csat_bot")
        if fact.get(name) is not None and fact[name] <= LOW_CSAT_AT
    }
    if not scores:
        return None
    severity = 3 if min(scores.values()) <= 1 else 2
    return Flag(FlagKind.LOW_CSAT, severity, {**scores, "threshold": LOW_CSAT_AT})


def unresolved_handoff(fact: Fact, now: datetime) -> Flag | None:
    """Its severity grows with the handoff's age; the detail names when it was opened rather
    than its age, which would change at every detection (see UNRESOLVED_FLIPS)."""
    opened = fact.get("handoff_at")
    if not fact.get("handed_off") or fact.get("resolved") or opened is None:
        return None
    age = (now - opened).total_seconds()
    bound = UNRESOLVED_AFTER.total_seconds()
    if age <= bound:
        return None
    return Flag(
        FlagKind.UNRESOLVED_HANDOFF,
        _times_past(age, bound),
        {"handoff_at": _iso(opened), "bound_s": bound},
    )


def slow_agent_reply(fact: Fact, now: datetime) -> Flag | None:
    """Judged in business hours: a handoff that waits overnight is the rota's doing, not the
    agent's (the overnight wait shows as long_wait and a missed SLA instead)."""
    replies = [value for value in fact.get("reply_times_bh_s") or [] if value is not None]
    first = fact.get("first_response_bh_s")
    slowest = max([*replies, *([first] if first is not None else [])], default=None)
    if slowest is None or slowest <= SLOW_REPLY_S:
        return None
    return Flag(
        FlagKind.SLOW_AGENT_REPLY,
        _times_past(slowest, SLOW_REPLY_S),
        {
            "slowest_reply_bh_s": round(slowest, 1),
            "first_response_bh_s": None if first is None else round(first, 1),
            "max_reply_bh_s": round(max(replies), 1) if replies else None,
            "first_response_s": fact.get("first_response_s"),
            "bound_s": SLOW_REPLY_S,
        },
    )


RULES: tuple[Callable[[Fact, datetime], Flag | None], ...] = (
    negative_end,
    long_wait,
    repeated_fallback,
    low_csat,
    unresolved_handoff,
    slow_agent_reply,
)


def flags(fact: Fact, now: datetime) -> list[Flag]:
    """Every flag the conversation deserves at `now` (times in the fact and `now` zone-aware)."""
    return [flag for rule in RULES if (flag := rule(fact, now)) is not None]
