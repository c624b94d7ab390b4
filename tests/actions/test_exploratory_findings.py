"""Findings of the exploratory test of the data answers: money pending for months, a transfer
that hasn't reached a friend, general answers for the card and payment questions, cards in
expiry order, and data questions asked inside the lost-card form."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.account_answers import LOOKUPS, PENDING_LIMIT
from actions.account_data import GENERAL_ANSWERS
from actions.cards import ActionCardStatus
from actions.lost_card_form import ValidateLostCardForm
from actions.profile_answers import expiry_answer, virtual_card_answer
from actions.side_answers import DATA_ANSWERS
from actions.transactions import ActionRecentTransactions
from bot.crm.enums import CardStatus
from bot.crm.store import CRMStore
from bot.crm.store.ledger import CardDetail, LedgerStore, TransactionKind, TransactionStatus
from bot.settings import PROJECT_ROOT
from tests.actions.test_account_data import add_transactions, answer, texts
from tests.actions.test_actions import run
from tests.actions.test_cards import tracker as form_tracker

K, S = TransactionKind, TransactionStatus
NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)
RULES = Path(PROJECT_ROOT) / "data" / "rules"


# ------------------------------------------------ 1. pending at any age, oldest stuck noted


async def test_a_card_payment_pending_for_months_is_listed_and_pointed_out(
    seeded_store: CRMStore, newcomer: int
) -> None:
    add_transactions(
        seeded_store,
        newcomer,
        (K.CARD_PAYMENT, S.PENDING, -16_366, "GBP", "Lakeside Hotel", timedelta(days=71)),
        (K.CARD_PAYMENT, S.PENDING, -460, "GBP", "Corner Café", timedelta(hours=5)),
    )
    messages = await answer("pending_card_payment", newcomer)
    listing, stuck, then = (m["text"] for m in messages)
    assert listing.startswith(LOOKUPS["pending_card_payment"].found)
    assert "Lakeside Hotel -£163.66" in listing and "Corner Café -£4.60" in listing
    assert listing.index("Corner Café") < listing.index("Lakeside Hotel"), "newest first"
    assert "Lakeside Hotel £163.66 on " in stuck
    assert "pending for 71 days" in stuck and "Lakeside Hotel" in stuck
    assert then == LOOKUPS["pending_card_payment"].then


async def test_the_balance_counts_money_pending_for_months(
    seeded_store: CRMStore, newcomer: int
) -> None:
    add_transactions(
        seeded_store,
        newcomer,
        (K.CARD_PAYMENT, S.PENDING, -16_366, "GBP", "Lakeside Hotel", timedelta(days=71)),
    )
    said = texts(await answer("check_balance", newcomer))
    assert "(£163.66 going out)" in said
    assert "pending for 71 days" in said and "Lakeside Hotel" in said
    assert "connect you." in said and ".." not in said


async def test_the_count_limit_never_hides_the_oldest_pending(
    seeded_store: CRMStore, newcomer: int
) -> None:
    recent = [
        (K.CARD_PAYMENT, S.PENDING, -100, "GBP", f"Shop {i}", timedelta(hours=i + 1))
        for i in range(PENDING_LIMIT + 3)
    ]
    old = (K.CARD_PAYMENT, S.PENDING, -16_366, "GBP", "Lakeside Hotel", timedelta(days=71))
    add_transactions(seeded_store, newcomer, old, *recent)
    listing = (await answer("pending_card_payment", newcomer))[0]["text"]
    assert listing.count("\n- ") == PENDING_LIMIT
    assert "Lakeside Hotel" in listing


async def test_recent_pending_items_get_no_stuck_note(
    seeded_store: CRMStore, newcomer: int
) -> None:
    add_transactions(
        seeded_store,
        newcomer,
        (K.CARD_PAYMENT, S.PENDING, -460, "GBP", "Corner Café", timedelta(days=2)),
    )
    messages = await answer("pending_card_payment", newcomer)
    assert len(messages) == 2 and "pending for" not in texts(messages)
    assert "pending for" not in texts(await answer("check_balance", newcomer))


async def test_the_demo_customers_payment_pending_since_september_is_shown(
    seeded_store: CRMStore,
) -> None:
    said = texts(await answer("pending_card_payment", 1))
    assert "Blue Door Café" in said
    pending = LedgerStore(seeded_store.engine).movements(1, [K.CARD_PAYMENT], [S.PENDING], limit=50)
    assert pending[-1].created_at < datetime.now(timezone.utc) - timedelta(days=30)
    oldest = min(pending, key=lambda m: m.created_at)
    assert oldest.counterparty in said


# ------------------------------------------- 2. a transfer that hasn't reached the recipient


async def test_a_transfer_not_received_lists_the_transfers_that_did_not_complete(
    seeded_store: CRMStore,
) -> None:
    messages = await answer("transfer_not_received_by_recipient", 1)
    said = texts(messages)
    assert "to Tom Okafor -£75.00 (pending)" in said
    assert "to Priya Shah -£250.00 (failed)" in said
    assert "Oakfield Savings" not in said, "a completed transfer is not listed"


async def test_a_signed_out_transfer_question_gets_the_static_answer_and_sign_in(
    seeded_store: CRMStore,
) -> None:
    messages = await answer("transfer_not_received_by_recipient", None)
    assert [m["response"] for m in messages] == [
        "utter_transfer_not_received_by_recipient",
        "utter_need_sign_in",
    ]


def rules_of(path: Path) -> dict[str, str]:
    """intent -> the action a two-step rule answers it with."""
    found = {}
    for rule in yaml.safe_load(path.read_text())["rules"]:
        steps = rule["steps"]
        if len(steps) == 2 and "intent" in steps[0] and "condition" not in rule:
            found[steps[0]["intent"]] = steps[1]["action"]
    return found


def test_the_transfer_rule_moved_to_the_data_answers() -> None:
    data = rules_of(RULES / "account_data.yml")
    assert data["transfer_not_received_by_recipient"] == "action_transactions_by_kind"
    assert "transfer_not_received_by_recipient" not in rules_of(RULES / "faq.yml")


def test_the_forms_data_answers_are_the_rules_actions() -> None:
    rules = {**rules_of(RULES / "faq.yml"), **rules_of(RULES / "account_data.yml")}
    data_actions = {action().name() for action in DATA_ANSWERS.values()}
    expected = {intent: action for intent, action in rules.items() if action in data_actions}
    assert {intent: action().name() for intent, action in DATA_ANSWERS.items()} == expected


# ------------------------------- 3. general answers for card delivery and payment questions


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionCardStatus, "card_arrival"),
        (ActionCardStatus, "card_delivery_estimate"),
        (ActionRecentTransactions, "transaction_charged_twice"),
        (ActionRecentTransactions, "card_payment_not_recognised"),
    ],
)
async def test_signed_out_card_questions_get_general_advice_and_sign_in(
    seeded_store: CRMStore, action, intent: str
) -> None:
    asked = form_tracker(None, text="a question", intent=intent)
    events, dispatcher = await run(action(), asked)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == [f"utter_{intent}", "utter_need_sign_in"]


# ---------------------------------------------------------- 4. cards soonest-expiring first


def card(last_four: str, kind: str, expires: str) -> CardDetail:
    return CardDetail(last_four, "visa", kind, CardStatus.ACTIVE, expires, NOW, None)


def test_cards_are_listed_soonest_expiry_first() -> None:
    later, sooner = card("1111", "virtual", "01/27"), card("2222", "virtual", "12/26")
    for answer_ in (expiry_answer, virtual_card_answer):
        said = "\n".join(answer_([later, sooner], NOW))
        assert said.index("2222") < said.index("1111"), answer_.__name__
    far = "\n".join(
        expiry_answer([card("3333", "physical", "01/29"), card("4444", "physical", "12/28")], NOW)
    )
    assert far.index("4444") < far.index("3333")


# ------------------------------------------------- 5. data questions inside the lost-card form


async def ask_in_form(customer_id: int | None, text: str, intent: str) -> tuple[dict, list]:
    asked = form_tracker(customer_id, {"requested_slot": "card_last_four"}, text, intent)
    dispatcher = CollectingDispatcher()
    domain = {"responses": {f"utter_{i}": [] for i in GENERAL_ANSWERS}}
    result = await ValidateLostCardForm().validate_card_last_four(text, dispatcher, asked, domain)
    return result, dispatcher.messages


async def test_a_balance_question_in_the_form_is_answered_from_the_records(
    seeded_store: CRMStore,
) -> None:
    result, messages = await ask_in_form(1, "what is my balance?", "check_balance")
    assert result == {"card_last_four": None}, "answered, not counted as a failure"
    assert texts(messages).startswith("Your balance is £")


async def test_a_pending_transfer_question_in_the_form_is_answered_from_the_records(
    seeded_store: CRMStore,
) -> None:
    result, messages = await ask_in_form(1, "any pending transfers?", "pending_transfer")
    assert result == {"card_last_four": None}
    assert "to Tom Okafor -£75.00" in texts(messages)


async def test_a_signed_out_data_question_in_the_form_gets_the_general_answer(
    seeded_store: CRMStore,
) -> None:
    result, messages = await ask_in_form(None, "what is my balance?", "check_balance")
    assert result == {"card_last_four": None}
    assert [m["response"] for m in messages] == ["utter_check_balance"]
