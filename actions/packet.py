"""The handoff packet: what an agent needs to pick up a conversation without asking again."""

from __future__ import annotations

from typing import Any

from actions.handoff_rules import request_text
from actions.tracker_view import TrackerView
from bot.crm.enums import HandoffReason
from bot.crm.store import CRMStore, NotFound
from bot.crm.ticket_search import TicketSearch
from nlp.sentiment import score_conversation, trend
from nlp.summarize import ThreadSummarizer

INTERNAL_SLOTS = {"requested_slot", "session_started_metadata"}
SIMILAR_TICKETS = 3


def customer_card(store: CRMStore, customer_id: int | None) -> dict[str, Any] | None:
    if customer_id is None:
        return None
    try:
        profile = store.customers.profile(customer_id)
    except NotFound:
        return None
    return {"id": profile["id"], "name": profile["name"], "segment": profile["segment"]}


def build_packet(
    view: TrackerView,
    reason: HandoffReason,
    customer_id: int | None,
    store: CRMStore,
    search: TicketSearch,
    general: frozenset[str],
) -> dict[str, Any]:
    sentiments = score_conversation(list(view.customer_texts))
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
        "customer": customer_card(store, customer_id),
        "similar_tickets": search.query(request, SIMILAR_TICKETS) if request else [],
        "reason": reason,
    }
