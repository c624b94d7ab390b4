"""Customers, their cards and card payments: what the bot looks up and the one change it makes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.crm.enums import CardStatus
from bot.crm.models import Card, Customer, Transaction
from bot.crm.store.base import NotFound, StoreBase, as_utc, iso
from bot.crm.store.records import CardInfo, CardView, CustomerProfile, Payment

CARD_PAYMENT = "card_payment"
VIRTUAL = "virtual"
REPLACEMENT_DELIVERY = timedelta(days=9)
"""Nine calendar days: within the 5 to 9 working days the bot quotes for a new card."""
CARD_YEARS = 3


class CustomerStore(StoreBase):
    def exists(self, customer_id: int) -> bool:
        with self._session() as session:
            customer = session.get(Customer, customer_id)
            return customer is not None and customer.erased_at is None

    def profile(self, customer_id: int) -> CustomerProfile:
        with self._session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None or customer.erased_at is not None:
                raise NotFound(f"customer {customer_id} not found")
            return {
                "id": customer.id,
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "city": customer.city,
                "segment": customer.segment,
                "created_at": iso(customer.created_at),
                "cards": [_card_view(card) for card in customer.cards],
            }

    def cards(self, customer_id: int) -> list[CardInfo]:
        """The customer's cards, most recently ordered first."""
        with self._session() as session:
            cards = session.scalars(
                select(Card).where(Card.customer_id == customer_id).order_by(Card.ordered_at.desc())
            ).all()
            return [_card_info(card) for card in cards]

    def recent_card_payments(self, customer_id: int, limit: int = 5) -> list[Payment]:
        query = (
            select(Transaction, Card.last_four)
            .join(Card, Transaction.card_id == Card.id)
            .where(Card.customer_id == customer_id, Transaction.kind == CARD_PAYMENT)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .limit(limit)
        )
        with self._session() as session:
            return [
                {
                    "id": transaction.id,
                    "amount_cents": transaction.amount_cents,
                    "currency": transaction.currency,
                    "counterparty": transaction.counterparty,
                    "status": transaction.status,
                    "card_last_four": last_four,
                    "created_at": as_utc(transaction.created_at),
                }
                for transaction, last_four in session.execute(query)
            ]

    def block_and_replace(
        self, customer_id: int, last_four: str, reason: str
    ) -> tuple[CardInfo, CardInfo] | None:
        """Block the customer's unblocked card with these digits and order its replacement.

        One transaction, so a blocked card always has its replacement: the bot tells the
        customer one is on its way, and "where is my card" then finds it. None if the
        customer has no unblocked card with these digits.
        """
        with self._session() as session:
            card = session.scalars(
                select(Card)
                .where(
                    Card.customer_id == customer_id,
                    Card.last_four == last_four,
                    Card.status != CardStatus.BLOCKED,
                )
                .order_by(Card.ordered_at.desc())
                .limit(1)
            ).first()
            if card is None:
                return None
            now = datetime.now(timezone.utc)
            card.status = CardStatus.BLOCKED
            card.blocked_at = now
            card.blocked_reason = reason
            taken = set(
                session.scalars(select(Card.last_four).where(Card.customer_id == customer_id))
            )
            replacement = _replacement(card, now, taken)
            session.add(replacement)
            session.flush()
            return _card_info(card), _card_info(replacement)


def _replacement(card: Card, now: datetime, taken: set[str]) -> Card:
    """A new card like the blocked one, with digits the customer can tell apart from theirs.

    A physical card is ordered and posted (delivery promised within REPLACEMENT_DELIVERY);
    a virtual card is usable at once.
    """
    physical = card.kind != VIRTUAL
    return Card(
        customer_id=card.customer_id,
        account_id=card.account_id,
        last_four=_new_last_four(taken),
        brand=card.brand,
        kind=card.kind,
        status=CardStatus.ORDERED if physical else CardStatus.ACTIVE,
        ordered_at=now,
        expected_delivery=now + REPLACEMENT_DELIVERY if physical else None,
        expires=f"{now.month:02d}/{(now.year + CARD_YEARS) % 100:02d}",
    )


def _new_last_four(taken: set[str]) -> str:
    while True:
        digits = f"{secrets.randbelow(10_000):04d}"
        if digits not in taken:
            return digits


def _card_info(card: Card) -> CardInfo:
    return CardInfo(
        id=card.id,
        last_four=card.last_four,
        brand=card.brand,
        kind=card.kind,
        status=CardStatus(card.status),
        shipped_at=as_utc(card.shipped_at),
        expected_delivery=as_utc(card.expected_delivery),
    )


def _card_view(card: Card) -> CardView:
    return {
        "id": card.id,
        "last_four": card.last_four,
        "brand": card.brand,
        "kind": card.kind,
        "status": CardStatus(card.status),
        "expected_delivery": iso(card.expected_delivery),
    }
