"""Customers, their cards and card payments: what the bot looks up and the one change it makes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.crm.enums import CardStatus
from bot.crm.models import Card, Customer, Segment, SegmentAssignment, Transaction
from bot.crm.store.base import NotFound, StoreBase, as_utc, iso, split_page
from bot.crm.store.records import (
    CardInfo,
    CardView,
    CustomerListItem,
    CustomerProfile,
    Payment,
)

CARD_PAYMENT = "card_payment"
VIRTUAL = "virtual"
REPLACEMENT_DELIVERY = timedelta(days=9)
"""Nine calendar days: within the 5 to 9 working days the bot quotes for a new card."""
CARD_YEARS = 3


class CustomerStore(StoreBase):
    def resolve(self, customer_id: int) -> int | None:
        """The id to serve this customer under: their own, or that of the customer the cleaning
        job merged them into (an old widget token still signs in); None if unknown or erased."""
        with self._session() as session:
            customer = resolved_customer(session, customer_id)
            return None if customer is None or customer.erased_at is not None else customer.id

    def exists(self, customer_id: int) -> bool:
        """True for a customer in use, or one merged into a customer in use."""
        return self.resolve(customer_id) is not None

    def profile(self, customer_id: int) -> CustomerProfile:
        """The customer's profile; a merged id gives the customer it was merged into. An
        erased customer has none: NotFound, whose message says when they were erased."""
        with self._session() as session:
            customer = resolved_customer(session, customer_id)
            if customer is None:
                raise NotFound(f"customer {customer_id} not found")
            if customer.erased_at is not None:
                raise NotFound(f"customer {customer_id} was erased on {iso(customer.erased_at)}")
            return {
                "id": customer.id,
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "city": customer.city,
                "created_at": iso(customer.created_at),
                "cards": [_card_view(card) for card in customer.cards],
            }

    def search(
        self,
        *,
        segment_id: int | None = None,
        q: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[CustomerListItem], str | None]:
        """Customers newest first, each with their current segment; merged and erased ones hidden.

        `q` matches part of the name or e-mail, whatever the case; `segment_id` keeps the
        customers currently in that segment.
        """
        current = (
            select(SegmentAssignment.customer_id, Segment.id, Segment.name)
            .join(Segment, Segment.id == SegmentAssignment.segment_id)
            .where(SegmentAssignment.valid_to.is_(None), Segment.retired_at.is_(None))
            .subquery()
        )
        query = (
            select(Customer, current.c.id, current.c.name)
            .outerjoin(current, current.c.customer_id == Customer.id)
            .where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
        )
        if segment_id is not None:
            query = query.where(current.c.id == segment_id)
        if q:
            needle = q.lower()
            query = query.where(
                or_(
                    func.lower(Customer.name).contains(needle, autoescape=True),
                    func.lower(Customer.email).contains(needle, autoescape=True),
                )
            )
        if cursor:
            query = query.where(
                self._after_cursor(cursor, Customer.created_at, Customer.id, key_type=int)
            )
        query = query.order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit + 1)
        with self._session() as session:
            rows = session.execute(query).all()
        page, next_cursor = split_page(rows, limit, lambda row: (row[0].created_at, row[0].id))
        items: list[CustomerListItem] = [
            {
                "id": customer.id,
                "name": customer.name,
                "email": customer.email,
                "city": customer.city,
                "segment_id": segment,
                "segment": segment_name,
                "created_at": iso(customer.created_at),
            }
            for customer, segment, segment_name in page
        ]
        return items, next_cursor

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


def resolved_customer(session: Session, customer_id: int) -> Customer | None:
    """The customer, or the one the cleaning job merged it into (an old widget token
    still signs in); merges repoint earlier merges, so one hop is all there is. The one
    rule for following a merge: `CustomerStore.resolve` and the strategies read it."""
    customer = session.get(Customer, customer_id)
    if customer is not None and customer.merged_into_id is not None:
        customer = session.get(Customer, customer.merged_into_id)
    return customer


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
