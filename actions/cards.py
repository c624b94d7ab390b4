"""Card actions: delivery status from the CRM, and the lost-card form that blocks a card."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.card_rules import (
    BLOCK_REASON,
    active_last_fours,
    blockable,
    blocked_in_chat,
    card_digits,
    in_transit,
    overdue,
    unverified_loss_report,
)
from actions.formatting import day
from actions.resources import crm_store, identified_customer
from actions.signed_in import SignedInAction
from actions.tracker_view import TrackerView, read_tracker
from bot.crm.enums import CardStatus
from bot.crm.store import CardInfo


def describe_delivery(card: CardInfo, now: datetime) -> str:
    name = f"Your {card.kind} {card.brand.title()} card ending in {card.last_four}"
    if card.expected_delivery is None:
        return f"{name} is being prepared."
    due = day(card.expected_delivery)
    if overdue(card, now):
        return (
            f"{name} should have arrived by {due}. If it hasn't, it may be lost in the post: "
            "tell me it's lost and I'll block it and send a new one."
        )
    if card.status == CardStatus.ORDERED:
        return f"{name} has been ordered and should arrive by {due}."
    return f"{name} was posted on {day(card.shipped_at)} and should arrive by {due}."


class ActionCardStatus(SignedInAction):
    """Tells an identified customer where their new cards are, from the CRM's card records."""

    def name(self) -> str:
        return "action_card_status"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        now = datetime.now(timezone.utc)
        cards = crm_store().customers.cards(customer_id)
        on_the_way = in_transit(cards)
        if on_the_way:
            for card in on_the_way:
                dispatcher.utter_message(text=describe_delivery(card, now))
            dispatcher.utter_message(text="New cards usually arrive within 5 to 9 working days.")
        else:
            active = ", ".join(active_last_fours(cards)) or "none"
            dispatcher.utter_message(
                text="You have no card on its way at the moment. "
                f"Your active cards end in: {active}."
            )
        return []


class ValidateLostCardForm(FormValidationAction):
    """Accepts only four digits, and for a known customer only digits of one of their cards."""

    def name(self) -> str:
        return "validate_lost_card_form"

    async def validate_card_last_four(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        digits = card_digits(slot_value)
        if digits is None:
            dispatcher.utter_message(response="utter_invalid_card_digits")
            return {"card_last_four": None}
        customer_id = identified_customer(read_tracker(tracker))
        if customer_id is not None and not blockable(
            crm_store().customers.cards(customer_id), digits
        ):
            dispatcher.utter_message(response="utter_card_not_found", card_last_four=digits)
            return {"card_last_four": None}
        return {"card_last_four": digits}


class ActionBlockCard(Action):
    """Blocks a known customer's card, or files a report for staff when we don't know who it is."""

    def name(self) -> str:
        return "action_block_card"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        digits = view.slots.get("card_last_four")
        reset = [SlotSet("card_last_four", None), SlotSet("confirm_block", None)]
        if view.slots.get("confirm_block") is not True or digits is None:
            dispatcher.utter_message(response="utter_block_cancelled")
            return reset
        customer_id = identified_customer(view)
        store = crm_store()
        if customer_id is None:
            store.tickets.create(
                **unverified_loss_report(digits),
                text=view.recent_customer_text(),
                conversation_id=view.conversation_id,
            )
            dispatcher.utter_message(response="utter_lost_card_reported", card_last_four=digits)
            return reset
        card = store.customers.block_card(customer_id, digits, reason=BLOCK_REASON)
        if card is None:
            dispatcher.utter_message(response="utter_card_not_found", card_last_four=digits)
            return reset
        store.tickets.create(
            **blocked_in_chat(digits),
            text=view.recent_customer_text(),
            conversation_id=view.conversation_id,
            customer_id=customer_id,
        )
        dispatcher.utter_message(response="utter_card_blocked", card_last_four=digits)
        return reset
