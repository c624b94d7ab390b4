"""Answers from the customer's own records: balance, money in flight or gone wrong, cards and the
identity check. Only for a customer the channel signed in (actions.signed_in).

A customer who is not signed in gets the general answer to their question, where the bot has
one, and is asked to sign in for their own details: their data is never read without a
verified claim for this conversation.
"""

from __future__ import annotations

from abc import ABC
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.account_answers import (
    LOOKUPS,
    PENDING_LIMIT,
    Lookup,
    incoming_answer,
    movements_answer,
    pending_note,
)
from actions.formatting import money
from actions.profile_answers import (
    activation_answer,
    expiry_answer,
    identity_answer,
    virtual_card_answer,
)
from actions.resources import crm_store
from actions.signed_in import SignedInAction
from actions.tracker_view import TrackerView
from bot.crm.store.ledger import LedgerStore, TransactionKind, TransactionStatus

GENERAL_ANSWERS = {
    "check_balance": "utter_check_balance",
    "balance_not_updated_after_bank_transfer": "utter_balance_not_updated_after_bank_transfer",
    "pending_card_payment": "utter_pending_card_payment",
    "reverted_card_payment": "utter_reverted_card_payment",
    "pending_top_up": "utter_pending_top_up",
    "top_up_reverted": "utter_top_up_reverted",
    "top_up_failed": "utter_top_up_failed",
    "pending_cash_withdrawal": "utter_pending_cash_withdrawal",
    "cash_withdrawal_not_recognised": "utter_cash_withdrawal_not_recognised",
    "failed_transfer": "utter_failed_transfer",
    "declined_transfer": "utter_declined_transfer",
    "pending_transfer": "utter_pending_transfer",
    "transfer_timing": "utter_transfer_timing",
    "transfer_not_received_by_recipient": "utter_transfer_not_received_by_recipient",
    "direct_debit_payment_not_recognised": "utter_direct_debit_payment_not_recognised",
    "extra_charge_on_statement": "utter_extra_charge_on_statement",
    "Refund_not_showing_up": "utter_Refund_not_showing_up",
    "request_refund": "utter_request_refund",
    "card_about_to_expire": "utter_card_about_to_expire",
    "virtual_card_not_working": "utter_virtual_card_not_working",
    "activate_my_card": "utter_activate_my_card",
    "verify_my_identity": "utter_verify_my_identity",
    "unable_to_verify_identity": "utter_unable_to_verify_identity",
}
"""What a customer who is not signed in is told before being asked to sign in: the answer
that needs no account (the response of the same name in domain.yml)."""
INCOMING_DAYS = timedelta(days=7)
PENDING_LIMIT_BALANCE = 50
"""Pending items totalled under the balance: at any age, oldest first."""
LATEST = Lookup(
    tuple(TransactionKind),
    None,
    "Here are your latest transactions:",
    "Tap any of them under Payments → History in the Northwind app for the details.",
    "I can't see any transactions on your account in the last 60 days.",
)
"""For an intent with no lookup of its own (a story the rules did not foresee)."""


def ledger() -> LedgerStore:
    """The ledger over the action server's CRM engine (cheap: it only holds a session maker)."""
    return LedgerStore(crm_store().engine)


def now() -> datetime:
    return datetime.now(timezone.utc)


def say(dispatcher: CollectingDispatcher, lines: list[str]) -> list[dict[str, Any]]:
    for line in lines:
        dispatcher.utter_message(text=line)
    return []


class AccountDataAction(SignedInAction, ABC):
    """A signed-in customer's answer from their records; the general answer and a request to
    sign in for anyone else."""

    general_answers = GENERAL_ANSWERS


class ActionAccountBalance(AccountDataAction):
    """check_balance and balance_not_updated_after_bank_transfer: the balance of each account,
    with what is pending or what came in lately."""

    def name(self) -> str:
        return "action_account_balance"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        store = ledger()
        accounts = store.balances(customer_id)
        if not accounts:
            return say(
                dispatcher,
                ["I can't find an account in your name. A person from our team can look into it."],
            )
        lines = [
            f"Your balance is {money(a.balance_cents, a.currency)} "
            f"(account ending {a.account_ending}{'' if a.status == 'open' else ', ' + a.status})."
            for a in accounts
        ]
        if view.latest_intent == "balance_not_updated_after_bank_transfer":
            transfers = store.movements(
                customer_id,
                [TransactionKind.TRANSFER_IN],
                since=now() - INCOMING_DAYS,
                limit=5,
            )
            return say(dispatcher, lines + incoming_answer(transfers))
        pending = store.movements(
            customer_id,
            tuple(TransactionKind),
            [TransactionStatus.PENDING],
            limit=PENDING_LIMIT_BALANCE,
            oldest_first=True,  # a limit never hides the longest-stuck ones
        )[::-1]
        note = pending_note(pending, now())
        return say(dispatcher, lines + ([note] if note else []))


class ActionTransactionsByKind(AccountDataAction):
    """Pending, reversed, failed, declined, unrecognised... : the transactions of the kind the
    customer asks about (actions.account_answers.LOOKUPS), and what they can do next."""

    def name(self) -> str:
        return "action_transactions_by_kind"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        lookup = LOOKUPS.get(view.latest_intent or "", LATEST)
        if lookup.since is None:  # pending at any age: the oldest are never cut off
            movements = ledger().movements(
                customer_id, lookup.kinds, lookup.statuses, limit=PENDING_LIMIT, oldest_first=True
            )[::-1]  # listed newest first, like every other list
        else:
            movements = ledger().movements(
                customer_id, lookup.kinds, lookup.statuses, since=now() - lookup.since, limit=5
            )
        return say(dispatcher, movements_answer(lookup, movements, now()))


class ActionCardDetails(AccountDataAction):
    """card_about_to_expire, virtual_card_not_working and activate_my_card, from the cards."""

    def name(self) -> str:
        return "action_card_details"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        cards = ledger().card_details(customer_id)
        if view.latest_intent == "virtual_card_not_working":
            return say(dispatcher, virtual_card_answer(cards, now()))
        if view.latest_intent == "activate_my_card":
            return say(dispatcher, activation_answer(cards, now()))
        return say(dispatcher, expiry_answer(cards, now()))


class ActionIdentityStatus(AccountDataAction):
    """verify_my_identity and unable_to_verify_identity: where the customer's check stands."""

    def name(self) -> str:
        return "action_identity_status"

    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        check = ledger().identity(customer_id)
        if check is None:
            return say(
                dispatcher,
                ["I can't find your profile. A person from our team can look into it."],
            )
        return say(dispatcher, identity_answer(check))
