"""Hands the conversation to a person: a ticket with its packet in the queue, and the bot pauses."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.packet import build_packet, event_intent, main_category, priority, transcript
from actions.store import identified_customer, repository, ticket_search

REASON_BY_INTENT = {"frustrated": "frustration", "nlu_fallback": "repeated_fallback"}
SUBJECT_BY_REASON = {
    "customer_request": "Customer asked for a person",
    "frustration": "Customer is frustrated",
    "repeated_fallback": "The bot did not understand twice",
}


def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> list[dict[str, Any]]:
    """Queue the conversation with its packet, tell the customer their place, pause the bot."""
    store = repository()
    customer_id = identified_customer(tracker)
    turns = transcript(tracker)
    packet = build_packet(tracker, reason, customer_id, store, ticket_search())
    ticket_id = store.open_handoff(
        conversation_id=tracker.sender_id,
        customer_id=customer_id,
        reason=reason,
        priority=priority(reason, turns),
        subject=SUBJECT_BY_REASON[reason],
        text="\n".join(turn.text for turn in turns if turn.speaker == "customer")[-2000:],
        packet=packet,
        category=main_category(turns),
    )
    dispatcher.utter_message(
        response="utter_handoff", queue_position=store.queue_position(ticket_id)
    )
    return [ConversationPaused()]


class ActionHandoff(Action):
    """Hands over on request or frustration; the reason comes from the triggering intent."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return hand_over(dispatcher, tracker, REASON_BY_INTENT.get(intent, "customer_request"))


class ActionFallback(Action):
    """Asks to rephrase once; a second misunderstanding in a row goes to a person."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        user_intents = [
            event_intent(event).get("name")
            for event in tracker.events
            if event.get("event") == "user"
        ]
        if user_intents[-2:] == ["nlu_fallback", "nlu_fallback"]:
            return hand_over(dispatcher, tracker, "repeated_fallback")
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
