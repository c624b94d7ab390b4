"""Forgetting people and old conversations in the CRM store (`bot.crm.erasure` does the rest:
Rasa's tracker store, the outboxes and the similar-ticket index).

Erasing a customer keeps their rows as tombstones: the customer row with a placeholder name
and `erased_at`, their conversations, messages and tickets without any text, so counts and
metrics still add up and a late write can tell it belongs to an erased customer. What
describes or profiles the person goes: text, packets, notes, inbox items, ratings, risk and
segment history, contact history, cleaning traces. Banking records (accounts, cards,
transactions, product holdings) are the bank's ledger, kept under its own legal retention,
and name no one once the customer row is a tombstone. The audit log is kept whole (the
database refuses to change it): it names staff and record ids, not the customer's words.

Retention deletes old conversations with everything that hangs off them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime, timezone
from typing import Any, TypedDict

from sqlalchemy import delete, func, null, or_, select, update
from sqlalchemy.orm import Session

from bot.crm.enums import ConversationStatus, Sender, TicketKind, TicketStatus
from bot.crm.models import (
    BotFeedback,
    Contact,
    Conversation,
    Customer,
    CustomerFix,
    CustomerInsight,
    CustomerMerge,
    Message,
    SegmentAssignment,
    Ticket,
)
from bot.crm.models_delivery import RasaDelivery
from bot.crm.models_supervision import (
    ConversationFact,
    ConversationIntentFact,
    InboxItem,
    QualityFlag,
    Topic,
)
from bot.crm.store.base import NotFound, StoreBase, batches, iso

ERASED_NAME = "Erased customer"
ERASED_SUBJECT = "Erased"
ERASED_SNAPSHOT = {"erased": True}
BATCH = 500
"""Ids per `IN (...)`: within either database's parameter limit."""
MIN_NEEDLE = 12
"""A message shorter than this is only scrubbed from topic examples that equal it: a
"thanks" found inside other people's sentences identifies no one."""


class Erasure(TypedDict):
    customer_id: int
    erased_ids: list[int]
    erased_at: str
    already_erased: bool
    conversation_ids: list[str]
    erased: dict[str, int]


class ErasureStore(StoreBase):
    def erase_customer(self, customer_id: int, now: datetime | None = None) -> Erasure:
        """Erase a customer, every customer merged into them (the same person) and the text
        of their conversations and tickets, in one transaction. A merged id erases the
        customer it was merged into. Idempotent: a second call finds nothing to erase and
        keeps the first `erased_at`. NotFound for an unknown id."""
        now = now or datetime.now(timezone.utc)
        with self._session() as session:
            customer = session.get(Customer, customer_id, with_for_update=True)
            if customer is None:
                raise NotFound(f"customer {customer_id} not found")
            if customer.merged_into_id is not None:
                customer = session.get(Customer, customer.merged_into_id, with_for_update=True)
            people = list(
                session.scalars(
                    select(Customer)
                    .where(or_(Customer.id == customer.id, Customer.merged_into_id == customer.id))
                    .order_by(Customer.id)
                )
            )
            ids = [person.id for person in people]
            already = customer.erased_at is not None
            erased_at = customer.erased_at or now
            erased: Counter[str] = Counter()
            for person in people:
                if _has_personal_fields(person):
                    erased["customers"] += 1
                person.name = ERASED_NAME
                person.email = person.phone = person.city = None
                person.erased_at = person.erased_at or erased_at
            conversations = list(
                session.scalars(
                    select(Conversation.id)
                    .where(Conversation.customer_id.in_(ids))
                    .order_by(Conversation.id)
                )
            )
            erased.update(self._erase_conversation_text(session, conversations))
            erased["tickets"] += _erase_tickets(session, Ticket.customer_id.in_(ids))
            erased["handoffs_closed"] += _close_handoffs(session, ids, conversations, now)
            erased.update(_forget_person(session, ids))
            return {
                "customer_id": customer.id,
                "erased_ids": ids,
                "erased_at": iso(erased_at),
                "already_erased": already,
                "conversation_ids": conversations,
                "erased": dict(erased),
            }

    def sweep(self, conversation_ids: Collection[str]) -> int:
        """Text a write in flight during the erasure stored anyway: erase it again."""
        total = 0
        for batch in batches(conversation_ids, BATCH):
            with self._session() as session:
                total += _erase_messages(session, Message.conversation_id.in_(batch))
        return total

    def erased_conversations(self, conversation_ids: Collection[str]) -> set[str]:
        """Those of these conversations that belong to an erased customer."""
        found: set[str] = set()
        with self._session() as session:
            for batch in batches(conversation_ids, BATCH):
                found.update(
                    session.scalars(
                        select(Conversation.id)
                        .join(Customer, Customer.id == Conversation.customer_id)
                        .where(Conversation.id.in_(batch), Customer.erased_at.is_not(None))
                    )
                )
        return found

    def count_older(self, before: datetime) -> int:
        """Conversations whose last message is older than `before`."""
        query = select(func.count()).where(Conversation.last_message_at < self._db_time(before))
        with self._session() as session:
            return session.scalar(query) or 0

    def older(self, before: datetime, limit: int) -> list[str]:
        """Up to `limit` conversations whose last message is older than `before`, by id."""
        query = (
            select(Conversation.id)
            .where(Conversation.last_message_at < self._db_time(before))
            .order_by(Conversation.id)
            .limit(limit)
        )
        with self._session() as session:
            return list(session.scalars(query))

    def delete_conversations(self, conversation_ids: Collection[str]) -> dict[str, int]:
        """Delete these conversations and every row that hangs off them, in one transaction
        (retention); ids already gone count nothing."""
        ids = list(conversation_ids)
        deleted: Counter[str] = Counter()
        if not ids:
            return {}
        with self._session() as session:
            deleted["topics"] = _scrub_topics(session, _customer_texts(session, ids))
            in_conversations = Message.conversation_id.in_(ids)
            message_ids = select(Message.id).where(in_conversations).scalar_subquery()
            deleted["nlu_inbox"] = _delete(
                session, InboxItem, InboxItem.message_id.in_(message_ids)
            )
            for name, model in DEPENDANTS:
                deleted[name] = _delete(session, model, model.conversation_id.in_(ids))
            deleted["messages"] = _delete(session, Message, in_conversations)
            deleted["conversations"] = _delete(session, Conversation, Conversation.id.in_(ids))
        return dict(deleted)

    def _erase_conversation_text(self, session: Session, ids: list[str]) -> Counter[str]:
        erased: Counter[str] = Counter()
        for batch in batches(ids, BATCH):
            erased["topics"] += _scrub_topics(session, _customer_texts(session, batch))
            in_batch = Message.conversation_id.in_(batch)
            message_ids = select(Message.id).where(in_batch).scalar_subquery()
            erased["messages"] += _erase_messages(session, in_batch)
            erased["nlu_inbox"] += _delete(
                session, InboxItem, InboxItem.message_id.in_(message_ids)
            )
            erased["tickets"] += _erase_tickets(session, Ticket.conversation_id.in_(batch))
            erased["quality_notes"] += _update(
                session,
                QualityFlag,
                QualityFlag.conversation_id.in_(batch) & QualityFlag.note.is_not(None),
                note=None,
            )
            erased["bot_feedback"] += _delete(
                session, BotFeedback, BotFeedback.conversation_id.in_(batch)
            )
            erased["deliveries"] += _delete(
                session, RasaDelivery, RasaDelivery.conversation_id.in_(batch)
            )
        return erased


DEPENDANTS = (
    ("deliveries", RasaDelivery),
    ("bot_feedback", BotFeedback),
    ("quality_flags", QualityFlag),
    ("conversation_intent_facts", ConversationIntentFact),
    ("conversation_facts", ConversationFact),
    ("tickets", Ticket),
)
"""Rows keyed by conversation, in an order the foreign keys allow (deliveries name tickets)."""


def _has_personal_fields(customer: Customer) -> bool:
    return customer.name != ERASED_NAME or any(
        value is not None for value in (customer.email, customer.phone, customer.city)
    )


def _update(session: Session, model: type, where: Any, **values: Any) -> int:
    statement = update(model).where(where).values(**values)
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _delete(session: Session, model: type, where: Any) -> int:
    statement = delete(model).where(where).execution_options(synchronize_session=False)
    return session.execute(statement).rowcount


def _erase_messages(session: Session, where: Any) -> int:
    """Text, data and entities to SQL NULL (a JSON column would store `None` as JSON null);
    intent, confidence and sentiment stay: figures the metrics count, not words."""
    held = or_(Message.text.is_not(None), Message.data.is_not(None), Message.entities.is_not(None))
    return _update(session, Message, where & held, text=None, data=null(), entities=null())


def _erase_tickets(session: Session, where: Any) -> int:
    """Subject, text, resolution and packet; status, times and ratings stay for the metrics."""
    held = or_(
        Ticket.subject != ERASED_SUBJECT,
        Ticket.text != "",
        Ticket.resolution.is_not(None),
        Ticket.packet.is_not(None),
    )
    return _update(
        session,
        Ticket,
        where & held,
        subject=ERASED_SUBJECT,
        text="",
        resolution=None,
        packet=null(),
    )


def _close_handoffs(
    session: Session, ids: list[int], conversations: list[str], now: datetime
) -> int:
    """Waiting or claimed handoffs of the erased: nobody is left to answer, and an agent's
    reply would put the person's details back in writing. Their conversations close."""
    live = (
        (Ticket.kind == TicketKind.HANDOFF)
        & Ticket.status.in_([TicketStatus.OPEN, TicketStatus.CLAIMED])
        & or_(Ticket.customer_id.in_(ids), Ticket.conversation_id.in_(conversations))
    )
    closed = _update(session, Ticket, live, status=TicketStatus.RESOLVED, resolved_at=now)
    if closed:
        _update(
            session,
            Conversation,
            Conversation.id.in_(conversations)
            & (Conversation.status == ConversationStatus.HANDOFF),
            status=ConversationStatus.CLOSED,
        )
    return closed


def _forget_person(session: Session, ids: list[int]) -> Counter[str]:
    """What profiles the person: the analytics jobs skip erased customers, so none returns."""
    return Counter(
        {
            "insights": _delete(session, CustomerInsight, CustomerInsight.customer_id.in_(ids)),
            "segment_assignments": _delete(
                session, SegmentAssignment, SegmentAssignment.customer_id.in_(ids)
            ),
            "contacts": _delete(session, Contact, Contact.customer_id.in_(ids)),
            "customer_fixes": _update(
                session,
                CustomerFix,
                CustomerFix.customer_id.in_(ids)
                & or_(CustomerFix.old_value.is_not(None), CustomerFix.new_value.is_not(None)),
                old_value=None,
                new_value=None,
            ),
            "customer_merges": _erase_snapshots(session, ids),
        }
    )


def _erase_snapshots(session: Session, ids: list[int]) -> int:
    """The merged rows as they were (name, e-mail...); compared in Python, as PostgreSQL's
    `json` has no equality."""
    merges = session.scalars(
        select(CustomerMerge).where(
            or_(CustomerMerge.kept_id.in_(ids), CustomerMerge.merged_id.in_(ids))
        )
    )
    erased = 0
    for merge in merges:
        if merge.snapshot != ERASED_SNAPSHOT:
            merge.snapshot = dict(ERASED_SNAPSHOT)
            erased += 1
    return erased


def _customer_texts(session: Session, conversation_ids: list[str]) -> list[str]:
    return list(
        session.scalars(
            select(Message.text).where(
                Message.conversation_id.in_(conversation_ids),
                Message.sender == Sender.CUSTOMER,
                Message.text.is_not(None),
            )
        )
    )


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _scrub_topics(session: Session, texts: Iterable[str]) -> int:
    """Drop these messages from the topics' examples and digests (the next `topics` run
    reads only messages with text, so it brings none back). Returns the topics changed."""
    needles = {_normalised(text) for text in texts} - {""}
    if not needles:
        return 0
    changed = 0
    for topic in session.scalars(select(Topic)):
        examples = _scrubbed(topic.examples, needles)
        digest = _scrubbed(topic.digest, needles)
        if examples != topic.examples or digest != topic.digest:
            topic.examples, topic.digest = examples, digest
            changed += 1
    return changed


def _scrubbed(value: Any, needles: set[str]) -> Any:
    """`value` (JSON) without the strings that quote one of the messages, or that a
    message quotes (an extractive digest's sentence)."""
    if isinstance(value, dict):
        return {key: _scrubbed(item, needles) for key, item in value.items()}
    if isinstance(value, list):
        return [
            _scrubbed(item, needles)
            for item in value
            if not (isinstance(item, str) and _quotes(item, needles))
        ]
    if isinstance(value, str) and _quotes(value, needles):
        return ""
    return value


def _quotes(text: str, needles: set[str]) -> bool:
    text = _normalised(text)
    if text in needles:
        return True
    return any(
        (len(needle) >= MIN_NEEDLE and needle in text)
        or (len(text) >= MIN_NEEDLE and text in needle)
        for needle in needles
    )
