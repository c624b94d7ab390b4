"""Answers from a customer's own records over a seeded CRM: what the data shows, a customer with
nothing of that kind, and nobody else's records for a customer who isn't signed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions import profile_answers
from actions.account_answers import LOOKUPS, incoming_answer, pending_note
from actions.account_data import (
    GENERAL_ANSWERS,
    ActionAccountBalance,
    ActionCardDetails,
    ActionIdentityStatus,
    ActionTransactionsByKind,
)
from actions.profile_answers import (
    ISSUES,
    expiry_answer,
    identity_answer,
    months_left,
    virtual_card_answer,
)
from bot.crm.enums import CardStatus
from bot.crm.models import Account, Customer, Transaction
from bot.crm.seed_ledger import DEMO_EVENTS, DEMO_VIRTUAL_CARD
from bot.crm.store import CRMStore
from bot.crm.store.ledger import (
    IDENTITY_ISSUES,
    CardDetail,
    IdentityCheck,
    IdentityStatus,
    Movement,
    TransactionKind,
    TransactionStatus,
)
from tests.actions.test_actions import claim, run

CONVERSATION = "conv-actions"
ACTION_BY_INTENT = {
    "check_balance": ActionAccountBalance,
    "balance_not_updated_after_bank_transfer": ActionAccountBalance,
    **{intent: ActionTransactionsByKind for intent in LOOKUPS},
    "card_about_to_expire": ActionCardDetails,
    "virtual_card_not_working": ActionCardDetails,
    "activate_my_card": ActionCardDetails,
    "verify_my_identity": ActionIdentityStatus,
    "unable_to_verify_identity": ActionIdentityStatus,
}
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def tracker(intent: str, metadata: dict | None = None, text: str = "a question") -> Tracker:
    """One message with `intent`, carrying `metadata` (a claim, or nothing)."""
    parse_data = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    event = {
        "event": "user",
        "text": text,
        "timestamp": 1.0,
        "metadata": metadata or {},
        "parse_data": parse_data,
    }
    return Tracker(
        sender_id=CONVERSATION,
        slots={},
        latest_message=parse_data,
        events=[event],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def answer(intent: str, customer_id: int | None) -> list[dict]:
    metadata = claim(customer_id, CONVERSATION) if customer_id else {}
    events, dispatcher = await run(ACTION_BY_INTENT[intent](), tracker(intent, metadata))
    assert events == []
    return dispatcher.messages


def texts(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages if m.get("text"))


def test_every_intent_answered_from_data_has_a_general_answer_for_anonymous_customers() -> None:
    assert set(ACTION_BY_INTENT) == set(GENERAL_ANSWERS)


# ------------------------------------------------------------------ who may read the records


@pytest.mark.parametrize("intent", sorted(ACTION_BY_INTENT))
async def test_anonymous_customers_get_the_general_answer_and_are_asked_to_sign_in(
    seeded_store: CRMStore, intent: str
) -> None:
    messages = await answer(intent, None)
    assert [m["response"] for m in messages] == [GENERAL_ANSWERS[intent], "utter_need_sign_in"]
    assert texts(messages) == ""


@pytest.mark.parametrize(
    "forged",
    [
        claim(1, "another-conversation"),
        claim(1, CONVERSATION, key="not-the-server-key"),
        {"crm_customer": {"id": 1, "sig": "0" * 64}},
        {"crm_customer": {"id": "1", "sig": None}},
        {"crm_customer": 1},
    ],
)
async def test_a_forged_or_borrowed_claim_reads_nobodys_records(
    seeded_store: CRMStore, forged: dict
) -> None:
    for intent in ("check_balance", "pending_card_payment", "verify_my_identity"):
        events, dispatcher = await run(ACTION_BY_INTENT[intent](), tracker(intent, forged))
        assert [m["response"] for m in dispatcher.messages][-1] == "utter_need_sign_in"
        assert texts(dispatcher.messages) == ""


async def test_a_claim_on_an_earlier_message_does_not_sign_in_the_latest(
    seeded_store: CRMStore,
) -> None:
    signed = tracker("check_balance", claim(1, CONVERSATION))
    latest = dict(signed.events[0], metadata={}, timestamp=2.0)
    signed.events.append(latest)
    _, dispatcher = await run(ActionAccountBalance(), signed)
    assert [m["response"] for m in dispatcher.messages][-1] == "utter_need_sign_in"


# ------------------------------------------------------------- the demo customer's records


async def test_the_balance_and_what_is_still_pending(seeded_store: CRMStore) -> None:
    said = texts(await answer("check_balance", 1))
    assert said.startswith("Your balance is £")
    assert "pending transactions" in said and "coming in" in said and "going out" in said


async def test_a_transfer_in_on_its_way_is_named(seeded_store: CRMStore) -> None:
    said = texts(await answer("balance_not_updated_after_bank_transfer", 1))
    assert "Your balance is £" in said
    assert "from Sam Porter £180.00" in said and "being checked" in said


def demo_counterparties(intent: str) -> set[str]:
    lookup = LOOKUPS[intent]
    return {
        counterparty
        for kind, status, _, counterparty, _ in DEMO_EVENTS
        if kind in lookup.kinds and (lookup.statuses is None or status in lookup.statuses)
    }


@pytest.mark.parametrize("intent", sorted(LOOKUPS))
async def test_each_question_lists_the_demo_customers_matching_records(
    seeded_store: CRMStore, intent: str
) -> None:
    lookup = LOOKUPS[intent]
    messages = await answer(intent, 1)
    said = texts(messages)
    assert said.startswith(lookup.found)
    assert messages[-1]["text"] == lookup.then
    for counterparty in demo_counterparties(intent):
        assert counterparty in said
    others = {c for _, _, _, c, _ in DEMO_EVENTS} - demo_counterparties(intent)
    assert not any(f": {other}" in said or f"to {other}" in said for other in others)


async def test_the_virtual_card_about_to_expire_and_how_to_replace_it(
    seeded_store: CRMStore,
) -> None:
    said = texts(await answer("card_about_to_expire", 1))
    assert f"virtual Visa card ending in {DEMO_VIRTUAL_CARD} expires at the end of" in said
    assert "Virtual cards aren't renewed" in said
    said = texts(await answer("virtual_card_not_working", 1))
    assert f"ending in {DEMO_VIRTUAL_CARD} is active" in said and "not at ATMs" in said


async def test_a_card_on_its_way_is_activated_once_it_arrives(seeded_store: CRMStore) -> None:
    said = texts(await answer("activate_my_card", 1))
    assert "is still on its way" in said and "'Activate'" in said


@pytest.mark.parametrize(
    ("customer_id", "expected"),
    [
        (1, "Your identity is already verified since"),
        (2, "Your last identity check didn't pass because"),
        (3, "is still being reviewed"),
        (4, "You haven't started an identity check yet."),
    ],
)
async def test_where_the_identity_check_stands(
    seeded_store: CRMStore, customer_id: int, expected: str
) -> None:
    for intent in ("verify_my_identity", "unable_to_verify_identity"):
        assert expected in texts(await answer(intent, customer_id))


async def test_another_customer_never_sees_the_demo_customers_records(
    seeded_store: CRMStore,
) -> None:
    for intent in ("pending_card_payment", "failed_transfer", "Refund_not_showing_up"):
        said = texts(await answer(intent, 2))
        assert "Blue Door Café" not in said and "Priya Shah" not in said


# ------------------------------------------------------------- a customer with nothing yet


@pytest.mark.parametrize("intent", sorted(LOOKUPS))
async def test_nothing_of_that_kind_gets_an_honest_answer(newcomer: int, intent: str) -> None:
    messages = await answer(intent, newcomer)
    assert texts(messages) == LOOKUPS[intent].none


async def test_a_newcomers_balance_cards_and_identity(newcomer: int) -> None:
    assert texts(await answer("check_balance", newcomer)) == (
        "Your balance is £0.00 (account ending 9999)."
    )
    said = texts(await answer("balance_not_updated_after_bank_transfer", newcomer))
    assert "I can't see any transfer into your account in the last 7 days" in said
    assert "no card in use" in texts(await answer("card_about_to_expire", newcomer))
    assert "You don't have a virtual card yet" in texts(
        await answer("virtual_card_not_working", newcomer)
    )
    assert "You have no card waiting to be activated" in texts(
        await answer("activate_my_card", newcomer)
    )
    assert "You haven't started" in texts(await answer("verify_my_identity", newcomer))


async def test_a_customer_with_no_account_is_told_so(seeded_store: CRMStore) -> None:
    with Session(seeded_store.engine) as session, session.begin():
        customer = Customer(name="No Account", created_at=datetime.now(timezone.utc))
        session.add(customer)
        session.flush()
        lonely = customer.id
    assert "can't find an account" in texts(await answer("check_balance", lonely))


def add_transactions(store: CRMStore, customer_id: int, *rows: tuple) -> None:
    """(kind, status, amount in cents, currency, counterparty, how long ago) on the customer's
    account in that currency, opened for it if the customer has none yet."""
    with Session(store.engine) as session, session.begin():
        accounts = {
            a.currency: a for a in session.query(Account).filter_by(customer_id=customer_id)
        }
        for kind, status, cents, currency, counterparty, ago in rows:
            if currency not in accounts:
                accounts[currency] = Account(
                    customer_id=customer_id,
                    iban=f"GB00NWBK{customer_id:06d}{len(accounts):08d}",
                    currency=currency,
                )
                session.add(accounts[currency])
                session.flush()
            session.add(
                Transaction(
                    account_id=accounts[currency].id,
                    kind=str(kind),
                    status=str(status),
                    amount_cents=cents,
                    currency=currency,
                    counterparty=counterparty,
                    created_at=datetime.now(timezone.utc) - ago,
                )
            )


async def test_a_failed_transfer_in_is_never_said_to_be_in_the_balance(
    seeded_store: CRMStore, newcomer: int
) -> None:
    K, S = TransactionKind, TransactionStatus
    add_transactions(
        seeded_store,
        newcomer,
        (K.TRANSFER_IN, S.FAILED, 25_000, "GBP", "Leo Park", timedelta(hours=1)),
        (K.TRANSFER_IN, S.COMPLETED, 4_000, "GBP", "Ada Ray", timedelta(hours=3)),
    )
    messages = await answer("balance_not_updated_after_bank_transfer", newcomer)
    [in_balance] = [m["text"] for m in messages if "already in your balance" in m["text"]]
    assert "from Ada Ray £40.00" in in_balance and "Leo Park" not in in_balance
    [not_added] = [m["text"] for m in messages if "Leo Park" in m["text"]]
    assert "aren't in your balance" in not_added
    assert "from Leo Park £250.00 (failed)" in not_added


async def test_pending_money_is_totalled_per_currency(
    seeded_store: CRMStore, newcomer: int
) -> None:
    K, S = TransactionKind, TransactionStatus
    add_transactions(
        seeded_store,
        newcomer,
        (K.CARD_PAYMENT, S.PENDING, -1_200, "GBP", "Corner Shop", timedelta(hours=2)),
        (K.CARD_PAYMENT, S.PENDING, -800, "GBP", "Bakery", timedelta(hours=3)),
        (K.TRANSFER_IN, S.PENDING, 3_000, "EUR", "Marie Dubois", timedelta(hours=1)),
    )
    said = texts(await answer("check_balance", newcomer))
    assert "(€30.00 coming in and £20.00 going out)" in said, "newest first, per currency"


# ------------------------------------------------------------------------- the wording


def card(last_four: str, kind: str, status: CardStatus, expires: str) -> CardDetail:
    return CardDetail(last_four, "visa", kind, status, expires, NOW, None)


def test_months_left_counts_from_this_month() -> None:
    assert months_left("11/26", NOW) == 0
    assert months_left("01/27", NOW) == 2
    assert months_left("10/26", NOW) == -1
    assert months_left("soon", NOW) is None


def test_expiry_distinguishes_physical_virtual_expired_and_far_off_cards() -> None:
    lines = expiry_answer(
        [
            card("1111", "physical", CardStatus.ACTIVE, "12/26"),
            card("2222", "virtual", CardStatus.ACTIVE, "10/26"),
            card("3333", "physical", CardStatus.ACTIVE, "05/29"),
            card("4444", "physical", CardStatus.BLOCKED, "12/26"),
        ],
        NOW,
    )
    assert len(lines) == 2, "soonest expiry first: the expired card, then 12/26"
    assert "ending in 2222 has expired" in lines[0] and "aren't renewed" in lines[0]
    assert "ending in 1111 expires at the end of 12/26" in lines[1] and "replacement" in lines[1]
    far = expiry_answer([card("3333", "physical", CardStatus.ACTIVE, "05/29")], NOW)
    assert far == [
        "None of your cards expires in the next 2 months: your Visa card ending in 3333 on 05/29."
    ]


def test_an_expired_physical_card_is_not_promised_a_replacement_before_expiry() -> None:
    [line] = expiry_answer([card("1111", "physical", CardStatus.ACTIVE, "10/26")], NOW)
    assert line == (
        "Your Visa card ending in 1111 expired at the end of 10/26, so it can't be used any "
        "more: order a replacement for free under Cards → Replace card in the Northwind app."
    )
    assert "about a month before" not in line


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CardStatus.ACTIVE, "use your Visa card ending in 5555 instead, which is active"),
        (CardStatus.DELIVERED, "your Visa card ending in 5555 has arrived, so activate it"),
        (CardStatus.SHIPPED, "your Visa card ending in 5555 is on its way, expected by 24 Nov"),
    ],
)
def test_an_expired_physical_card_points_to_its_replacement(
    status: CardStatus, expected: str
) -> None:
    old = replace(
        card("1111", "physical", CardStatus.ACTIVE, "10/26"), ordered_at=NOW - timedelta(days=1500)
    )
    new = replace(
        card("5555", "physical", status, "10/30"), expected_delivery=NOW + timedelta(days=4)
    )
    lines = expiry_answer([new, old], NOW)
    [line] = [text for text in lines if "1111" in text]
    assert "expired at the end of 10/26" in line and expected in line


def test_about_to_expire_means_within_soon_months(monkeypatch: pytest.MonkeyPatch) -> None:
    three_months = [card("1111", "physical", CardStatus.ACTIVE, "02/27")]
    assert expiry_answer(three_months, NOW)[0].startswith("None of your cards expires")
    monkeypatch.setattr(profile_answers, "SOON_MONTHS", 3)
    assert "expires at the end of 02/27" in expiry_answer(three_months, NOW)[0]


def test_a_blocked_or_expired_virtual_card_needs_a_new_one() -> None:
    blocked = virtual_card_answer([card("2222", "virtual", CardStatus.BLOCKED, "12/28")], NOW)
    assert blocked == [
        "Your virtual Visa card ending in 2222 is blocked, so it can't be used: create a new "
        "one for free under Cards → Add card → Virtual card in the Northwind app."
    ]
    expired = virtual_card_answer([card("2222", "virtual", CardStatus.ACTIVE, "10/26")], NOW)
    assert "expired at the end of 10/26" in expired[0]


@pytest.mark.parametrize("issue", IDENTITY_ISSUES)
def test_every_identity_issue_is_explained_with_a_fix(issue: str) -> None:
    why, fix = ISSUES[issue]
    lines = identity_answer(IdentityCheck(IdentityStatus.FAILED, issue, NOW))
    assert why in lines[0] and fix in lines[1] and "Profile → Verify identity" in lines[1]


def test_pending_note_sums_money_in_and_out() -> None:
    def moved(cents: int) -> Movement:
        return Movement(
            1,
            TransactionKind.TOP_UP,
            TransactionStatus.PENDING,
            cents,
            "GBP",
            "x",
            NOW - timedelta(hours=1),
            None,
        )

    assert pending_note([]) is None
    note = pending_note([moved(-460), moved(-7_500), moved(5_000)])
    assert "£79.60 going out and £50.00 coming in" in note


def movement(
    cents: int,
    status: TransactionStatus = TransactionStatus.PENDING,
    currency: str = "GBP",
    kind: TransactionKind = TransactionKind.TOP_UP,
    counterparty: str = "x",
) -> Movement:
    return Movement(1, kind, status, cents, currency, counterparty, NOW, None)


def test_pending_note_totals_each_currency_on_its_own() -> None:
    note = pending_note(
        [movement(-1_000), movement(-2_000, currency="EUR"), movement(500), movement(-250)]
    )
    assert "(£12.50 going out, £5.00 coming in and €20.00 going out)" in note
    assert "€" not in pending_note([movement(-1_000), movement(300)])
    assert pending_note([movement(0)]).startswith("You also have pending transactions that")


@pytest.mark.parametrize(
    "status", [TransactionStatus.FAILED, TransactionStatus.DECLINED, TransactionStatus.REVERTED]
)
def test_a_transfer_in_that_did_not_go_through_is_not_in_the_balance(
    status: TransactionStatus,
) -> None:
    [message] = incoming_answer(
        [movement(9_900, status, kind=TransactionKind.TRANSFER_IN, counterparty="Leo Park")]
    )
    assert "aren't in your balance" in message and "already in your balance" not in message
    word = {"failed": "failed", "declined": "declined", "reverted": "reversed"}[str(status)]
    assert f"from Leo Park £99.00 ({word})" in message


def test_transfers_in_are_described_by_their_status() -> None:
    def transfer(who: str, status: TransactionStatus) -> Movement:
        return movement(1_000, status, kind=TransactionKind.TRANSFER_IN, counterparty=who)

    checked, arrived, ended = incoming_answer(
        [
            transfer("Ann", TransactionStatus.COMPLETED),
            transfer("Bo", TransactionStatus.PENDING),
            transfer("Cy", TransactionStatus.DECLINED),
        ]
    )
    assert "being checked" in checked and "from Bo" in checked and "Ann" not in checked
    assert "already in your balance" in arrived and "from Ann" in arrived
    assert "Bo" not in arrived and "Cy" not in arrived
    assert "from Cy £10.00 (declined)" in ended
    only_arrived = incoming_answer([transfer("Ann", TransactionStatus.COMPLETED)])
    assert "already in your balance" in only_arrived[0]
    assert "If the one you're expecting isn't there" in only_arrived[1]
