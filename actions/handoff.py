"""Hands the conversation to a person by opening a ticket in the CRM queue."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import identified_customer, recent_customer_text, repository


class ActionHandoff(Action):
    """Opens a handoff ticket carrying what the customer said, then tells them what happens next."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        repository().create_ticket(
            kind="handoff",
            subject="Customer asked for a person",
            text=recent_customer_text(tracker),
            conversation_id=tracker.sender_id,
            customer_id=identified_customer(tracker),
            packet={"reason": "customer_request"},
        )
        dispatcher.utter_message(response="utter_handoff")
        return []
