"""Customer ratings, each stored once: one per resolved handoff, one per bot-only feedback answer.

Nothing here overwrites a rating: a handoff keeps the first score it was given, and a
bot-only rating is keyed by the Rasa message that gave it, so a retried action stores nothing new.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TypedDict

from sqlalchemy import select, update

from bot.crm.enums import TicketKind, TicketStatus
from bot.crm.models import BotFeedback, Ticket
from bot.crm.store.base import StoreBase, iso
from bot.crm.store.conversations import ensure_conversation

SCALE = range(1, 6)
"""Ratings go from 1 (poor) to 5 (excellent)."""


class BotRating(TypedDict):
    id: int
    conversation_id: str
    customer_id: int | None
    score: int
    created_at: str | None


def _check(score: int) -> None:
    if score not in SCALE:
        raise ValueError(f"a rating is between {SCALE.start} and {SCALE.stop - 1}, not {score}")


class FeedbackStore(StoreBase):
    def rate_handoff(self, conversation_id: str, score: int) -> int | None:
        """Rate the conversation's latest resolved handoff, if it has no rating yet.

        Returns the handoff's id when this call stored the rating; None when there is no
        resolved handoff or the latest one is already rated (an older one is never rated late).
        """
        _check(score)
        with self._session() as session:
            latest = session.scalar(
                select(Ticket.id)
                .where(
                    Ticket.conversation_id == conversation_id,
                    Ticket.kind == TicketKind.HANDOFF,
                    Ticket.status == TicketStatus.RESOLVED,
                )
                .order_by(Ticket.resolved_at.desc(), Ticket.id.desc())
                .limit(1)
            )
            if latest is None:
                return None
            rated = session.execute(
                update(Ticket)
                .where(Ticket.id == latest, Ticket.csat.is_(None))
                .values(csat=score, csat_at=datetime.now(timezone.utc))
                .execution_options(synchronize_session=False)
            ).rowcount
            return latest if rated else None

    def rate_bot(
        self, *, conversation_id: str, customer_id: int | None, score: int, rasa_message_id: str
    ) -> bool:
        """Store a rating of the bot itself; False when this message's rating is already stored."""
        _check(score)
        now = datetime.now(timezone.utc)
        with self._session() as session:
            ensure_conversation(session, conversation_id, customer_id, now)
            inserted = session.execute(
                self._insert(BotFeedback)
                .values(
                    conversation_id=conversation_id,
                    customer_id=customer_id,
                    score=score,
                    rasa_message_id=rasa_message_id,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["rasa_message_id"])
            ).rowcount
            return inserted == 1

    def bot_ratings(self, conversation_id: str) -> list[BotRating]:
        """The conversation's ratings of the bot, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(BotFeedback)
                .where(BotFeedback.conversation_id == conversation_id)
                .order_by(BotFeedback.id)
            ).all()
            return [
                {
                    "id": row.id,
                    "conversation_id": row.conversation_id,
                    "customer_id": row.customer_id,
                    "score": row.score,
                    "created_at": iso(row.created_at),
                }
                for row in rows
            ]
