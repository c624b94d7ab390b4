"""Reads of the CRM store that only tests need, kept out of the store's API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crm.models import Ticket
from bot.crm.store import CRMStore


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
