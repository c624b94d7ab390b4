"""Tickets of every kind, and the resolved ones the similar-ticket index learns from."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from bot.crm.enums import TicketKind, TicketStatus
from bot.crm.models import Ticket
from bot.crm.store.base import StoreBase
from bot.crm.store.conversations import ensure_conversation
from bot.crm.store.records import ResolvedTicket, TicketText


class TicketStore(StoreBase):
    def create(
        self,
        *,
        kind: TicketKind,
        subject: str,
        text: str,
        conversation_id: str | None = None,
        customer_id: int | None = None,
        status: TicketStatus = TicketStatus.OPEN,
        priority: int = 3,
        resolution: str | None = None,
        packet: dict[str, Any] | None = None,
    ) -> int:
        now = datetime.now(timezone.utc)
        with self._session() as session:
            if conversation_id is not None:
                ensure_conversation(session, conversation_id, customer_id, now)
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
                resolved_at=now if status == TicketStatus.RESOLVED else None,
            )
            session.add(ticket)
            session.flush()
            return ticket.id

    def resolved(self, after_id: int = 0) -> list[ResolvedTicket]:
        """Resolved tickets with a resolution, for the similar-ticket index."""
        with self._session() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(
                    Ticket.status == TicketStatus.RESOLVED,
                    Ticket.resolution.isnot(None),
                    Ticket.id > after_id,
                )
                .order_by(Ticket.id)
            ).all()
            return [
                {"id": t.id, "text": t.text, "resolution": t.resolution, "category": t.category}
                for t in tickets
            ]

    def by_id(self, ticket_ids: list[int]) -> dict[int, TicketText]:
        with self._session() as session:
            tickets = session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))).all()
            return {t.id: {"text": t.text, "resolution": t.resolution} for t in tickets}
