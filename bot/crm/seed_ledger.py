"""Demo records the bot answers from: money in flight, reversed, failed or refused, direct debits,
fees and refunds for the demo customer, and an identity check for every customer.

Added after the first draws and the history, without drawing from their generators: the
rows are fixed (dated relative to the seeding day) or follow from the customer's id, so
nothing seeded before them changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.crm.enums import CardStatus
from bot.crm.models import Account, Card, Customer, Transaction
from bot.crm.store.ledger import (
    IDENTITY_ISSUES,
    IdentityStatus,
    TransactionKind,
    TransactionStatus,
)

DEMO_CUSTOMER = 1
DEMO_VIRTUAL_CARD = "5521"
"""A virtual card of the demo customer's that expires next month: "my card is about to expire"."""
K, S = TransactionKind, TransactionStatus
DEMO_EVENTS: tuple[tuple[TransactionKind, TransactionStatus, int, str, timedelta], ...] = (
    (K.CARD_PAYMENT, S.PENDING, -460, "Blue Door Café", timedelta(hours=5)),
    (K.CARD_PAYMENT, S.REVERTED, -12_000, "Skyline Hotels", timedelta(days=4)),
    (K.TOP_UP, S.PENDING, 5_000, "Top-up by card", timedelta(hours=2)),
    (K.TOP_UP, S.FAILED, 10_000, "Top-up by card", timedelta(days=1, hours=3)),
    (K.TOP_UP, S.REVERTED, 2_500, "Top-up by card", timedelta(days=6)),
    (K.CASH_WITHDRAWAL, S.PENDING, -6_000, "Northgate Street ATM", timedelta(hours=20)),
    (K.CASH_WITHDRAWAL, S.COMPLETED, -4_000, "Station Road ATM", timedelta(days=8)),
    (K.TRANSFER_OUT, S.PENDING, -7_500, "Tom Okafor", timedelta(hours=3)),
    (K.TRANSFER_OUT, S.FAILED, -25_000, "Priya Shah", timedelta(days=2)),
    (K.TRANSFER_OUT, S.DECLINED, -120_000, "Harbour Lettings Ltd", timedelta(days=3)),
    (K.TRANSFER_OUT, S.COMPLETED, -30_000, "Oakfield Savings", timedelta(days=5)),
    (K.TRANSFER_IN, S.PENDING, 18_000, "Sam Porter", timedelta(hours=1)),
    (K.DIRECT_DEBIT, S.COMPLETED, -4_299, "Brightline Energy", timedelta(days=9)),
    (K.DIRECT_DEBIT, S.COMPLETED, -1_250, "Cityfit Gym", timedelta(days=12)),
    (K.FEE, S.COMPLETED, -200, "ATM withdrawal fee", timedelta(days=8)),
    (K.FEE, S.COMPLETED, -120, "Foreign currency payment fee", timedelta(days=10)),
    (K.REFUND, S.PENDING, 3_500, "Pageturner Books", timedelta(days=1)),
    (K.REFUND, S.COMPLETED, 1_999, "Northwind Outfitters", timedelta(days=15)),
)
"""(kind, status, amount in pence, counterparty, how long before the seeding day)."""
CARD_KINDS = frozenset({K.CARD_PAYMENT, K.CASH_WITHDRAWAL})


def seed_ledger(session: Session, today: datetime) -> None:
    """The demo customer's records, and everyone's identity check."""
    _seed_demo_events(session, today)
    _seed_identity(session, today)


def _seed_demo_events(session: Session, today: datetime) -> None:
    account = session.scalar(
        select(Account).where(Account.customer_id == DEMO_CUSTOMER).order_by(Account.id).limit(1)
    )
    if account is None:
        return
    active = session.scalar(
        select(Card.id)
        .where(Card.customer_id == DEMO_CUSTOMER, Card.status == CardStatus.ACTIVE)
        .order_by(Card.id)
        .limit(1)
    )
    expiring = today + timedelta(days=31)
    session.add(
        Card(
            customer_id=DEMO_CUSTOMER,
            account_id=account.id,
            last_four=DEMO_VIRTUAL_CARD,
            brand="visa",
            kind="virtual",
            status=CardStatus.ACTIVE,
            ordered_at=today - timedelta(days=3 * 365 - 40),
            expires=f"{expiring.month:02d}/{expiring.year % 100:02d}",
        )
    )
    session.execute(
        insert(Transaction.__table__),
        [
            {
                "account_id": account.id,
                "card_id": active if kind in CARD_KINDS else None,
                "kind": kind.value,
                "status": status.value,
                "amount_cents": amount,
                "currency": account.currency,
                "counterparty": counterparty,
                "created_at": today - ago,
            }
            for kind, status, amount, counterparty, ago in DEMO_EVENTS
        ],
    )


def identity_of(customer_id: int, joined: datetime, today: datetime) -> dict[str, object]:
    """Most customers verified when they joined; a few failed (each reason in turn), pending or
    never started, so every answer about identity checks can be shown on demo customers."""
    turn = customer_id % 9
    if customer_id == DEMO_CUSTOMER or turn not in (2, 3, 4):
        return {
            "identity_status": IdentityStatus.VERIFIED.value,
            "identity_issue": None,
            "identity_checked_at": joined + timedelta(hours=1),
        }
    if turn == 2:
        return {
            "identity_status": IdentityStatus.FAILED.value,
            "identity_issue": IDENTITY_ISSUES[(customer_id // 9) % len(IDENTITY_ISSUES)],
            "identity_checked_at": today - timedelta(days=1 + customer_id % 5),
        }
    if turn == 3:
        return {
            "identity_status": IdentityStatus.PENDING.value,
            "identity_issue": None,
            "identity_checked_at": today - timedelta(hours=2 + customer_id % 20),
        }
    return {"identity_status": None, "identity_issue": None, "identity_checked_at": None}


def _seed_identity(session: Session, today: datetime) -> None:
    customers = session.execute(select(Customer.id, Customer.created_at).order_by(Customer.id))
    session.bulk_update_mappings(
        Customer,
        [
            {"id": customer_id, **identity_of(customer_id, joined, today)}
            for customer_id, joined in customers
        ],
    )
