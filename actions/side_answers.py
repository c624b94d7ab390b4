"""Which action answers each question from the customer's own records, so a question asked in
the middle of the lost-card form gets the same answer as outside it (the rules in
data/rules/account_data.yml and data/rules/faq.yml name the same actions)."""

from __future__ import annotations

from actions.account_answers import LOOKUPS
from actions.account_data import (
    ActionAccountBalance,
    ActionCardDetails,
    ActionIdentityStatus,
    ActionTransactionsByKind,
)
from actions.cards import ActionCardStatus
from actions.signed_in import SignedInAction
from actions.transactions import ActionRecentTransactions

DATA_ANSWERS: dict[str, type[SignedInAction]] = {
    "check_balance": ActionAccountBalance,
    "balance_not_updated_after_bank_transfer": ActionAccountBalance,
    **{intent: ActionTransactionsByKind for intent in LOOKUPS},
    "card_about_to_expire": ActionCardDetails,
    "virtual_card_not_working": ActionCardDetails,
    "activate_my_card": ActionCardDetails,
    "verify_my_identity": ActionIdentityStatus,
    "unable_to_verify_identity": ActionIdentityStatus,
    "card_arrival": ActionCardStatus,
    "card_delivery_estimate": ActionCardStatus,
    "card_payment_not_recognised": ActionRecentTransactions,
    "transaction_charged_twice": ActionRecentTransactions,
}
"""The action answering each question from the records, for a signed-in customer."""
