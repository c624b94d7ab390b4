"""Answers about unrecognised or duplicated payments from the customer's recent card payments."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.card_rules import PENDING
from actions.formatting import day, money
from actions.resources import crm_store
from actions.signed_in import SignedInAction
from actions.tracker_view import TrackerView


class ActionRecentTransactions(SignedInAction):
    """Lists the last card payments so the customer can point at the one that looks wrong."""

    general_answers = {
        "card_payment_not_recognised": "utter_card_payment_not_recognised",
        "transaction_charged_twice": "utter_transaction_charged_twice",
    }

    def name(self) -> str:
        return "action_recent_transactions"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        payments = crm_store().customers.recent_card_payments(customer_id, limit=5)
        if not payments:
            dispatcher.utter_message(text="I can't see any card payments on your account yet.")
            return []
        lines = [
            f"- {day(p['created_at'])}: {p['counterparty']} "
            f"{money(p['amount_cents'], p['currency'])} (card {p['card_last_four']}, {p['status']})"
            for p in payments
        ]
        dispatcher.utter_message(text="Here are your latest card payments:\n" + "\n".join(lines))
        if any(p["status"] == PENDING for p in payments):
            dispatcher.utter_message(
                text="A pending payment can still change: most are settled or dropped "
                "within 3 working days."
            )
        dispatcher.utter_message(
            text="If one isn't yours, tell me your card is compromised and I'll help you block "
            "it, or ask for a person to dispute it."
        )
        return []
