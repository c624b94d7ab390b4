"""The dashboard summary without the rollup: one naive query set over messages and tickets.

What the summary would cost if every request aggregated the raw conversation tables (with
the indexes they have) instead of `conversation_facts`; the benchmark times it next to
`MetricStore.summary` so the report can give the ratio. Its counts must agree with the
rollup's, which the report checks too.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine

from bot.crm.models import BotFeedback, Conversation, Message, SegmentAssignment, Ticket

FALLBACK = "nlu_fallback"


def _db_time(engine: Engine, value: datetime) -> datetime:
    return value.replace(tzinfo=None) if engine.dialect.name == "sqlite" else value


def _conversations(engine: Engine, f: Any) -> Any:
    """The conversations in the filter's range, channel and segment-at-start."""
    start = datetime.combine(f.date_from, time(), tzinfo=timezone.utc)
    end = datetime.combine(f.date_to + timedelta(days=1), time(), tzinfo=timezone.utc)
    query = select(Conversation.id, Conversation.customer_id).where(
        Conversation.started_at >= _db_time(engine, start),
        Conversation.started_at < _db_time(engine, end),
    )
    if f.channel is not None:
        query = query.where(Conversation.channel == f.channel)
    if f.segment_id is not None:
        query = query.join(
            SegmentAssignment,
            and_(
                SegmentAssignment.customer_id == Conversation.customer_id,
                SegmentAssignment.valid_from <= Conversation.started_at,
                or_(
                    SegmentAssignment.valid_to.is_(None),
                    Conversation.started_at < SegmentAssignment.valid_to,
                ),
            ),
        ).where(SegmentAssignment.segment_id == f.segment_id)
    return query.subquery()


def naive_summary(engine: Engine, f: Any) -> dict[str, Any]:
    """Headline figures straight from the raw tables: counts, rates, CSAT, first response."""
    conv = _conversations(engine, f)
    customer = Message.sender == "customer"
    per_conversation = (
        select(
            conv.c.id,
            conv.c.customer_id,
            func.sum(case((customer, 1), else_=0)).label("customer_messages"),
            func.sum(case((and_(customer, Message.intent == FALLBACK), 1), else_=0)).label(
                "fallbacks"
            ),
            func.avg(case((customer, Message.sentiment), else_=None)).label("sentiment"),
        )
        .join(Message, Message.conversation_id == conv.c.id)
        .group_by(conv.c.id, conv.c.customer_id)
        .having(func.sum(case((customer, 1), else_=0)) > 0)
        .subquery()
    )
    handed = (
        select(Ticket.conversation_id)
        .where(Ticket.kind == "handoff", Ticket.conversation_id == per_conversation.c.id)
        .exists()
    )
    with engine.connect() as connection:
        totals = connection.execute(
            select(
                func.count(),
                func.count(per_conversation.c.customer_id.distinct()),
                func.sum(per_conversation.c.customer_messages),
                func.sum(per_conversation.c.fallbacks),
                func.avg(per_conversation.c.sentiment),
                func.sum(case((handed, 1), else_=0)),
            )
        ).one()
        first_agent = (
            select(func.min(Message.created_at))
            .where(
                Message.conversation_id == Ticket.conversation_id,
                Message.sender == "agent",
                Message.created_at > Ticket.created_at,
            )
            .scalar_subquery()
        )
        tickets = connection.execute(
            select(Ticket.created_at, first_agent, Ticket.csat, Ticket.status)
            .join(conv, conv.c.id == Ticket.conversation_id)
            .where(Ticket.kind == "handoff")
        ).all()
        ratings = connection.execute(
            select(func.count(), func.sum(case((BotFeedback.score >= 4, 1), else_=0))).join(
                conv, conv.c.id == BotFeedback.conversation_id
            )
        ).one()
        intents = connection.execute(
            select(Message.intent, func.count())
            .join(conv, conv.c.id == Message.conversation_id)
            .where(customer)
            .group_by(Message.intent)
            .order_by(func.count().desc())
        ).all()
    conversations, customers, messages, fallbacks, sentiment, handed_off = totals
    waits = [
        (answer - created).total_seconds()
        for created, answer, _, _ in tickets
        if answer is not None
    ]
    rated = [csat for _, _, csat, status in tickets if csat is not None and status == "resolved"]
    return {
        "conversations": conversations,
        "unique_customers": customers,
        "customer_messages": int(messages or 0),
        "handoff_rate": handed_off / conversations if conversations else None,
        "fallback_rate": fallbacks / messages if messages else None,
        "sentiment_mean": float(sentiment) if sentiment is not None else None,
        "median_first_response_s": float(np.median(waits)) if waits else None,
        "csat_agent": sum(r >= 4 for r in rated) / len(rated) if rated else None,
        "bot_ratings": ratings[0],
        "intents": [{"intent": i, "count": c} for i, c in intents],
    }
