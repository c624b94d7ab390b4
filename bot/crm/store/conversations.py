"""Conversations and their messages, as Rasa's event stream delivers them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, null, or_, select, update
from sqlalchemy.orm import Session

from bot.crm.enums import ContactChannel, ConversationStatus, Sender, TicketKind, TicketStatus
from bot.crm.models import Contact, Conversation, Customer, Message, Ticket
from bot.crm.store.base import NotFound, StoreBase, as_utc, iso, split_page
from bot.crm.store.records import (
    ConversationDetail,
    ConversationFields,
    ConversationSummary,
    HandoffState,
    MessageRecord,
    MessageView,
)


class ConversationStore(StoreBase):
    def record_message(self, record: MessageRecord) -> bool:
        """Store a message once; a redelivered event (same key) is ignored. True if new.

        A message of an erased customer's conversation is stored without its text, data and
        entities: a late outbox or RabbitMQ delivery must not bring erased words back.
        """
        with self._session() as session:
            session.execute(
                self._insert(Conversation)
                .values(
                    id=record.conversation_id,
                    channel=record.channel,
                    customer_id=record.customer_id,
                    status=ConversationStatus.BOT,
                    started_at=record.created_at,
                    last_message_at=record.created_at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            words = {"text": record.text, "data": record.data, "entities": record.entities}
            if _erased(session, record):
                words = {"text": None, "data": null(), "entities": null()}
            inserted = session.execute(
                self._insert(Message)
                .values(
                    conversation_id=record.conversation_id,
                    event_key=record.event_key,
                    seq=record.seq,
                    sender=record.sender,
                    **words,
                    intent=record.intent,
                    confidence=record.confidence,
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

    def bind(self, conversation_id: str, customer_id: int) -> int:
        """Bind the conversation to this customer unless it has one; returns the bound customer.

        A conversation belongs to at most one verified customer. Insert-or-ignore, then an
        UPDATE only while no customer is set: of two customers racing for the same
        conversation exactly one wins, on SQLite and PostgreSQL alike, and both learn which.
        The winning bind also records the chat as one `Contact`, in the same transaction, so
        live conversations count in the channel and segmentation jobs; a re-bind adds none.
        """
        now = datetime.now(timezone.utc)
        with self._session() as session:
            inserted = session.execute(
                self._insert(Conversation)
                .values(
                    id=conversation_id,
                    customer_id=customer_id,
                    status=ConversationStatus.BOT,
                    started_at=now,
                    last_message_at=now,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            ).rowcount
            bound = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.customer_id.is_(None))
                .values(customer_id=customer_id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if inserted or bound:
                session.add(Contact(customer_id=customer_id, channel=ContactChannel.CHAT, at=now))
            return session.scalar(
                select(Conversation.customer_id).where(Conversation.id == conversation_id)
            )

    def bound_customer(self, conversation_id: str) -> int | None:
        """The customer the conversation is bound to; None if unbound or unknown."""
        with self._session() as session:
            return session.scalar(
                select(Conversation.customer_id).where(Conversation.id == conversation_id)
            )

    def status(self, conversation_id: str) -> ConversationStatus | None:
        """Who answers the conversation now (bot, staff, or nobody once closed); None if unknown."""
        with self._session() as session:
            status = session.scalar(
                select(Conversation.status).where(Conversation.id == conversation_id)
            )
            return None if status is None else ConversationStatus(status)

    def get(self, conversation_id: str) -> ConversationDetail:
        with self._session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id!r} not found")
            messages = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq, Message.id)
            ).all()
            latest_handoff = session.scalars(
                select(Ticket)
                .where(Ticket.conversation_id == conversation_id, Ticket.kind == TicketKind.HANDOFF)
                .order_by(Ticket.id.desc())
                .limit(1)
            ).first()
            return {
                **_summary_fields(conversation),
                "handoff": _handoff_state(latest_handoff),
                "messages": [message_view(message) for message in messages],
            }

    def list(
        self,
        *,
        customer_id: int | None = None,
        status: ConversationStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[ConversationSummary], str | None]:
        """Conversations newest first, with an opaque cursor for the next page (or None)."""
        query = select(Conversation, func.count(Message.id)).outerjoin(Message)
        if customer_id is not None:
            query = query.where(Conversation.customer_id == customer_id)
        if status is not None:
            query = query.where(Conversation.status == status)
        if cursor:
            query = query.where(
                self._after_cursor(cursor, Conversation.last_message_at, Conversation.id)
            )
        query = (
            query.group_by(Conversation.id)
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(limit + 1)
        )
        with self._session() as session:
            rows = session.execute(query).all()
        page, next_cursor = split_page(rows, limit, lambda row: (row[0].last_message_at, row[0].id))
        items: list[ConversationSummary] = [
            {**_summary_fields(conversation), "message_count": count}
            for conversation, count in page
        ]
        return items, next_cursor


def _erased(session: Session, record: MessageRecord) -> bool:
    """Whether the message's conversation, or the customer it names, is an erased customer's."""
    bound = select(Conversation.customer_id).where(Conversation.id == record.conversation_id)
    customer = or_(Customer.id == bound.scalar_subquery(), Customer.id == record.customer_id)
    erased = select(Customer.id).where(customer, Customer.erased_at.is_not(None)).limit(1)
    return session.scalar(erased) is not None


def ensure_conversation(
    session: Session, conversation_id: str, customer_id: int | None, at: datetime
) -> Conversation:
    """The conversation a ticket belongs to, created when no message has arrived for it yet."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(
            id=conversation_id, customer_id=customer_id, started_at=at, last_message_at=at
        )
        session.add(conversation)
        session.flush()
    return conversation


def message_view(message: Message) -> MessageView:
    return {
        "id": message.id,
        "sender": Sender(message.sender),
        "text": message.text,
        "data": message.data,
        "intent": message.intent,
        "confidence": message.confidence,
        "entities": message.entities or [],
        "sentiment": message.sentiment,
        "channel": message.channel,
        "created_at": iso(message.created_at),
    }


def _summary_fields(conversation: Conversation) -> ConversationFields:
    return {
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "status": ConversationStatus(conversation.status),
        "started_at": iso(conversation.started_at),
        "last_message_at": iso(conversation.last_message_at),
    }


def _handoff_state(ticket: Ticket | None) -> HandoffState | None:
    if ticket is None:
        return None
    return {
        "ticket_id": ticket.id,
        "status": TicketStatus(ticket.status),
        "assigned_to": ticket.assigned_to,
    }
