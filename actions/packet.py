"""The handoff packet: what an agent needs to pick up a conversation without asking again."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.crm.repository import CRMRepository, NotFound
from bot.crm.ticket_search import TicketSearch
from nlp.sentiment import score_conversation, trend
from nlp.summarize import ThreadSummarizer, Turn

GENERAL_INTENTS = {
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "ask_for_human",
    "out_of_scope",
    "inform",
    "frustrated",
    "give_feedback",
    "csat_score",
    "nlu_fallback",
}
URGENT_INTENTS = {"lost_or_stolen_card", "compromised_card", "card_payment_not_recognised"}
PRIORITY_BY_REASON = {"frustration": 1, "repeated_fallback": 2, "customer_request": 3}
QUIET_ACTIONS = {"action_listen", "action_session_start", "action_unlikely_intent"}
INTERNAL_SLOTS = {"requested_slot", "session_started_metadata"}
SIMILAR_TICKETS = 3


def event_intent(event: dict[str, Any]) -> dict[str, Any]:
    """The NLU intent (name and confidence) of a user event; empty if it has none."""
    return (event.get("parse_data") or {}).get("intent") or {}


def transcript(tracker: Tracker) -> list[Turn]:
    turns = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            entities = (event.get("parse_data") or {}).get("entities") or []
            turns.append(Turn("customer", event["text"], event_intent(event).get("name"), entities))
        elif event.get("event") == "bot" and event.get("text"):
            turns.append(Turn("bot", event["text"]))
    return turns


def customer_intents(tracker: Tracker) -> list[dict[str, Any]]:
    """Each customer message's intent with the classifier's confidence, in order."""
    intents = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            intent = event_intent(event)
            intents.append({"intent": intent.get("name"), "confidence": intent.get("confidence")})
    return intents


def bot_attempts(tracker: Tracker) -> list[dict[str, Any]]:
    """For each customer request, the actions the bot ran in answer."""
    attempts: list[dict[str, Any]] = []
    for event in tracker.events:
        if event.get("event") == "user":
            attempts.append({"intent": event_intent(event).get("name"), "actions": []})
        elif event.get("event") == "action" and attempts:
            name = event.get("name")
            if name not in QUIET_ACTIONS and name != "action_handoff":
                attempts[-1]["actions"].append(name)
    return [attempt for attempt in attempts if attempt["actions"]]


def main_category(turns: list[Turn]) -> str | None:
    """The customer's latest banking topic: the ticket's category for similar-ticket search."""
    topics = [turn.intent for turn in turns if turn.intent and turn.intent not in GENERAL_INTENTS]
    return topics[-1] if topics else None


def priority(reason: str, turns: list[Turn]) -> int:
    """1 is most urgent: frustration and card-safety topics first."""
    if any(turn.intent in URGENT_INTENTS for turn in turns):
        return 1
    return PRIORITY_BY_REASON.get(reason, 3)


def customer_card(store: CRMRepository, customer_id: int | None) -> dict[str, Any] | None:
    if customer_id is None:
        return None
    try:
        profile = store.customer_profile(customer_id)
    except NotFound:
        return None
    return {
        "id": profile["id"],
        "name": profile["name"],
        "segment": profile["segment"],
        "strategy": None,
    }


def build_packet(
    tracker: Tracker,
    reason: str,
    customer_id: int | None,
    store: CRMRepository,
    search: TicketSearch,
) -> dict[str, Any]:
    turns = transcript(tracker)
    customer_texts = [turn.text for turn in turns if turn.speaker == "customer"]
    sentiments = score_conversation(customer_texts)
    summary = ThreadSummarizer().summarize(turns)
    request = " ".join(
        turn.text
        for turn in turns
        if turn.speaker == "customer" and turn.intent not in GENERAL_INTENTS
    ) or " ".join(customer_texts)
    return {
        "summary": summary.text,
        "intents": customer_intents(tracker),
        "entities": [
            {"entity": entity.get("entity"), "value": entity.get("value")}
            for turn in turns
            for entity in turn.entities
        ],
        "slots": {
            name: value
            for name, value in tracker.slots.items()
            if value is not None and name not in INTERNAL_SLOTS
        },
        "bot_attempts": bot_attempts(tracker),
        "sentiment_trend": {
            "trend": trend(sentiments),
            "scores": [round(s.compound, 3) for s in sentiments],
            "frustration": [round(s.frustration, 3) for s in sentiments],
        },
        "customer": customer_card(store, customer_id),
        "similar_tickets": search.query(request, SIMILAR_TICKETS) if request else [],
        "reason": reason,
    }
