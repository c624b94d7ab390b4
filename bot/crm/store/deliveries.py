"""The console's calls into Rasa: recorded first, then delivered and settled here.

A change that owes Rasa a call (an agent's reply, a resolve handing back to the bot) adds a
`RasaDelivery` in its own transaction (`owe`), so the intent survives whatever happens to
Rasa or to the console next. Workers claim the oldest pending delivery of a conversation
with a conditional UPDATE (a lease), so two consoles never send the same one at once and
a conversation's calls reach Rasa in the order they were made. The CRM follows what
happened: a conversation goes back to `bot` only when Rasa confirmed the resume.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any, TypedDict

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.crm.enums import (
    ConversationStatus,
    DeliveryKind,
    DeliveryStatus,
    Sender,
    TicketKind,
    TicketStatus,
)
from bot.crm.models import Conversation, Message, StaffUser, Ticket
from bot.crm.models_delivery import RasaDelivery
from bot.crm.store.base import NotFound, StoreBase, batches, iso

RATING_PROMPT_INTENT = "give_feedback"
"""The intent whose rule asks the customer to rate the help (data/rules)."""
SECRET_FIELDS = ("text",)
"""Payload fields dropped once a delivery is settled: an agent's reply, unredacted."""
MAX_ERROR_CHARS = 500


class DeliveryView(TypedDict):
    id: int
    conversation_id: str
    kind: DeliveryKind
    status: DeliveryStatus
    payload: dict[str, Any]
    message_id: int | None
    ticket_id: int | None
    attempts: int
    last_error: str | None
    created_at: str | None
    next_attempt_at: str | None
    finished_at: str | None


class MissedMessage(TypedDict):
    id: int
    sender: Sender
    text: str | None
    data: dict[str, Any] | None
    agent: str | None
    seq: float


def owe(
    session: Session,
    conversation_id: str,
    kind: DeliveryKind,
    payload: dict[str, Any],
    *,
    message_id: int | None = None,
    ticket_id: int | None = None,
) -> RasaDelivery:
    """Record a call owed to Rasa inside the caller's transaction (flushed, so it has an id)."""
    now = datetime.now(timezone.utc)
    delivery = RasaDelivery(
        conversation_id=conversation_id,
        kind=kind,
        status=DeliveryStatus.PENDING,
        payload=payload,
        message_id=message_id,
        ticket_id=ticket_id,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def _earlier_pending() -> Any:
    """An older pending delivery of the same conversation: it must go first."""
    earlier = aliased(RasaDelivery)
    return exists().where(
        earlier.conversation_id == RasaDelivery.conversation_id,
        earlier.status == DeliveryStatus.PENDING,
        earlier.id < RasaDelivery.id,
    )


class DeliveryStore(StoreBase):
    def get(self, delivery_id: int) -> DeliveryView:
        with self._session() as session:
            delivery = session.get(RasaDelivery, delivery_id)
            if delivery is None:
                raise NotFound(f"delivery {delivery_id} not found")
            return delivery_view(delivery)

    def of_message(self, message_id: int) -> DeliveryView:
        with self._session() as session:
            delivery = session.scalars(
                select(RasaDelivery).where(RasaDelivery.message_id == message_id)
            ).first()
            if delivery is None:
                raise NotFound(f"no delivery for message {message_id}")
            return delivery_view(delivery)

    def of_ticket(self, ticket_id: int) -> list[DeliveryView]:
        with self._session() as session:
            deliveries = session.scalars(
                select(RasaDelivery)
                .where(RasaDelivery.ticket_id == ticket_id)
                .order_by(RasaDelivery.id)
            ).all()
            return [delivery_view(delivery) for delivery in deliveries]

    def unsettled(self, conversation_id: str) -> list[DeliveryView]:
        """The conversation's deliveries that Rasa has not confirmed: pending or failed."""
        with self._session() as session:
            deliveries = session.scalars(
                select(RasaDelivery)
                .where(
                    RasaDelivery.conversation_id == conversation_id,
                    RasaDelivery.status != DeliveryStatus.DELIVERED,
                )
                .order_by(RasaDelivery.id)
            ).all()
            return [delivery_view(delivery) for delivery in deliveries]

    def due(self, limit: int) -> list[int]:
        """Deliveries a worker may try now: the oldest pending one of each conversation,
        whose retry time has come and which no live lease holds."""
        now = self._db_time(datetime.now(timezone.utc))
        with self._session() as session:
            return list(
                session.scalars(
                    select(RasaDelivery.id)
                    .where(
                        RasaDelivery.status == DeliveryStatus.PENDING,
                        RasaDelivery.next_attempt_at <= now,
                        or_(RasaDelivery.lease_until.is_(None), RasaDelivery.lease_until < now),
                        ~_earlier_pending(),
                    )
                    .order_by(RasaDelivery.next_attempt_at, RasaDelivery.id)
                    .limit(limit)
                ).all()
            )

    def claim(self, delivery_id: int, worker: str, lease_s: float) -> DeliveryView | None:
        """Lease a pending delivery for `lease_s` if it is its conversation's next and free;
        None when another worker holds it, an older one must go first, or it is settled."""
        now = datetime.now(timezone.utc)
        db_now = self._db_time(now)
        with self._session() as session:
            claimed = session.execute(
                update(RasaDelivery)
                .where(
                    RasaDelivery.id == delivery_id,
                    RasaDelivery.status == DeliveryStatus.PENDING,
                    or_(RasaDelivery.lease_until.is_(None), RasaDelivery.lease_until < db_now),
                    ~_earlier_pending(),
                )
                .values(lease_until=now + timedelta(seconds=lease_s), leased_by=worker)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                return None
            return delivery_view(session.get(RasaDelivery, delivery_id), with_secrets=True)

    def delivered(self, delivery_id: int, worker: str) -> DeliveryView | None:
        """Rasa confirmed it. A confirmed resume puts the conversation back with the bot
        (unless a new handoff opened since). None if the worker no longer held the lease."""
        now = datetime.now(timezone.utc)
        with self._session() as session:
            delivery = self._held(session, delivery_id, worker)
            if delivery is None:
                return None
            delivery.status = DeliveryStatus.DELIVERED
            delivery.attempts += 1
            delivery.finished_at = now
            delivery.lease_until = delivery.leased_by = None
            delivery.last_error = None
            delivery.payload = _without_secrets(delivery.payload)
            if delivery.kind == DeliveryKind.RESUME:
                _back_to_bot(session, delivery.conversation_id)
            session.flush()
            return delivery_view(delivery)

    def retry_later(
        self, delivery_id: int, worker: str, error: str, delay_s: float, give_up: bool
    ) -> list[DeliveryView]:
        """An attempt failed: try again after `delay_s`, or mark it failed when `give_up`.

        A failed resume makes the conversation's rating prompts behind it moot (failed too):
        the customer is never asked to rate help while the bot is still paused. Returns every
        delivery whose state changed (empty if the worker no longer held the lease).
        """
        now = datetime.now(timezone.utc)
        with self._session() as session:
            delivery = self._held(session, delivery_id, worker)
            if delivery is None:
                return []
            delivery.attempts += 1
            delivery.last_error = error[:MAX_ERROR_CHARS]
            delivery.lease_until = delivery.leased_by = None
            changed = [delivery]
            if give_up:
                changed += self._fail(session, delivery, now)
            else:
                delivery.next_attempt_at = now + timedelta(seconds=delay_s)
            session.flush()
            return [delivery_view(item) for item in changed]

    def _fail(self, session: Session, delivery: RasaDelivery, now: datetime) -> list[RasaDelivery]:
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = now
        delivery.payload = _without_secrets(delivery.payload)
        if delivery.kind != DeliveryKind.RESUME:
            return []
        moot = session.scalars(
            select(RasaDelivery).where(
                RasaDelivery.conversation_id == delivery.conversation_id,
                RasaDelivery.kind == DeliveryKind.RATING_PROMPT,
                RasaDelivery.status == DeliveryStatus.PENDING,
                RasaDelivery.id > delivery.id,
            )
        ).all()
        for prompt in moot:
            prompt.status = DeliveryStatus.FAILED
            prompt.finished_at = now
            prompt.last_error = "moot: the bot could not be resumed"
        return list(moot)

    @staticmethod
    def _held(session: Session, delivery_id: int, worker: str) -> RasaDelivery | None:
        delivery = session.get(RasaDelivery, delivery_id, with_for_update=True)
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or delivery.leased_by != worker
        ):
            return None
        return delivery

    def missed_messages(
        self, conversation_id: str, after_seq: float, limit: int
    ) -> list[MissedMessage]:
        """The bot's and agents' messages after `after_seq`, oldest first, at most the newest
        `limit`: what a widget that reconnects has not shown yet."""
        with self._session() as session:
            rows = session.execute(
                select(Message, StaffUser.username)
                .outerjoin(
                    StaffUser,
                    and_(
                        Message.sender == Sender.AGENT,
                        StaffUser.id == Message.data["staff_id"].as_integer(),
                    ),
                )
                .where(
                    Message.conversation_id == conversation_id,
                    Message.sender.in_((Sender.BOT, Sender.AGENT)),
                    Message.seq > after_seq,
                )
                .order_by(Message.seq.desc(), Message.id.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "id": message.id,
                    "sender": Sender(message.sender),
                    "text": message.text,
                    "data": message.data if message.sender == Sender.BOT else None,
                    "agent": username,
                    "seq": message.seq,
                }
                for message, username in reversed(rows)
            ]

    def purge(self, conversation_ids: Collection[str]) -> int:
        """Delete every delivery of these conversations (erasure and retention call it)."""
        deleted = 0
        with self._session() as session:
            for batch in batches(conversation_ids, 500):
                deleted += session.execute(
                    delete(RasaDelivery).where(RasaDelivery.conversation_id.in_(batch))
                ).rowcount
        return deleted


def _back_to_bot(session: Session, conversation_id: str) -> None:
    """The bot answers again: the conversation is the bot's, unless a person holds it anew."""
    live = session.scalar(
        select(Ticket.id).where(
            Ticket.conversation_id == conversation_id,
            Ticket.kind == TicketKind.HANDOFF,
            Ticket.status.in_((TicketStatus.OPEN, TicketStatus.CLAIMED)),
        )
    )
    if live is None:
        conversation = session.get(Conversation, conversation_id)
        conversation.status = ConversationStatus.BOT


def _without_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in (payload or {}).items() if key not in SECRET_FIELDS}


def delivery_view(delivery: RasaDelivery, with_secrets: bool = False) -> DeliveryView:
    """The delivery as callers see it; only the worker that sends it gets the agent's text."""
    payload = dict(delivery.payload or {}) if with_secrets else _without_secrets(delivery.payload)
    return {
        "id": delivery.id,
        "conversation_id": delivery.conversation_id,
        "kind": DeliveryKind(delivery.kind),
        "status": DeliveryStatus(delivery.status),
        "payload": payload,
        "message_id": delivery.message_id,
        "ticket_id": delivery.ticket_id,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "finished_at": iso(delivery.finished_at),
    }
