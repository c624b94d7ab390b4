"""SQLAlchemy models of the CRM store; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.crm.enums import ConversationStatus, TicketStatus

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    email = Column(String(320))
    phone = Column(String(40))
    city = Column(String(100))
    segment = Column(String(60))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    erased_at = Column(DateTime(timezone=True))

    accounts = relationship("Account", back_populates="customer", order_by="Account.id")
    cards = relationship("Card", back_populates="customer", order_by="Card.id")


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    iban = Column(String(34), nullable=False, unique=True)
    currency = Column(String(3), nullable=False, default="GBP")
    balance_cents = Column(BigInteger, nullable=False, default=0)
    status = Column(String(20), nullable=False, default="open")
    opened_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    customer = relationship("Customer", back_populates="accounts")


class Card(Base):
    """A payment card; `status` is a `CardStatus`."""

    __tablename__ = "cards"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False)
    last_four = Column(String(4), nullable=False)
    brand = Column(String(20), nullable=False)
    kind = Column(String(20), nullable=False, default="physical")
    status = Column(String(20), nullable=False)
    ordered_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    shipped_at = Column(DateTime(timezone=True))
    expected_delivery = Column(DateTime(timezone=True))
    blocked_at = Column(DateTime(timezone=True))
    blocked_reason = Column(String(200))
    expires = Column(String(5), nullable=False)

    customer = relationship("Customer", back_populates="cards")


class Transaction(Base):
    __tablename__ = "transactions"

    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    card_id = Column(Integer, ForeignKey("cards.id"))
    kind = Column(String(30), nullable=False)
    status = Column(String(20), nullable=False)
    amount_cents = Column(BigInteger, nullable=False)
    currency = Column(String(3), nullable=False)
    counterparty = Column(String(200), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Conversation(Base):
    """One Rasa conversation; its id is Rasa's sender id."""

    __tablename__ = "conversations"

    id = Column(String(255), primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)
    channel = Column(String(50))
    status = Column(String(20), nullable=False, default=ConversationStatus.BOT)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_message_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)

    messages = relationship("Message", back_populates="conversation", order_by="Message.seq")


class Message(Base):
    """One message from a `Sender`; `event_key` makes delivery idempotent."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_seq", "conversation_id", "seq"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), ForeignKey("conversations.id"), nullable=False)
    event_key = Column(String(64), nullable=False, unique=True)
    seq = Column(Float, nullable=False)
    sender = Column(String(10), nullable=False)
    text = Column(Text)
    data = Column(JSON)
    intent = Column(String(100))
    confidence = Column(Float)
    entities = Column(JSON)
    sentiment = Column(Float)
    channel = Column(String(50))
    rasa_message_id = Column(String(100))
    created_at = Column(DateTime(timezone=True), nullable=False)

    conversation = relationship("Conversation", back_populates="messages")


class Ticket(Base):
    """A case for a person (`TicketKind`): handoffs and reports the bot could not finish itself."""

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), ForeignKey("conversations.id"), index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)
    kind = Column(String(30), nullable=False)
    category = Column(String(100))
    status = Column(String(20), nullable=False, default=TicketStatus.OPEN, index=True)
    priority = Column(Integer, nullable=False, default=3)
    subject = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)
    resolution = Column(Text)
    packet = Column(JSON)
    assigned_to = Column(Integer, ForeignKey("staff_users.id"))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    claimed_at = Column(DateTime(timezone=True))
    resolved_at = Column(DateTime(timezone=True))
    csat = Column(Integer)
    csat_at = Column(DateTime(timezone=True))


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(20), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class StaffSession(Base):
    """A console login; the token itself is never stored, only its SHA-256."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    staff_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    last_seen_at = Column(DateTime(timezone=True), nullable=False)
    revoked_at = Column(DateTime(timezone=True))
    user_agent = Column(String(255))
    ip = Column(String(45))


class AuditLogEntry(Base):
    """One staff read or change; the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor_id = Column(Integer, ForeignKey("staff_users.id"))
    actor_username = Column(String(80), nullable=False, index=True)
    action = Column(String(40), nullable=False)
    target_type = Column(String(40), nullable=False)
    target_id = Column(String(255), nullable=False)
    customer_id = Column(Integer, index=True)
    detail = Column(JSON)


class BotFeedback(Base):
    """A 1-5 rating of the bot itself, given after "I want to leave some feedback".

    A rating after a handoff belongs to that handoff (`Ticket.csat`); this table holds
    the ratings no person was involved in. `rasa_message_id` is the answer's Rasa message
    id, so a retried action stores its rating once.
    """

    __tablename__ = "bot_feedback"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_bot_feedback_score"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(255), ForeignKey("conversations.id"), nullable=False, index=True
    )
    customer_id = Column(Integer, ForeignKey("customers.id"))
    score = Column(Integer, nullable=False)
    rasa_message_id = Column(String(100), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
