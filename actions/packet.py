"""The handoff packet: what an agent needs to pick up a conversation without asking again.

A packet covers the conversation since an agent last handed it back to the bot: a second
handoff is about what came after the first was resolved, not the first again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from actions.handoff_rules import request_text
from actions.tracker_view import TrackerView
from bot.crm.enums import HandoffReason, Sender
from bot.crm.store import CRMStore, NotFound
from bot.crm.ticket_search import TicketSearch
from nlp.sentiment import (
    FRUSTRATED_AT,
    NEGATIVE_AT,
    SentimentScore,
    score_conversation,
    trend,
)
from nlp.summarize import ThreadSummarizer, Turn

logger = logging.getLogger(__name__)

INTERNAL_SLOTS = {"requested_slot", "session_started_metadata"}
SIMILAR_TICKETS = 3
ASK_FOR_HUMAN = "ask_for_human"
COMPLAINT_INTENTS = frozenset(
    {
        "frustrated",
        "transaction_charged_twice",
        "card_payment_fee_charged",
        "Refund_not_showing_up",
        "terminate_account",
    }
)
"""Intents that complain about the bank, or announce leaving it: no cross-selling then."""
FRUSTRATION_REASONS = frozenset({HandoffReason.FRUSTRATION, HandoffReason.SEGMENT_STRATEGY})


def moods(turns: Sequence[Turn]) -> list[SentimentScore]:
    """The customer's messages scored for the agent's mood view.

    Asking for a person is a frustration cue for escalation (nlp.sentiment), but a request
    for an agent in a tone that is not negative is why the handoff exists, not a mood: shown
    as frustration it read "peak frustration 40%, worsening" for "can I speak to an agent
    please". Such a message keeps its tone and loses the frustration, here only.
    """
    customer = [turn for turn in turns if turn.speaker == Sender.CUSTOMER]
    scores = score_conversation([turn.text for turn in customer])
    return [
        replace(score, frustration=0.0)
        if turn.intent == ASK_FOR_HUMAN and score.compound > NEGATIVE_AT
        else score
        for turn, score in zip(customer, scores, strict=True)
    ]


def is_complaining(
    intents: Sequence[str | None], sentiments: Sequence[SentimentScore], reason: HandoffReason
) -> bool:
    """Whether the conversation reads as a complaint: no moment to sell anything.

    A worsening mood, a message with a frustration cue, a complaint intent, or a handoff
    that frustration triggered (by the default rules or by the segment's lower threshold).
    """
    return (
        trend(sentiments) == "worsening"
        or any(score.frustration >= FRUSTRATED_AT for score in sentiments)
        or any(intent in COMPLAINT_INTENTS for intent in intents)
        or reason in FRUSTRATION_REASONS
    )


def customer_card(
    store: CRMStore, customer_id: int | None, complaining: bool = False
) -> dict[str, Any] | None:
    """Who the customer is and how to serve them: segment, strategy, risk, channel, hints."""
    if customer_id is None:
        return None
    try:
        profile = store.customers.profile(customer_id)
    except NotFound:
        return None
    view = store.customer_view.view(profile["id"], complaining=complaining)
    segment = view["segment"]
    return {
        "id": profile["id"],
        "name": profile["name"],
        "segment": segment["name"] if segment else None,
        "segment_id": segment["id"] if segment else None,
        "segment_description": segment["description"] if segment else None,
        "strategy": view["strategy"],
        "risk": view["risk"],
        "preferred_channel": view["preferred_channel"],
        "cross_sell": view["cross_sell"],
    }


def similar_tickets(search: TicketSearch, request: str) -> list[dict[str, Any]]:
    """Past tickets like the request; none when the index cannot answer (its encoder did not
    load, say): they help the agent, and must never keep the customer from reaching one."""
    if not request:
        return []
    try:
        return search.query(request, SIMILAR_TICKETS)
    except Exception:
        logger.exception("no similar tickets for this handoff: the index did not answer")
        return []


def build_packet(
    view: TrackerView,
    reason: HandoffReason,
    customer_id: int | None,
    store: CRMStore,
    search: TicketSearch,
    general: frozenset[str],
) -> dict[str, Any]:
    view = view.current
    sentiments = moods(view.turns)
    request = request_text(view.turns, general)
    return {
        "summary": ThreadSummarizer().summarize(view.turns).text,
        "intents": [
            {"intent": score.intent, "confidence": score.confidence} for score in view.intents
        ],
        "entities": [
            {"entity": entity.get("entity"), "value": entity.get("value")}
            for turn in view.turns
            for entity in turn.entities
        ],
        "slots": {
            name: value
            for name, value in view.slots.items()
            if value is not None and name not in INTERNAL_SLOTS
        },
        "bot_attempts": [
            {"intent": attempt.intent, "actions": list(attempt.actions)}
            for attempt in view.bot_attempts
        ],
        "sentiment_trend": {
            "trend": trend(sentiments),
            "scores": [round(s.compound, 3) for s in sentiments],
            "frustration": [round(s.frustration, 3) for s in sentiments],
        },
        "customer": customer_card(
            store,
            customer_id,
            is_complaining([score.intent for score in view.intents], sentiments, reason),
        ),
        "similar_tickets": similar_tickets(search, request),
        "reason": reason,
    }
