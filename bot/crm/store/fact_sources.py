"""What one batch of the facts refresh reads: each conversation's messages, handoffs,
intent counts, its customer's other conversations and segments, one query per source for
the whole batch (bot/crm/store/facts.py builds the rows from them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from bot.crm.enums import Sender, TicketKind
from bot.crm.models import Conversation, Message, SegmentAssignment, Ticket
from bot.crm.store.base import as_utc, batches
from bot.crm.store.metric_facts import (
    FALLBACK_INTENT,
    SMALL_TALK,
    UNKNOWN,
    ConversationInput,
    CustomerConversation,
    Handoff,
)

CUSTOMER_BATCH = 2_000
"""Customers per query: `IN (...)` lists that either database takes."""


def messages(connection: Connection, ids: list[str], items: dict[str, ConversationInput]) -> None:
    customer = Message.sender == Sender.CUSTOMER.value
    totals = (
        select(
            Message.conversation_id,
            func.sum(case((customer, 1), else_=0)),
            func.sum(case((and_(customer, Message.intent == FALLBACK_INTENT), 1), else_=0)),
            func.sum(case((Message.sender == Sender.AGENT.value, 1), else_=0)),
            func.avg(case((customer, Message.sentiment), else_=None)),
        )
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    for conversation_id, customers, fallbacks, agents, sentiment in connection.execute(totals):
        item = items[conversation_id]
        item.customer_messages, item.fallback_messages = int(customers), int(fallbacks)
        item.agent_messages = int(agents)
        item.sentiment_mean = float(sentiment) if sentiment is not None else None
    opening = and_(customer, Message.intent.is_not(None), Message.intent.not_in(SMALL_TALK))
    for conversation_id, intent in _at_seq(connection, ids, opening, func.min, Message.intent):
        items[conversation_id].intent = intent
    rated = and_(customer, Message.sentiment.is_not(None))
    for conversation_id, sentiment in _at_seq(connection, ids, rated, func.max, Message.sentiment):
        items[conversation_id].sentiment_last = float(sentiment)


def _at_seq(
    connection: Connection, ids: list[str], where: Any, pick: Any, column: Any
) -> Iterable[tuple[str, Any]]:
    """`column` of each conversation's first (`func.min`) or last (`func.max`) message
    matching `where`, found by its sequence number (the conversation/seq index)."""
    chosen = (
        select(Message.conversation_id.label("cid"), pick(Message.seq).label("seq"))
        .where(Message.conversation_id.in_(ids), where)
        .group_by(Message.conversation_id)
        .subquery()
    )
    query = (
        select(Message.conversation_id, column)
        .join(chosen, and_(Message.conversation_id == chosen.c.cid, Message.seq == chosen.c.seq))
        .where(where)
    )
    return connection.execute(query).all()


def intent_counts(connection: Connection, ids: list[str]) -> list[tuple[str, str, int]]:
    intent = func.coalesce(Message.intent, UNKNOWN)
    query = (
        select(Message.conversation_id, intent, func.count())
        .where(Message.conversation_id.in_(ids), Message.sender == Sender.CUSTOMER.value)
        .group_by(Message.conversation_id, intent)
    )
    return [(cid, name, int(count)) for cid, name, count in connection.execute(query)]


def handoffs(connection: Connection, ids: list[str], items: dict[str, ConversationInput]) -> None:
    query = (
        select(Ticket.__table__)
        .where(Ticket.conversation_id.in_(ids), Ticket.kind == TicketKind.HANDOFF.value)
        .order_by(Ticket.created_at, Ticket.id)
    )
    for ticket in connection.execute(query).mappings():
        items[ticket["conversation_id"]].handoff = Handoff(  # the latest handoff wins
            created_at=as_utc(ticket["created_at"]),
            claimed_at=as_utc(ticket["claimed_at"]),
            resolved_at=as_utc(ticket["resolved_at"]),
            status=ticket["status"],
            agent_id=ticket["assigned_to"],
            csat=ticket["csat"],
            due_at=as_utc(ticket["due_at"]),
            reason=(ticket["packet"] or {}).get("reason"),
        )
    handed = [item.id for item in items.values() if item.handoff is not None]
    if not handed:
        return
    timeline = (
        select(Message.conversation_id, Message.sender, Message.created_at, Message.intent)
        .where(
            Message.conversation_id.in_(handed),
            Message.sender.in_((Sender.CUSTOMER.value, Sender.AGENT.value)),
        )
        .order_by(Message.conversation_id, Message.created_at, Message.seq)
    )
    for conversation_id, sender, at, intent in connection.execute(timeline):
        items[conversation_id].timeline.append((sender, as_utc(at), intent))


def customer_conversations(
    connection: Connection, customers: list[int]
) -> dict[int, list[CustomerConversation]]:
    """Each customer's conversations in which they wrote: a conversation opened by the
    widget (`bind`) with only the bot's greeting is not the customer coming back."""
    real = and_(Message.intent.is_not(None), Message.intent.not_in(SMALL_TALK))
    first_real = func.min(case((real, Message.created_at), else_=None))
    written: dict[int, list[CustomerConversation]] = defaultdict(list)
    for batch in batches(customers, CUSTOMER_BATCH):
        query = (
            select(
                Conversation.customer_id,
                Conversation.id,
                Conversation.started_at,
                first_real.label("first_real_at"),
            )
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Conversation.customer_id.in_(batch),
                Message.sender == Sender.CUSTOMER.value,
            )
            .group_by(Conversation.customer_id, Conversation.id, Conversation.started_at)
        )
        for customer_id, cid, started_at, first_real_at in connection.execute(query):
            written[customer_id].append(
                CustomerConversation(cid, as_utc(started_at), _as_time(first_real_at))
            )
    return written


def _as_time(value: datetime | str | None) -> datetime | None:
    """SQLite returns an aggregate's time as its stored text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def segments(
    connection: Connection, customers: list[int], items: dict[str, ConversationInput]
) -> None:
    """The segment at the start; before a customer's first segmentation, their first
    segment (a run classifies the history that came before it)."""
    spans: dict[int, list[tuple[datetime, datetime | None, int]]] = defaultdict(list)
    for batch in batches(customers, CUSTOMER_BATCH):
        query = (
            select(
                SegmentAssignment.customer_id,
                SegmentAssignment.valid_from,
                SegmentAssignment.valid_to,
                SegmentAssignment.segment_id,
            )
            .where(SegmentAssignment.customer_id.in_(batch))
            .order_by(SegmentAssignment.valid_from, SegmentAssignment.id)
        )
        for customer_id, valid_from, valid_to, segment_id in connection.execute(query):
            spans[customer_id].append((as_utc(valid_from), as_utc(valid_to), segment_id))
    for item in items.values():
        assigned = spans.get(item.customer_id) if item.customer_id else None
        if not assigned:
            continue
        item.segment_id = next(
            (
                segment_id
                for valid_from, valid_to, segment_id in reversed(assigned)
                if valid_from <= item.started_at
                and (valid_to is None or item.started_at < valid_to)
            ),
            assigned[0][2] if item.started_at < assigned[0][0] else None,
        )
