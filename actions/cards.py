"""Card actions: delivery status from the CRM, and blocking the card the lost-card form named."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.card_rules import BLOCK_REASON, blocked_in_chat, delivery_answer
from actions.formatting import day
from actions.handoff import hand_over
from actions.lost_card_form import ASKED_SLOT, reset_form_slots
from actions.resources import crm_store, identified_customer
from actions.signed_in import SignedInAction
from actions.tracker_view import TrackerView, read_tracker
from bot.crm.enums import HandoffReason


class ActionCardStatus(SignedInAction):
    """Tells an identified customer where their new cards are, from the CRM's card records."""

    general_answers = {
        "card_arrival": "utter_card_arrival",
        "card_delivery_estimate": "utter_card_delivery_estimate",
    }

    def name(self) -> str:
        return "action_card_status"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        cards = crm_store().customers.cards(customer_id)
        for line in delivery_answer(cards, datetime.now(timezone.utc)):
            dispatcher.utter_message(text=line)
        return []


def confirmed_just_now(view: TrackerView) -> bool:
    """The customer's latest message is a yes to the question that named this very card."""
    digits = view.slots.get("card_last_four")
    return (
        view.latest_intent == "affirm"
        and view.slots.get("confirm_block") is True
        and digits is not None
        and digits == view.slots.get(ASKED_SLOT)
    )


class ActionBlockCard(Action):
    """Ends the lost-card form: blocks and replaces a signed-in customer's card on a just-given
    yes; a signed-out customer's report goes to a person at once (we cannot tell whose card it
    is, so the bot never blocks it)."""

    def name(self) -> str:
        return "action_block_card"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        digits = view.slots.get("card_last_four")
        customer_id = identified_customer(view)
        if customer_id is None and digits is not None:
            dispatcher.utter_message(response="utter_lost_card_to_person", card_last_four=digits)
            return reset_form_slots() + hand_over(dispatcher, view, HandoffReason.CUSTOMER_REQUEST)
        if customer_id is not None and digits is None:
            return reset_form_slots()  # the form has said why it ended (the card was blocked)
        if customer_id is None or not confirmed_just_now(view):
            dispatcher.utter_message(response="utter_block_cancelled")
            return reset_form_slots()
        store = crm_store()
        blocked = store.customers.block_and_replace(customer_id, digits, reason=BLOCK_REASON)
        if blocked is None:
            dispatcher.utter_message(response="utter_card_not_found", card_last_four=digits)
            return reset_form_slots()
        _, replacement = blocked
        store.tickets.create(
            **blocked_in_chat(digits, replacement),
            text=view.recent_customer_text(),
            conversation_id=view.conversation_id,
            customer_id=customer_id,
        )
        if replacement.expected_delivery is None:
            dispatcher.utter_message(
                response="utter_card_blocked_virtual",
                card_last_four=digits,
                new_last_four=replacement.last_four,
            )
        else:
            dispatcher.utter_message(
                response="utter_card_blocked",
                card_last_four=digits,
                new_last_four=replacement.last_four,
                arrival=day(replacement.expected_delivery),
            )
        return reset_form_slots()
