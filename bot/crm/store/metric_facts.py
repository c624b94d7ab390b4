"""One conversation's rollup row from what `FactStore` fetched for its batch (no SQL here).

The rules are docs/metrics.md's: the opening intent skips small talk; a conversation's
handoff figures describe its latest handoff (a second handoff replaces the first's
figures, as the agent's view does); business-hours variants use the hours `FactStore` was
given. A customer "comes back" only in a conversation in which they wrote, and a
resolution is reopened only by a message that is not small talk: the rating the resolution
asks for, a "thanks" or a "bye" reopen nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analytics.business_hours import BusinessHours
from bot.crm.enums import Sender, TicketStatus
from bot.crm.store.base import as_utc

FALLBACK_INTENT = "nlu_fallback"
SMALL_TALK = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "thanks",
        "csat_score",
        "service_opinion",
        "stop",
        FALLBACK_INTENT,
    }
)
"""Intents that say nothing about why the customer came: never a conversation's intent."""
UNKNOWN = "unknown"
"""The intent (and channel) of conversations that have none."""
RETURN_WINDOW = timedelta(days=7)
"""How soon a customer must come back for a resolution to count as reopened, and how long
a contained conversation must stay quiet to count as durably contained."""


@dataclass(frozen=True)
class CustomerConversation:
    """One of the customer's conversations in which they wrote at least one message."""

    id: str
    started_at: datetime
    first_real_at: datetime | None
    """When the customer first wrote something that is not small talk in it (None: never)."""


def is_real(intent: str | None) -> bool:
    """A message that says why the customer is here: neither small talk nor unparsed."""
    return intent is not None and intent not in SMALL_TALK


@dataclass
class Handoff:
    created_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None
    status: str
    agent_id: int | None
    csat: int | None
    due_at: datetime | None
    reason: str | None


@dataclass
class ConversationInput:
    """Everything one conversation's fact is computed from."""

    id: str
    customer_id: int | None
    channel: str | None
    started_at: datetime
    ended_at: datetime
    customer_messages: int = 0
    fallback_messages: int = 0
    agent_messages: int = 0
    sentiment_mean: float | None = None
    sentiment_last: float | None = None
    intent: str | None = None
    handoff: Handoff | None = None
    timeline: list[tuple[str, datetime, str | None]] = field(default_factory=list)
    """(sender, time, intent) of a handed-off conversation's customer and agent messages,
    oldest first."""
    csat_bot: int | None = None
    segment_id: int | None = None


def build_fact(
    item: ConversationInput,
    customer: Sequence[CustomerConversation],
    hours: BusinessHours,
    now: datetime,
    computed_at: datetime,
) -> dict[str, Any]:
    """The `conversation_facts` row; `customer` holds the customer's conversations in which
    they wrote (any order; empty for an anonymous conversation)."""
    starts = sorted(other.started_at for other in customer)
    later = bisect.bisect_right(starts, item.started_at)
    next_started = starts[later] if later < len(starts) else None
    row: dict[str, Any] = {
        "conversation_id": item.id,
        "customer_id": item.customer_id,
        "channel": item.channel or UNKNOWN,
        "segment_id": item.segment_id,
        "intent": item.intent or UNKNOWN,
        "day": as_utc(item.started_at).date().isoformat(),
        "started_at": item.started_at,
        "ended_at": item.ended_at,
        "customer_messages": item.customer_messages,
        "fallback_messages": item.fallback_messages,
        "agent_messages": item.agent_messages,
        "handed_off": item.handoff is not None,
        "csat_bot": item.csat_bot,
        "sentiment_mean": item.sentiment_mean,
        "sentiment_last": item.sentiment_last,
        "next_started_at": next_started,
        "computed_at": computed_at,
        **_handoff_figures(item, customer, hours, now),
    }
    return row


def _handoff_figures(
    item: ConversationInput,
    customer: Sequence[CustomerConversation],
    hours: BusinessHours,
    now: datetime,
) -> dict[str, Any]:
    handoff = item.handoff
    if handoff is None:
        return dict.fromkeys(
            (
                "handoff_reason", "handoff_at", "agent_id", "first_response_s",
                "first_response_bh_s", "reply_times_s", "reply_times_bh_s", "handle_s",
                "handle_bh_s", "queue_wait_s", "sla_met", "resolved", "reopened", "csat_agent",
            )
        )  # fmt: skip
    after = [(sender, at) for sender, at, _ in item.timeline if at >= handoff.created_at]
    first_reply = next((at for sender, at in after if sender == Sender.AGENT.value), None)
    waits = _waits(after)
    resolved = handoff.status == TicketStatus.RESOLVED.value and handoff.resolved_at is not None
    return {
        "handoff_reason": handoff.reason,
        "handoff_at": handoff.created_at,
        "agent_id": handoff.agent_id,
        "first_response_s": _span(handoff.created_at, first_reply),
        "first_response_bh_s": _span(handoff.created_at, first_reply, hours),
        "reply_times_s": [_span(start, end) for start, end in waits],
        "reply_times_bh_s": [_span(start, end, hours) for start, end in waits],
        "handle_s": _span(handoff.claimed_at, handoff.resolved_at),
        "handle_bh_s": _span(handoff.claimed_at, handoff.resolved_at, hours),
        "queue_wait_s": _span(handoff.created_at, handoff.claimed_at),
        "sla_met": _sla_met(handoff.due_at, first_reply, now),
        "resolved": resolved,
        "reopened": _reopened(handoff.resolved_at, item, customer, now) if resolved else None,
        "csat_agent": handoff.csat if resolved else None,
    }


def _waits(timeline: list[tuple[str, datetime]]) -> list[tuple[datetime, datetime]]:
    """(first unanswered customer message, the agent message that answered it) pairs."""
    waits: list[tuple[datetime, datetime]] = []
    waiting: datetime | None = None
    for sender, at in timeline:
        if sender == Sender.CUSTOMER.value and waiting is None:
            waiting = at
        elif sender == Sender.AGENT.value and waiting is not None:
            waits.append((waiting, at))
            waiting = None
    return waits


def _span(
    start: datetime | None, end: datetime | None, hours: BusinessHours | None = None
) -> float | None:
    if start is None or end is None:
        return None
    start, end = as_utc(start), as_utc(end)
    if hours is not None:
        return hours.seconds(start, end)
    return max((end - start).total_seconds(), 0.0)


def _sla_met(due_at: datetime | None, first_reply: datetime | None, now: datetime) -> bool | None:
    """Met if answered by the due time; missed if answered later or still unanswered past
    it; not judged (None) without a due time or while unanswered and not yet due."""
    if due_at is None:
        return None
    if first_reply is not None:
        return as_utc(first_reply) <= as_utc(due_at)
    return False if now > as_utc(due_at) else None


def _reopened(
    resolved_at: datetime,
    item: ConversationInput,
    customer: Sequence[CustomerConversation],
    now: datetime,
) -> bool | None:
    """True once the customer wrote something that is not small talk within the window
    after the resolution: in this conversation, or in another of their conversations whose
    first such message falls in it. False once the window has passed without that; None
    (not judged yet) while it is still open, so recent days are not biased low."""
    until = resolved_at + RETURN_WINDOW
    if any(
        sender == Sender.CUSTOMER.value and is_real(intent) and resolved_at < at <= until
        for sender, at, intent in item.timeline
    ):
        return True
    if any(
        other.id != item.id
        and other.first_real_at is not None
        and resolved_at < other.first_real_at <= until
        for other in customer
    ):
        return True
    return False if now >= until else None
