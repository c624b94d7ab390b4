"""Reads of the CRM store that only tests need, kept out of the store's API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crm.models import (
    Conversation,
    CustomerFix,
    CustomerInsight,
    CustomerMerge,
    ProductRule,
    Segment,
    Ticket,
)
from bot.crm.store import CRMStore
from bot.crm.store.base import iso
from bot.crm.store.insights import RuleRecord, latest_rules_run
from bot.crm.store.segments import SegmentInfo, segment_info


def tickets_for_conversation(store: CRMStore, conversation_id: str) -> list[dict[str, Any]]:
    """Every ticket of the conversation, oldest first."""
    with Session(store.engine, future=True) as session:
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


def conversation_ids_of(store: CRMStore, customer_id: int) -> set[str]:
    """Every conversation of the customer, read without the store's paging."""
    with Session(store.engine, future=True) as session:
        return set(
            session.scalars(select(Conversation.id).where(Conversation.customer_id == customer_id))
        )


def segments_of(store: CRMStore, include_retired: bool = False) -> list[SegmentInfo]:
    """Live segments, largest first (retired ones after them when asked for)."""
    query = select(Segment).order_by(Segment.retired_at.is_not(None), Segment.size.desc())
    if not include_retired:
        query = query.where(Segment.retired_at.is_(None))
    with Session(store.engine, future=True) as session:
        return [segment_info(segment) for segment in session.scalars(query)]


def segment_by_id(store: CRMStore, segment_id: int) -> SegmentInfo | None:
    with Session(store.engine, future=True) as session:
        segment = session.get(Segment, segment_id)
        return segment_info(segment) if segment else None


def insight_of(store: CRMStore, customer_id: int) -> dict[str, Any] | None:
    """What the jobs last concluded about this customer, or None if nothing yet."""
    with Session(store.engine, future=True) as session:
        row = session.get(CustomerInsight, customer_id)
        if row is None:
            return None
        return {
            "customer_id": row.customer_id,
            "risk": row.risk,
            "risk_drivers": list(row.risk_drivers or []),
            "risk_run_id": row.risk_run_id,
            "preferred_channel": row.preferred_channel,
            "channel_confidence": row.channel_confidence,
            "channel_run_id": row.channel_run_id,
            "updated_at": iso(row.updated_at),
        }


def rules_of(store: CRMStore, run_id: int | None = None) -> list[RuleRecord]:
    """A run's rules (the latest successful rules run's by default), strongest lift first."""
    with Session(store.engine, future=True) as session:
        run = run_id if run_id is not None else latest_rules_run(session)
        rows = session.scalars(
            select(ProductRule)
            .where(ProductRule.run_id == run)
            .order_by(ProductRule.lift.desc(), ProductRule.confidence.desc(), ProductRule.id)
        ).all()
        return [
            {
                "antecedents": list(row.antecedents),
                "consequents": list(row.consequents),
                "support": row.support,
                "confidence": row.confidence,
                "lift": row.lift,
            }
            for row in rows
        ]


def merges_of(store: CRMStore) -> list[dict[str, Any]]:
    """Every merge made, oldest first: who into whom, why, and what moved."""
    with Session(store.engine, future=True) as session:
        return [
            {
                "kept_id": merge.kept_id,
                "merged_id": merge.merged_id,
                "score": merge.score,
                "matched_on": merge.matched_on,
                "snapshot": merge.snapshot,
                "moved": merge.moved,
                "run_id": merge.run_id,
                "at": iso(merge.at),
            }
            for merge in session.scalars(select(CustomerMerge).order_by(CustomerMerge.id))
        ]


def fixes_of(store: CRMStore, customer_id: int | None = None) -> list[dict[str, Any]]:
    """The trace of fixed values, oldest first (one customer's, or everyone's)."""
    query = select(CustomerFix).order_by(CustomerFix.id)
    if customer_id is not None:
        query = query.where(CustomerFix.customer_id == customer_id)
    with Session(store.engine, future=True) as session:
        return [
            {
                "customer_id": fix.customer_id,
                "field": fix.field,
                "old_value": fix.old_value,
                "new_value": fix.new_value,
                "rule": fix.rule,
                "run_id": fix.run_id,
            }
            for fix in session.scalars(query)
        ]
