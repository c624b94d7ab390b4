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
    text,
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
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    erased_at = Column(DateTime(timezone=True))
    left_at = Column(DateTime(timezone=True))
    """When the customer closed their relationship with the bank: the churn the risk job learns."""
    merged_into_id = Column(Integer, ForeignKey("customers.id"), index=True)
    """Set by the cleaning job on a duplicate: its references moved to this customer."""
    identity_status = Column(String(20))
    """The identity check's outcome (`bot.crm.store.ledger.IdentityStatus`); None: never started.

    Like the ledger, a compliance record kept under the bank's own retention: a status and a
    reason code from a fixed list, never the documents or what they said."""
    identity_issue = Column(String(40))
    """Why the last check did not pass (`bot.crm.store.ledger.IDENTITY_ISSUES`), if it did not."""
    identity_checked_at = Column(DateTime(timezone=True))

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
    __table_args__ = (
        Index("ix_messages_conversation_seq", "conversation_id", "seq"),
        Index("ix_messages_created_at", "created_at"),
    )

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
    __table_args__ = (
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_claimed_at", "claimed_at"),
        Index("ix_tickets_resolved_at", "resolved_at"),
        Index("ix_tickets_csat_at", "csat_at"),
        Index("ix_tickets_due_at", "due_at"),
    )

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
    due_at = Column(DateTime(timezone=True))
    """When the customer's segment strategy wants a person to have answered (its SLA)."""


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
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_bot_feedback_score"),
        Index("ix_bot_feedback_created_at", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(
        String(255), ForeignKey("conversations.id"), nullable=False, index=True
    )
    customer_id = Column(Integer, ForeignKey("customers.id"))
    score = Column(Integer, nullable=False)
    rasa_message_id = Column(String(100), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ProductHolding(Base):
    """A `Product` a customer holds or held."""

    __tablename__ = "product_holdings"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    product = Column(String(30), nullable=False)
    opened_at = Column(DateTime(timezone=True), nullable=False)
    closed_at = Column(DateTime(timezone=True))


class Contact(Base):
    """One time a customer got in touch, on any `ContactChannel`, with its CSAT if they gave one."""

    __tablename__ = "contacts"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    channel = Column(String(20), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, index=True)
    topic = Column(String(100))
    csat = Column(Integer)


class JobRun(Base):
    """One run of a batch job. The partial unique index lets one run per job be running at a
    time, across every process that shares the store."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index(
            "uq_job_runs_one_running",
            "job",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id = Column(Integer, primary_key=True)
    job = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False)
    trigger = Column(String(20), nullable=False)
    requested_by = Column(String(80))
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    heartbeat_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))
    duration_s = Column(Float)
    rows = Column(JSON)
    figures = Column(JSON)
    error = Column(Text)
    host = Column(String(255))
    pid = Column(Integer)


class CustomerMerge(Base):
    """A duplicate the cleaning job merged: who into whom, why, and the row as it was."""

    __tablename__ = "customer_merges"

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("job_runs.id"))
    kept_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    merged_id = Column(Integer, ForeignKey("customers.id"), nullable=False, unique=True)
    score = Column(Float, nullable=False)
    matched_on = Column(JSON, nullable=False)
    snapshot = Column(JSON, nullable=False)
    moved = Column(JSON, nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CustomerFix(Base):
    """One field value the cleaning job changed, with the value it had."""

    __tablename__ = "customer_fixes"

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("job_runs.id"))
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    field = Column(String(40), nullable=False)
    old_value = Column(Text)
    new_value = Column(Text)
    rule = Column(String(40), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Segment(Base):
    """A customer segment. Its id stays the same across segmentation runs that find it again."""

    __tablename__ = "segments"

    id = Column(Integer, primary_key=True)
    name = Column(String(120), nullable=False)
    description = Column(Text, nullable=False)
    method = Column(String(20), nullable=False)
    profile = Column(JSON, nullable=False)
    size = Column(Integer, nullable=False)
    first_run_id = Column(Integer, ForeignKey("job_runs.id"))
    last_run_id = Column(Integer, ForeignKey("job_runs.id"))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    retired_at = Column(DateTime(timezone=True))


class SegmentAssignment(Base):
    """A customer's segment from `valid_from` until `valid_to` (open while current)."""

    __tablename__ = "segment_assignments"
    __table_args__ = (
        Index("ix_segment_assignments_customer_valid", "customer_id", "valid_to"),
        Index("ix_segment_assignments_segment_valid", "segment_id", "valid_to"),
        Index("ix_segment_assignments_valid_from", "valid_from"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    segment_id = Column(Integer, ForeignKey("segments.id"), nullable=False)
    run_id = Column(Integer, ForeignKey("job_runs.id"))
    valid_from = Column(DateTime(timezone=True), nullable=False)
    valid_to = Column(DateTime(timezone=True))


class Strategy(Base):
    """How a segment's customers are served; generated from the segment's profile until a
    supervisor edits it (`edited_by`), after which the strategies job leaves it alone."""

    __tablename__ = "strategies"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 5", name="ck_strategies_priority"),
        CheckConstraint(
            "handoff_threshold >= 0 AND handoff_threshold <= 1", name="ck_strategies_threshold"
        ),
        CheckConstraint("sla_minutes > 0", name="ck_strategies_sla"),
    )

    segment_id = Column(Integer, ForeignKey("segments.id"), primary_key=True)
    tone = Column(String(20), nullable=False)
    greeting = Column(Text, nullable=False)
    offers = Column(JSON, nullable=False)
    priority = Column(Integer, nullable=False)
    handoff_threshold = Column(Float, nullable=False)
    sla_minutes = Column(Integer, nullable=False)
    generated_by_run_id = Column(Integer, ForeignKey("job_runs.id"))
    edited_by = Column(Integer, ForeignKey("staff_users.id"))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CustomerInsight(Base):
    """What the risk and channel jobs last concluded about a customer."""

    __tablename__ = "customer_insights"

    customer_id = Column(Integer, ForeignKey("customers.id"), primary_key=True)
    risk = Column(Float)
    risk_drivers = Column(JSON)
    risk_run_id = Column(Integer, ForeignKey("job_runs.id"))
    preferred_channel = Column(String(20))
    channel_confidence = Column(Float)
    channel_run_id = Column(Integer, ForeignKey("job_runs.id"))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ProductRule(Base):
    """An association rule on product holdings from one rules run (the latest run's are used)."""

    __tablename__ = "product_rules"

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("job_runs.id"), nullable=False, index=True)
    antecedents = Column(JSON, nullable=False)
    consequents = Column(JSON, nullable=False)
    support = Column(Float, nullable=False)
    confidence = Column(Float, nullable=False)
    lift = Column(Float, nullable=False)
