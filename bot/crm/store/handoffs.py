"""Handoffs: tickets that queue a conversation for a person, who claims, answers and resolves it."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.crm.enums import (
    ConversationStatus,
    DeliveryKind,
    HandoffReason,
    Sender,
    TicketKind,
    TicketStatus,
)
from bot.crm.models import Conversation, Customer, Message, StaffUser, Ticket
from bot.crm.store.base import Conflict, NotFound, StoreBase, iso
from bot.crm.store.conversations import ensure_conversation, message_view
from bot.crm.store.deliveries import RATING_PROMPT_INTENT, owe
from bot.crm.store.records import AgentMessage, Changes, HandoffView

MINUTES_PER_PLACE = 4
"""The service level the support team plans for: each customer ahead of one in the
queue adds about this many minutes to their wait (what customers are told)."""

LIVE = (TicketStatus.OPEN, TicketStatus.CLAIMED)
"""A live handoff still needs a person; a conversation has at most one."""


class HandoffStore(StoreBase):
    def open(
        self,
        *,
        conversation_id: str,
        customer_id: int | None,
        reason: HandoffReason,
        priority: int,
        subject: str,
        text: str,
        packet: dict[str, Any],
        category: str | None = None,
        due_at: datetime | None = None,
    ) -> int:
        """Queue the conversation for a person, once: an open or claimed handoff is reused.

        `due_at` is when a person should have answered (the customer's segment SLA).
        """
        now = datetime.now(timezone.utc)
        with self._session() as session:
            conversation = ensure_conversation(session, conversation_id, customer_id, now)
            existing = session.scalars(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == TicketKind.HANDOFF,
                    Ticket.status.in_(LIVE),
                )
            ).first()
            conversation.status = ConversationStatus.HANDOFF
            if existing is not None:
                return existing.id
            ticket = Ticket(
                kind=TicketKind.HANDOFF,
                category=category,
                conversation_id=conversation_id,
                customer_id=customer_id,
                status=TicketStatus.OPEN,
                priority=priority,
                subject=subject,
                text=text,
                packet={**packet, "reason": reason},
                created_at=now,
                due_at=due_at,
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
            return _place(session, ticket)

    def waiting_place(self, conversation_id: str) -> int | None:
        """The conversation's place in the queue while its handoff waits for an agent, else None."""
        with self._session() as session:
            ticket = session.scalars(
                select(Ticket).where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == TicketKind.HANDOFF,
                    Ticket.status == TicketStatus.OPEN,
                )
            ).first()
            return None if ticket is None else _place(session, ticket)

    def list(self, status: TicketStatus) -> list[HandoffView]:
        """Handoffs in queue order: most urgent first (1 is highest), then longest waiting."""
        with self._session() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.kind == TicketKind.HANDOFF, Ticket.status == status)
                .order_by(Ticket.priority, Ticket.created_at, Ticket.id)
            ).all()
            return [_handoff_view(ticket) for ticket in tickets]

    def get(self, ticket_id: int) -> HandoffView:
        with self._session() as session:
            return _handoff_view(_handoff(session, ticket_id))

    def claim(self, ticket_id: int, staff_id: int) -> HandoffView:
        """Assign an open handoff to an agent; exactly one of two racing claims succeeds.

        Claiming a handoff you already hold succeeds again (a double click, a retried request),
        so only a claim on someone else's or a resolved handoff is a conflict.
        """
        with self._session() as session:
            claimed = session.execute(
                update(Ticket)
                .where(
                    Ticket.id == ticket_id,
                    Ticket.kind == TicketKind.HANDOFF,
                    Ticket.status == TicketStatus.OPEN,
                )
                .values(
                    status=TicketStatus.CLAIMED,
                    assigned_to=staff_id,
                    claimed_at=datetime.now(timezone.utc),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        handoff = self.get(ticket_id)
        held = handoff["status"] == TicketStatus.CLAIMED and handoff["assigned_to"] == staff_id
        if not claimed and not held:
            raise Conflict(
                f"handoff {ticket_id} is {handoff['status'].value}, it cannot be claimed"
            )
        return handoff

    def release(self, ticket_id: int) -> tuple[HandoffView, int]:
        """Put a claimed handoff back in the queue (a supervisor's move for an absent agent).

        Returns the handoff and the agent who held it. The update is conditional on that
        agent still holding it, so a release racing a resolve or another release fails cleanly.
        """
        with self._session() as session:
            holder = _handoff(session, ticket_id).assigned_to
            released = holder is not None and self._move(
                session, ticket_id, holder, status=TicketStatus.OPEN, to=None, at=None
            )
        if not released:
            raise Conflict(f"handoff {ticket_id} is not claimed, it cannot be released")
        return self.get(ticket_id), holder

    def reassign(self, ticket_id: int, staff_id: int) -> tuple[HandoffView, int | None]:
        """Give a live handoff to another active staff member; returns it and its former holder."""
        with self._session() as session:
            target = session.get(StaffUser, staff_id)
            if target is None:
                raise NotFound(f"staff member {staff_id} not found")
            if not target.active:
                raise Conflict(f"staff member {staff_id} is deactivated")
            ticket = _handoff(session, ticket_id)
            holder = ticket.assigned_to
            if holder == staff_id and ticket.status == TicketStatus.CLAIMED:
                raise Conflict(f"handoff {ticket_id} is already held by staff member {staff_id}")
            moved = self._move(
                session,
                ticket_id,
                holder,
                status=TicketStatus.CLAIMED,
                to=staff_id,
                at=datetime.now(timezone.utc),
            )
        if not moved:
            raise Conflict(f"handoff {ticket_id} is resolved or changed, it cannot be reassigned")
        return self.get(ticket_id), holder

    @staticmethod
    def _move(
        session: Session,
        ticket_id: int,
        holder: int | None,
        *,
        status: TicketStatus,
        to: int | None,
        at: datetime | None,
    ) -> bool:
        """Set who holds a live handoff, only if `holder` still holds it; True if it moved."""
        held_by = Ticket.assigned_to.is_(None) if holder is None else Ticket.assigned_to == holder
        return bool(
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id, Ticket.status.in_(LIVE), held_by)
                .values(status=status, assigned_to=to, claimed_at=at)
                .execution_options(synchronize_session=False)
            ).rowcount
        )

    def resolve(
        self, ticket_id: int, staff_id: int, resolution: str, return_to_bot: bool
    ) -> HandoffView:
        """Resolve a handoff the agent holds, and record what Rasa is owed, in one transaction.

        `return_to_bot` true: a `resume` then a `rating_prompt` delivery are recorded; the
        conversation stays `handoff` until Rasa confirms the resume (bot/crm/store/deliveries.py
        sets it to `bot` then). False: the agent closed the case for good: the conversation
        is `closed`, the bot stays paused in it and the customer is not asked for a rating.
        """
        with self._session() as session:
            ticket = _held_handoff(session, ticket_id, staff_id)
            ticket.status = TicketStatus.RESOLVED
            ticket.resolution = resolution
            ticket.resolved_at = datetime.now(timezone.utc)
            conversation_id = ticket.conversation_id
            if return_to_bot:
                owe(session, conversation_id, DeliveryKind.RESUME, {}, ticket_id=ticket_id)
                owe(
                    session,
                    conversation_id,
                    DeliveryKind.RATING_PROMPT,
                    {"intent": RATING_PROMPT_INTENT},
                    ticket_id=ticket_id,
                )
            else:
                session.get(Conversation, conversation_id).status = ConversationStatus.CLOSED
            session.flush()
            return _handoff_view(ticket)

    def record_agent_message(
        self,
        ticket_id: int,
        staff_id: int,
        text: str,
        *,
        sent_text: str | None = None,
        agent: str = "",
    ) -> AgentMessage:
        """Log an agent's message and its delivery to the customer, in one transaction.

        Only the agent holding a live handoff may speak in it. `text` is stored (redacted by
        the caller); `sent_text` (default `text`) is what the customer's widget will show.
        """
        now = datetime.now(timezone.utc)
        with self._session() as session:
            ticket = _held_handoff(session, ticket_id, staff_id)
            if _customer_erased(session, ticket):
                raise Conflict("the customer of this conversation was erased; nothing was sent")
            message = Message(
                conversation_id=ticket.conversation_id,
                event_key=uuid.uuid4().hex,
                seq=now.timestamp(),
                sender=Sender.AGENT,
                text=text,
                data={"staff_id": staff_id},
                channel="console",
                created_at=now,
            )
            session.add(message)
            session.get(Conversation, ticket.conversation_id).last_message_at = now
            session.flush()
            owe(
                session,
                ticket.conversation_id,
                DeliveryKind.AGENT_MESSAGE,
                {
                    "text": text if sent_text is None else sent_text,
                    "agent": agent,
                    "message_id": message.id,
                    "seq": message.seq,
                },
                message_id=message.id,
            )
            return {"conversation_id": ticket.conversation_id, **message_view(message)}

    def last_ids(self) -> tuple[int, int]:
        """The newest message and ticket ids: where a live feed starts following."""
        with self._session() as session:
            return (
                session.scalar(select(func.max(Message.id))) or 0,
                session.scalar(select(func.max(Ticket.id))) or 0,
            )

    def changes_since(self, message_id: int, ticket_id: int) -> Changes:
        """New messages of handed-off conversations and new or changed handoffs, for live feeds."""
        with self._session() as session:
            messages = session.execute(
                select(Message, Ticket.id)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .join(
                    Ticket,
                    and_(
                        Ticket.conversation_id == Conversation.id,
                        Ticket.kind == TicketKind.HANDOFF,
                        Ticket.status.in_(LIVE),
                    ),
                )
                .where(Message.id > message_id)
                .order_by(Message.id)
            ).all()
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.kind == TicketKind.HANDOFF, Ticket.id > ticket_id)
                .order_by(Ticket.id)
            ).all()
            last_message = session.scalar(select(func.max(Message.id))) or 0
            return {
                "messages": [
                    {
                        "handoff_id": handoff_id,
                        "conversation_id": m.conversation_id,
                        **message_view(m),
                    }
                    for m, handoff_id in messages
                ],
                "handoffs": [_handoff_view(t) for t in tickets],
                "last_message_id": max(last_message, message_id),
                "last_ticket_id": max([ticket_id] + [t.id for t in tickets]),
            }


def _place(session: Session, ticket: Ticket) -> int:
    """1 + the open handoffs ahead of this one in queue order (`HandoffStore.list`'s)."""
    ahead = session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.kind == TicketKind.HANDOFF,
            Ticket.status == TicketStatus.OPEN,
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


def _handoff(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.kind != TicketKind.HANDOFF:
        raise NotFound(f"handoff {ticket_id} not found")
    return ticket


def _held_handoff(session: Session, ticket_id: int, staff_id: int) -> Ticket:
    """The handoff, if this agent holds it now: claimed by them and not yet resolved."""
    ticket = _handoff(session, ticket_id)
    if ticket.status != TicketStatus.CLAIMED or ticket.assigned_to != staff_id:
        raise Conflict(f"handoff {ticket_id} is {ticket.status} and not held by you")
    return ticket


def _handoff_view(ticket: Ticket) -> HandoffView:
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "customer_id": ticket.customer_id,
        "status": TicketStatus(ticket.status),
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
        "due_at": iso(ticket.due_at),
    }


def _customer_erased(session: Session, ticket: Ticket) -> bool:
    """Whether the ticket's customer, or its conversation's, was erased since it was opened."""
    bound = select(Conversation.customer_id).where(Conversation.id == ticket.conversation_id)
    customer = or_(Customer.id == ticket.customer_id, Customer.id == bound.scalar_subquery())
    erased = select(Customer.id).where(customer, Customer.erased_at.is_not(None)).limit(1)
    return session.scalar(erased) is not None
