"""Card actions: delivery status from the CRM, and the lost-card form that blocks a card."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.formatting import day
from actions.store import identified_customer, recent_customer_text, repository
from bot.crm.repository import CardInfo

CARD_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")
IN_TRANSIT = ("ordered", "shipped")


def describe_delivery(card: CardInfo, now: datetime) -> str:
    name = f"Your {card.kind} {card.brand.title()} card ending in {card.last_four}"
    if card.expected_delivery is None:
        return f"{name} is being prepared."
    due = day(card.expected_delivery)
    if card.expected_delivery < now:
        return (
            f"{name} should have arrived by {due}. If it hasn't, it may be lost in the post: "
            "tell me it's lost and I'll block it and send a new one."
        )
    if card.status == "ordered":
        return f"{name} has been ordered and should arrive by {due}."
    return f"{name} was posted on {day(card.shipped_at)} and should arrive by {due}."


class ActionCardStatus(Action):
    """Tells an identified customer where their new cards are, from the CRM's card records."""

    def name(self) -> str:
        return "action_card_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        customer_id = identified_customer(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_need_sign_in")
            return []
        now = datetime.now(timezone.utc)
        cards = repository().customer_cards(customer_id)
        in_transit = [card for card in cards if card.status in IN_TRANSIT]
        if in_transit:
            for card in in_transit:
                dispatcher.utter_message(text=describe_delivery(card, now))
            dispatcher.utter_message(text="New cards usually arrive within 5 to 9 working days.")
        else:
            active = ", ".join(c.last_four for c in cards if c.status == "active") or "none"
            dispatcher.utter_message(
                text="You have no card on its way at the moment. "
                f"Your active cards end in: {active}."
            )
        return []


def card_digits(text: object) -> str | None:
    match = CARD_DIGITS.search(text) if isinstance(text, str) else None
    return match.group(1) if match else None


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
        customer_id = identified_customer(tracker)
        if customer_id is not None:
            cards = repository().customer_cards(customer_id)
            if not any(c.last_four == digits and c.status != "blocked" for c in cards):
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
        digits = tracker.get_slot("card_last_four")
        reset = [SlotSet("card_last_four", None), SlotSet("confirm_block", None)]
        if tracker.get_slot("confirm_block") is not True or digits is None:
            dispatcher.utter_message(response="utter_block_cancelled")
            return reset
        customer_id = identified_customer(tracker)
        store = repository()
        if customer_id is None:
            store.create_ticket(
                kind="lost_card",
                subject=f"Lost card ending in {digits}: unverified customer",
                text=recent_customer_text(tracker),
                conversation_id=tracker.sender_id,
                priority=1,
            )
            dispatcher.utter_message(response="utter_lost_card_reported", card_last_four=digits)
            return reset
        card = store.block_card(customer_id, digits, reason="reported lost or stolen in chat")
        if card is None:
            dispatcher.utter_message(response="utter_card_not_found", card_last_four=digits)
            return reset
        store.create_ticket(
            kind="lost_card",
            subject=f"Card ending in {digits} blocked by the bot",
            text=recent_customer_text(tracker),
            conversation_id=tracker.sender_id,
            customer_id=customer_id,
            status="resolved",
            resolution="Card blocked in chat at the customer's request; replacement ordered.",
        )
        dispatcher.utter_message(response="utter_card_blocked", card_last_four=digits)
        return reset
