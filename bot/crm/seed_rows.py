"""Rows of the demo's history, and its past chats and handoffs, built as plain dicts so they
go into the database in bulk."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.crm.enums import ConversationStatus, Sender, TicketKind, TicketStatus
from bot.crm.models import Contact, Conversation, Message, ProductHolding, Ticket, Transaction
from bot.crm.seed_archetypes import READINGS
from bot.crm.seed_cases import (
    AGENT_CLOSING,
    CATEGORIES,
    HANDOFF_NOTICE,
    RESOLVED_CASES,
    handoff_packet,
)
from nlp.sentiment import SentimentScore, score

BOT_REPLY = "Thanks for letting me know. Here is what I found in your account."


@dataclass
class Rows:
    """Rows per table, inserted in bulk at the end (foreign keys first)."""

    tables: dict[type, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    conversations: int = 0

    def add(self, model: type, **values: Any) -> None:
        self.tables[model].append(values)

    def insert(self, session: Session) -> None:
        for model in (ProductHolding, Contact, Transaction, Conversation, Message, Ticket):
            if self.tables[model]:
                session.execute(insert(model.__table__), self.tables[model])


def conversation(
    rows: Rows, customer_id: int, text: str, at: datetime, moods: dict[str, SentimentScore]
) -> str:
    """A past chat with the bot; its customer message carries the sentiment the jobs read."""
    rows.conversations += 1
    conversation_id = f"seed-h{rows.conversations:05d}"
    mood = moods.setdefault(text, score(text))
    rows.add(
        Conversation,
        id=conversation_id,
        customer_id=customer_id,
        channel="socketio",
        status=ConversationStatus.BOT,
        started_at=at,
        last_message_at=at + timedelta(minutes=1),
    )
    said = [(Sender.CUSTOMER, text, at), (Sender.BOT, BOT_REPLY, at + timedelta(minutes=1))]
    for turn, (sender, message, when) in enumerate(said):
        _message(rows, conversation_id, turn, sender, message, when, mood)
    intent, confidence = READINGS.get(text, (None, None))
    rows.tables[Message][-2].update(intent=intent, confidence=confidence)
    return conversation_id


def handoff(
    rows: Rows,
    rng: random.Random,
    customer_id: int,
    name: str,
    opened: datetime,
    csat: tuple[int, int],
    moods: dict[str, SentimentScore],
) -> None:
    """A resolved past handoff shaped like the first draws' ones, rated by the customer."""
    subject, text, resolution = rng.choice(RESOLVED_CASES)
    category = CATEGORIES[subject]
    resolved = opened + timedelta(minutes=rng.randint(31, 600))
    conversation_id = conversation(rows, customer_id, text, opened - timedelta(minutes=1), moods)
    rows.tables[Conversation][-1]["last_message_at"] = resolved
    messages = rows.tables[Message]
    messages[-1].update(text=HANDOFF_NOTICE)
    _message(
        rows,
        conversation_id,
        2,
        Sender.AGENT,
        AGENT_CLOSING.format(resolution=resolution),
        resolved,
        moods[text],
    )
    messages[-3].update(intent=category, confidence=0.9)
    rows.add(
        Ticket,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=TicketKind.HANDOFF,
        category=category,
        status=TicketStatus.RESOLVED,
        priority=rng.randint(1, 5),
        subject=subject,
        text=text,
        resolution=resolution,
        packet=handoff_packet(text, category, moods[text], customer_id, name),
        created_at=opened,
        claimed_at=opened + timedelta(minutes=rng.randint(1, 30)),
        resolved_at=resolved,
        csat=rng.randint(*csat),
        csat_at=resolved + timedelta(minutes=5),
    )


def _message(
    rows: Rows,
    conversation_id: str,
    turn: int,
    sender: Sender,
    text: str,
    at: datetime,
    mood: SentimentScore,
) -> None:
    rows.add(
        Message,
        conversation_id=conversation_id,
        event_key=f"{conversation_id}-{turn}",
        seq=at.timestamp(),
        sender=sender,
        text=text,
        data=None,
        intent=None,
        confidence=None,
        entities=[],
        sentiment=mood.compound if sender == Sender.CUSTOMER else None,
        channel="console" if sender == Sender.AGENT else "socketio",
        rasa_message_id=None,
        created_at=at,
    )
