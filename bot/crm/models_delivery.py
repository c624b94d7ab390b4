"""The console's calls into Rasa, recorded before they are made (bot/crm/store/deliveries.py).

An agent's reply, a hand-back to the bot and a rating prompt are rows here first, in the
same transaction as the change that owes them; a worker delivers them with retries, in
order per conversation, so a Rasa server that is down or restarting loses none of them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String

from bot.crm.enums import DeliveryStatus
from bot.crm.models import Base, utcnow


class RasaDelivery(Base):
    """One call owed to Rasa (`DeliveryKind`): pending until Rasa confirmed it or it failed."""

    __tablename__ = "rasa_deliveries"
    __table_args__ = (
        Index("ix_rasa_deliveries_status_due", "status", "next_attempt_at"),
        Index("ix_rasa_deliveries_conversation", "conversation_id", "id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), ForeignKey("conversations.id"), nullable=False)
    kind = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False, default=DeliveryStatus.PENDING)
    payload = Column(JSON, nullable=False)
    """What the call sends; an agent's unredacted text is dropped once delivered or failed."""
    message_id = Column(Integer, ForeignKey("messages.id"))
    ticket_id = Column(Integer, ForeignKey("tickets.id"))
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    lease_until = Column(DateTime(timezone=True))
    """While a worker holds it (set with a conditional UPDATE): two consoles never both send."""
    leased_by = Column(String(64))
    last_error = Column(String(500))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))
