"""The one place that reads and writes the CRM store; callers get plain values, never sessions."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.crm.models import Card, Conversation, Customer, Message, StaffUser, Ticket, Transaction

STAFF_ROLES = ("agent", "supervisor")
_password_hasher = PasswordHasher()


class NotFound(LookupError):
    """The requested record does not exist."""


class InvalidCursor(ValueError):
    """A pagination cursor that this store did not issue."""


@dataclass(frozen=True)
class MessageRecord:
    """A message as delivered by Rasa's event stream, before it is stored."""

    conversation_id: str
    event_key: str
    seq: float
    sender: str
    text: str | None
    created_at: datetime
    channel: str | None = None
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] | None = None
    rasa_message_id: str | None = None
    customer_id: int | None = None


@dataclass(frozen=True)
class CardInfo:
    id: int
    last_four: str
    brand: str
    kind: str
    status: str
    shipped_at: datetime | None
    expected_delivery: datetime | None


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    role: str


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite drops time zones; every stored time is UTC, so put it back."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def _encode_cursor(at: datetime, key: str) -> str:
    raw = f"{as_utc(at).isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, key = raw.split("|", 1)
        return datetime.fromisoformat(at), key
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from error


class CRMRepository:
    """Named operations on the CRM store over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, future=True, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _insert(self, model):
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(model)
        if dialect == "sqlite":
            return sqlite.insert(model)
        raise NotImplementedError(f"the CRM store supports SQLite and PostgreSQL, not {dialect}")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # Conversations and messages -------------------------------------------------------------

    def record_message(self, record: MessageRecord) -> bool:
        """Store a message once; a redelivered event (same key) is ignored. True if new."""
        with self._session() as session:
            session.execute(
                self._insert(Conversation)
                .values(
                    id=record.conversation_id,
                    channel=record.channel,
                    customer_id=record.customer_id,
                    status="bot",
                    started_at=record.created_at,
                    last_message_at=record.created_at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            inserted = session.execute(
                self._insert(Message)
                .values(
                    conversation_id=record.conversation_id,
                    event_key=record.event_key,
                    seq=record.seq,
                    sender=record.sender,
                    text=record.text,
                    data=record.data,
                    intent=record.intent,
                    confidence=record.confidence,
                    entities=record.entities,
                    channel=record.channel,
                    rasa_message_id=record.rasa_message_id,
                    created_at=record.created_at,
                )
                .on_conflict_do_nothing(index_elements=["event_key"])
            ).rowcount
            if not inserted:
                return False
            conversation = session.get(Conversation, record.conversation_id)
            if as_utc(conversation.last_message_at) < record.created_at:
                conversation.last_message_at = record.created_at
            if as_utc(conversation.started_at) > record.created_at:
                conversation.started_at = record.created_at
            if conversation.customer_id is None and record.customer_id is not None:
                conversation.customer_id = record.customer_id
            if conversation.channel is None and record.channel:
                conversation.channel = record.channel
            return True

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        with self._session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id!r} not found")
            messages = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq, Message.id)
            ).all()
            open_ticket = session.scalars(
                select(Ticket)
                .where(Ticket.conversation_id == conversation_id, Ticket.kind == "handoff")
                .order_by(Ticket.id.desc())
                .limit(1)
            ).first()
            return {
                **_conversation_summary(conversation),
                "handoff": _handoff_state(open_ticket),
                "messages": [_message_dict(message) for message in messages],
            }

    def list_conversations(
        self,
        *,
        customer_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Conversations newest first, with an opaque cursor for the next page (or None)."""
        query = select(Conversation, func.count(Message.id)).outerjoin(Message)
        if customer_id is not None:
            query = query.where(Conversation.customer_id == customer_id)
        if status is not None:
            query = query.where(Conversation.status == status)
        if cursor:
            at, key = _decode_cursor(cursor)
            naive_at = at.astimezone(timezone.utc).replace(tzinfo=None)
            at_value = naive_at if self.engine.dialect.name == "sqlite" else at
            query = query.where(
                or_(
                    Conversation.last_message_at < at_value,
                    and_(Conversation.last_message_at == at_value, Conversation.id < key),
                )
            )
        query = (
            query.group_by(Conversation.id)
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(limit + 1)
        )
        with self._session() as session:
            rows = session.execute(query).all()
        items = [
            {**_conversation_summary(conversation), "message_count": count}
            for conversation, count in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1][0]
            next_cursor = _encode_cursor(last.last_message_at, last.id)
        return items, next_cursor

    # Customers, cards, transactions ---------------------------------------------------------

    def customer_exists(self, customer_id: int) -> bool:
        with self._session() as session:
            customer = session.get(Customer, customer_id)
            return customer is not None and customer.erased_at is None

    def customer_profile(self, customer_id: int) -> dict[str, Any]:
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
                "cards": [_card_dict(card) for card in customer.cards],
            }

    def customer_cards(self, customer_id: int) -> list[CardInfo]:
        with self._session() as session:
            cards = session.scalars(
                select(Card).where(Card.customer_id == customer_id).order_by(Card.ordered_at.desc())
            ).all()
            return [_card_info(card) for card in cards]

    def recent_card_payments(self, customer_id: int, limit: int = 5) -> list[dict[str, Any]]:
        query = (
            select(Transaction, Card.last_four)
            .join(Card, Transaction.card_id == Card.id)
            .where(Card.customer_id == customer_id, Transaction.kind == "card_payment")
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

    def block_card(self, customer_id: int, last_four: str, reason: str) -> CardInfo | None:
        """Block the customer's unblocked card with these digits; None if there is none."""
        with self._session() as session:
            card = session.scalars(
                select(Card)
                .where(
                    Card.customer_id == customer_id,
                    Card.last_four == last_four,
                    Card.status != "blocked",
                )
                .order_by(Card.ordered_at.desc())
                .limit(1)
            ).first()
            if card is None:
                return None
            card.status = "blocked"
            card.blocked_at = datetime.now(timezone.utc)
            card.blocked_reason = reason
            return _card_info(card)

    # Tickets --------------------------------------------------------------------------------

    def create_ticket(
        self,
        *,
        kind: str,
        subject: str,
        text: str,
        conversation_id: str | None = None,
        customer_id: int | None = None,
        status: str = "open",
        priority: int = 3,
        resolution: str | None = None,
        packet: dict[str, Any] | None = None,
    ) -> int:
        now = datetime.now(timezone.utc)
        with self._session() as session:
            if conversation_id is not None and session.get(Conversation, conversation_id) is None:
                session.add(
                    Conversation(
                        id=conversation_id,
                        customer_id=customer_id,
                        started_at=now,
                        last_message_at=now,
                    )
                )
                session.flush()
            ticket = Ticket(
                kind=kind,
                subject=subject,
                text=text,
                conversation_id=conversation_id,
                customer_id=customer_id,
                status=status,
                priority=priority,
                resolution=resolution,
                packet=packet,
                created_at=now,
                resolved_at=now if status == "resolved" else None,
            )
            session.add(ticket)
            session.flush()
            return ticket.id

    def tickets_for_conversation(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._session() as session:
            tickets = session.scalars(
                select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id)
            ).all()
            return [
                {
                    "id": t.id,
                    "kind": t.kind,
                    "status": t.status,
                    "subject": t.subject,
                    "text": t.text,
                    "customer_id": t.customer_id,
                }
                for t in tickets
            ]

    # Staff ----------------------------------------------------------------------------------

    def create_staff(self, username: str, password: str, role: str) -> StaffInfo:
        if role not in STAFF_ROLES:
            raise ValueError(f"role must be one of {', '.join(STAFF_ROLES)}")
        with self._session() as session:
            exists = session.scalars(
                select(StaffUser.id).where(StaffUser.username == username)
            ).first()
            if exists is not None:
                raise ValueError(f"a staff account named {username!r} already exists")
            user = StaffUser(
                username=username, password_hash=_password_hasher.hash(password), role=role
            )
            session.add(user)
            session.flush()
            return StaffInfo(id=user.id, username=user.username, role=user.role)

    def authenticate(self, username: str, password: str) -> StaffInfo | None:
        with self._session() as session:
            user = session.scalars(
                select(StaffUser).where(StaffUser.username == username, StaffUser.active)
            ).first()
            if user is None:
                _password_hasher.hash(password)  # same cost as a wrong password: no user probing
                return None
            try:
                _password_hasher.verify(user.password_hash, password)
            except (VerifyMismatchError, InvalidHashError):
                return None
            if _password_hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _password_hasher.hash(password)
            return StaffInfo(id=user.id, username=user.username, role=user.role)

    def get_staff(self, staff_id: int) -> StaffInfo | None:
        with self._session() as session:
            user = session.get(StaffUser, staff_id)
            if user is None or not user.active:
                return None
            return StaffInfo(id=user.id, username=user.username, role=user.role)

    def list_staff(self) -> list[StaffInfo]:
        with self._session() as session:
            users = session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
            return [StaffInfo(id=u.id, username=u.username, role=u.role) for u in users]

    def count_customers(self) -> int:
        with self._session() as session:
            return session.scalar(select(func.count(Customer.id)))


def _conversation_summary(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "started_at": iso(conversation.started_at),
        "last_message_at": iso(conversation.last_message_at),
    }


def _handoff_state(ticket: Ticket | None) -> dict[str, Any] | None:
    if ticket is None:
        return None
    return {"ticket_id": ticket.id, "status": ticket.status, "assigned_to": ticket.assigned_to}


def _message_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": message.sender,
        "text": message.text,
        "data": message.data,
        "intent": message.intent,
        "confidence": message.confidence,
        "entities": message.entities or [],
        "sentiment": message.sentiment,
        "channel": message.channel,
        "created_at": iso(message.created_at),
    }


def _card_info(card: Card) -> CardInfo:
    return CardInfo(
        id=card.id,
        last_four=card.last_four,
        brand=card.brand,
        kind=card.kind,
        status=card.status,
        shipped_at=as_utc(card.shipped_at),
        expected_delivery=as_utc(card.expected_delivery),
    )


def _card_dict(card: Card) -> dict[str, Any]:
    return {
        "id": card.id,
        "last_four": card.last_four,
        "brand": card.brand,
        "kind": card.kind,
        "status": card.status,
        "expected_delivery": iso(card.expected_delivery),
    }
