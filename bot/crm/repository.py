"""The one place that reads and writes the CRM store; callers get plain values, never sessions."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.crm.models import Card, Conversation, Customer, Message, StaffUser, Ticket, Transaction

STAFF_ROLES = ("agent", "supervisor")
_password_hasher = PasswordHasher()


class NotFound(LookupError):
    """The requested record does not exist."""


class Conflict(RuntimeError):
    """The record is not in a state that allows this change."""


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
    sentiment: float | None = None


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
                    sentiment=record.sentiment,
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

    # Handoffs -------------------------------------------------------------------------------

    def open_handoff(
        self,
        *,
        conversation_id: str,
        customer_id: int | None,
        reason: str,
        priority: int,
        subject: str,
        text: str,
        packet: dict[str, Any],
        category: str | None = None,
    ) -> int:
        """Queue the conversation for a person, once: an open or claimed handoff is reused."""
        now = datetime.now(timezone.utc)
        with self._session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                conversation = Conversation(
                    id=conversation_id, customer_id=customer_id, started_at=now, last_message_at=now
                )
                session.add(conversation)
            existing = session.scalars(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == "handoff",
                    Ticket.status.in_(("open", "claimed")),
                )
            ).first()
            conversation.status = "handoff"
            if existing is not None:
                return existing.id
            ticket = Ticket(
                kind="handoff",
                category=category,
                conversation_id=conversation_id,
                customer_id=customer_id,
                status="open",
                priority=priority,
                subject=subject,
                text=text,
                packet={**packet, "reason": reason},
                created_at=now,
            )
            session.add(ticket)
            session.flush()
            return ticket.id

    def queue_position(self, ticket_id: int) -> int:
        """1 for the next handoff an agent will take; counts open handoffs queued before it."""
        with self._session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"handoff {ticket_id} not found")
            ahead = session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.kind == "handoff",
                    Ticket.status == "open",
                    Ticket.id != ticket.id,
                    or_(
                        Ticket.priority < ticket.priority,
                        and_(
                            Ticket.priority == ticket.priority,
                            Ticket.created_at <= ticket.created_at,
                        ),
                    ),
                )
            )
            return ahead + 1

    def list_handoffs(self, status: str) -> list[dict[str, Any]]:
        """Handoffs in queue order: most urgent first (1 is highest), then longest waiting."""
        with self._session() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.kind == "handoff", Ticket.status == status)
                .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
            ).all()
            return [_handoff_dict(ticket) for ticket in tickets]

    def get_handoff(self, ticket_id: int) -> dict[str, Any]:
        with self._session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.kind != "handoff":
                raise NotFound(f"handoff {ticket_id} not found")
            return _handoff_dict(ticket)

    def claim_handoff(self, ticket_id: int, staff_id: int) -> dict[str, Any]:
        """Assign an open handoff to an agent; exactly one of two racing claims succeeds."""
        with self._session() as session:
            claimed = session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.kind == "handoff", Ticket.status == "open")
                .values(
                    status="claimed", assigned_to=staff_id, claimed_at=datetime.now(timezone.utc)
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        handoff = self.get_handoff(ticket_id)
        if not claimed:
            raise Conflict(f"handoff {ticket_id} is {handoff['status']}, it cannot be claimed")
        return handoff

    def resolve_handoff(
        self, ticket_id: int, staff_id: int, resolution: str, return_to_bot: bool
    ) -> dict[str, Any]:
        with self._session() as session:
            ticket = _held_handoff(session, ticket_id, staff_id)
            ticket.status = "resolved"
            ticket.resolution = resolution
            ticket.resolved_at = datetime.now(timezone.utc)
            conversation = session.get(Conversation, ticket.conversation_id)
            conversation.status = "bot" if return_to_bot else "closed"
            session.flush()
            return _handoff_dict(ticket)

    def record_agent_message(self, ticket_id: int, staff_id: int, text: str) -> dict[str, Any]:
        """Log an agent's message; only the agent holding a live handoff may speak in it."""
        now = datetime.now(timezone.utc)
        with self._session() as session:
            ticket = _held_handoff(session, ticket_id, staff_id)
            message = Message(
                conversation_id=ticket.conversation_id,
                event_key=uuid.uuid4().hex,
                seq=now.timestamp(),
                sender="agent",
                text=text,
                data={"staff_id": staff_id},
                channel="console",
                created_at=now,
            )
            session.add(message)
            session.get(Conversation, ticket.conversation_id).last_message_at = now
            session.flush()
            return {"conversation_id": ticket.conversation_id, **_message_dict(message)}

    def record_csat(self, conversation_id: str, score: int) -> int | None:
        """Attach a 1-5 rating to the conversation's latest resolved handoff; its id, or None."""
        if not 1 <= score <= 5:
            raise ValueError("a CSAT score is between 1 and 5")
        with self._session() as session:
            ticket = session.scalars(
                select(Ticket)
                .where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == "handoff",
                    Ticket.status == "resolved",
                )
                .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
                .limit(1)
            ).first()
            if ticket is None:
                return None
            ticket.csat = score
            ticket.csat_at = datetime.now(timezone.utc)
            return ticket.id

    def resolved_tickets(self, after_id: int = 0) -> list[dict[str, Any]]:
        """Resolved tickets with a resolution, for the similar-ticket index."""
        with self._session() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(
                    Ticket.status == "resolved", Ticket.resolution.isnot(None), Ticket.id > after_id
                )
                .order_by(Ticket.id)
            ).all()
            return [
                {"id": t.id, "text": t.text, "resolution": t.resolution, "category": t.category}
                for t in tickets
            ]

    def last_ids(self) -> tuple[int, int]:
        """The newest message and ticket ids: where a live feed starts following."""
        with self._session() as session:
            return (
                session.scalar(select(func.max(Message.id))) or 0,
                session.scalar(select(func.max(Ticket.id))) or 0,
            )

    def tickets_by_id(self, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
        with self._session() as session:
            tickets = session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
            return {t.id: {"text": t.text, "resolution": t.resolution} for t in tickets}

    def changes_since(self, message_id: int, ticket_id: int) -> dict[str, Any]:
        """New messages of handed-off conversations and new or changed handoffs, for live feeds."""
        with self._session() as session:
            messages = session.execute(
                select(Message, Ticket.id)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .join(
                    Ticket,
                    and_(
                        Ticket.conversation_id == Conversation.id,
                        Ticket.kind == "handoff",
                        Ticket.status.in_(("open", "claimed")),
                    ),
                )
                .where(Message.id > message_id)
                .order_by(Message.id)
            ).all()
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.kind == "handoff", Ticket.id > ticket_id)
                .order_by(Ticket.id)
            ).all()
            last_message = session.scalar(select(func.max(Message.id))) or 0
            return {
                "messages": [
                    {
                        "handoff_id": handoff_id,
                        "conversation_id": m.conversation_id,
                        **_message_dict(m),
                    }
                    for m, handoff_id in messages
                ],
                "handoffs": [_handoff_dict(t) for t in tickets],
                "last_message_id": max(last_message, message_id),
                "last_ticket_id": max([ticket_id] + [t.id for t in tickets]),
            }

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


def _held_handoff(session: Session, ticket_id: int, staff_id: int) -> Ticket:
    """The handoff, if this agent holds it now: claimed by them and not yet resolved."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.kind != "handoff":
        raise NotFound(f"handoff {ticket_id} not found")
    if ticket.status != "claimed" or ticket.assigned_to != staff_id:
        raise Conflict(f"handoff {ticket_id} is {ticket.status} and not held by you")
    return ticket


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


def _handoff_dict(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "customer_id": ticket.customer_id,
        "status": ticket.status,
        "category": ticket.category,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "text": ticket.text,
        "packet": ticket.packet,
        "assigned_to": ticket.assigned_to,
        "resolution": ticket.resolution,
        "csat": ticket.csat,
        "created_at": iso(ticket.created_at),
        "claimed_at": iso(ticket.claimed_at),
        "resolved_at": iso(ticket.resolved_at),
    }


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
