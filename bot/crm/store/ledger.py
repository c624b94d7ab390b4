"""What the bot reads of a customer's banking records to answer them: balances, money moving
in and out by kind and status, card details and the identity check.

Read-only, and always for one customer: every query is bounded by the customer's own
accounts or cards, so an answer can never show another customer's records.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.crm.enums import CardStatus, Vocabulary
from bot.crm.models import Account, Card, Customer, Transaction
from bot.crm.store.base import StoreBase, as_utc


class TransactionKind(Vocabulary):
    """What a transaction was; amounts are negative for money going out."""

    CARD_PAYMENT = "card_payment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    TOP_UP = "top_up"
    CASH_WITHDRAWAL = "cash_withdrawal"
    DIRECT_DEBIT = "direct_debit"
    FEE = "fee"
    REFUND = "refund"


class TransactionStatus(Vocabulary):
    COMPLETED = "completed"
    PENDING = "pending"
    REVERTED = "reverted"
    """Taken and then given back (a merchant's reversal, a top-up the card issuer pulled back)."""
    FAILED = "failed"
    """Did not go through for a technical reason; nothing left the account."""
    DECLINED = "declined"
    """Refused (by us or the receiving bank); nothing left the account."""


class IdentityStatus(Vocabulary):
    VERIFIED = "verified"
    PENDING = "pending"
    FAILED = "failed"


IDENTITY_ISSUES = ("document_unreadable", "document_expired", "selfie_mismatch", "name_mismatch")
"""Why an identity check did not pass: a code the bot explains, never the document's content."""


@dataclass(frozen=True)
class Balance:
    account_ending: str
    """The last four characters of the IBAN: enough to tell accounts apart, not to pay in."""
    currency: str
    balance_cents: int
    status: str


@dataclass(frozen=True)
class Movement:
    """One transaction, as the customer would see it in their statement."""

    id: int
    kind: TransactionKind
    status: TransactionStatus
    amount_cents: int
    currency: str
    counterparty: str
    created_at: datetime
    card_last_four: str | None


@dataclass(frozen=True)
class CardDetail:
    last_four: str
    brand: str
    kind: str
    status: CardStatus
    expires: str
    """MM/YY, as printed on the card."""
    ordered_at: datetime
    expected_delivery: datetime | None


@dataclass(frozen=True)
class IdentityCheck:
    status: IdentityStatus | None
    """None: the customer has never started a check."""
    issue: str | None
    checked_at: datetime | None


class LedgerStore(StoreBase):
    def balances(self, customer_id: int) -> list[Balance]:
        """The customer's accounts, oldest first."""
        query = (
            select(Account).where(Account.customer_id == customer_id).order_by(Account.opened_at)
        )
        with self._session() as session:
            return [
                Balance(
                    account_ending=account.iban[-4:],
                    currency=account.currency,
                    balance_cents=account.balance_cents,
                    status=account.status,
                )
                for account in session.scalars(query)
            ]

    def movements(
        self,
        customer_id: int,
        kinds: Collection[TransactionKind],
        statuses: Collection[TransactionStatus] | None = None,
        since: datetime | None = None,
        limit: int = 5,
        oldest_first: bool = False,
    ) -> list[Movement]:
        """The customer's latest transactions of these kinds (and statuses), newest first; or
        their oldest first, so that a limit never hides the longest-stuck ones."""
        if oldest_first:
            order = (Transaction.created_at.asc(), Transaction.id.asc())
        else:
            order = (Transaction.created_at.desc(), Transaction.id.desc())
        query = (
            select(Transaction, Card.last_four)
            .join(Account, Transaction.account_id == Account.id)
            .outerjoin(Card, Transaction.card_id == Card.id)
            .where(
                Account.customer_id == customer_id,
                Transaction.kind.in_([str(kind) for kind in kinds]),
            )
            .order_by(*order)
            .limit(limit)
        )
        if statuses is not None:
            query = query.where(Transaction.status.in_([str(status) for status in statuses]))
        if since is not None:
            query = query.where(Transaction.created_at >= self._db_time(since))
        with self._session() as session:
            return [
                Movement(
                    id=row.id,
                    kind=TransactionKind(row.kind),
                    status=TransactionStatus(row.status),
                    amount_cents=row.amount_cents,
                    currency=row.currency,
                    counterparty=row.counterparty,
                    created_at=as_utc(row.created_at),
                    card_last_four=last_four,
                )
                for row, last_four in session.execute(query)
            ]

    def card_details(self, customer_id: int) -> list[CardDetail]:
        """The customer's cards with their expiry, most recently ordered first."""
        query = (
            select(Card)
            .where(Card.customer_id == customer_id)
            .order_by(Card.ordered_at.desc(), Card.id.desc())
        )
        with self._session() as session:
            return [
                CardDetail(
                    last_four=card.last_four,
                    brand=card.brand,
                    kind=card.kind,
                    status=CardStatus(card.status),
                    expires=card.expires,
                    ordered_at=as_utc(card.ordered_at),
                    expected_delivery=as_utc(card.expected_delivery),
                )
                for card in session.scalars(query)
            ]

    def identity(self, customer_id: int) -> IdentityCheck | None:
        """The customer's identity check; None for an unknown or erased customer."""
        with self._session() as session:
            customer = session.get(Customer, customer_id)
            if customer is None or customer.erased_at is not None:
                return None
            status = customer.identity_status
            return IdentityCheck(
                status=IdentityStatus(status) if status else None,
                issue=customer.identity_issue,
                checked_at=as_utc(customer.identity_checked_at),
            )
