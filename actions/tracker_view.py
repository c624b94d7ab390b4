"""A conversation as the actions need it, read from the tracker's events in one pass.

Rasa hands every action the whole event list; each action builds this view once and passes
it on, so the transcript, the intents and who is speaking are derived in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rasa_sdk import Tracker

from bot.crm.enums import Sender
from bot.identity import CLAIM_FIELD
from nlp.summarize import Turn

NOT_ATTEMPTS = frozenset(
    {"action_listen", "action_session_start", "action_unlikely_intent", "action_handoff"}
)
"""Rasa's bookkeeping and the handover itself: none of them tries to answer the customer."""


@dataclass(frozen=True)
class IntentScore:
    """The classifier's intent for one customer message, with its confidence."""

    intent: str | None
    confidence: float | None


@dataclass(frozen=True)
class BotAttempt:
    """The actions the bot ran in answer to one customer message."""

    intent: str | None
    actions: tuple[str | None, ...]


@dataclass(frozen=True)
class TrackerView:
    conversation_id: str
    turns: tuple[Turn, ...]
    """Customer and bot messages with text, in order; customer turns carry intent and entities."""
    intents: tuple[IntentScore, ...]
    """One per customer message with text."""
    user_intents: tuple[str | None, ...]
    """One per user event, text or not (a button payload, a session restart)."""
    bot_attempts: tuple[BotAttempt, ...]
    """Only the customer messages the bot answered with at least one action."""
    latest_claim: object
    """The server's customer claim on the newest user event, unchecked; None if it has none.

    Only the message being answered speaks for a customer: an earlier message's claim never
    carries over to a later one.
    """
    slots: Mapping[str, Any]
    latest_text: str | None
    latest_intent: str | None
    latest_entities: tuple[Mapping[str, Any], ...]

    @property
    def customer_texts(self) -> tuple[str, ...]:
        return tuple(turn.text for turn in self.turns if turn.speaker == Sender.CUSTOMER)

    def recent_customer_text(self, limit: int = 3) -> str:
        """The customer's last few messages, oldest first, for ticket descriptions."""
        return "\n".join(self.customer_texts[-limit:])


def _intent(parse_data: Mapping[str, Any]) -> Mapping[str, Any]:
    return parse_data.get("intent") or {}


def _entities(parse_data: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    return tuple(parse_data.get("entities") or ())


def read_tracker(tracker: Tracker) -> TrackerView:
    """Walk tracker.events once."""
    turns: list[Turn] = []
    intents: list[IntentScore] = []
    user_intents: list[str | None] = []
    attempts: list[tuple[str | None, list[str | None]]] = []
    claim: object = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            parse_data = event.get("parse_data") or {}
            intent = _intent(parse_data)
            user_intents.append(intent.get("name"))
            attempts.append((intent.get("name"), []))
            claim = (event.get("metadata") or {}).get(CLAIM_FIELD)
            if event.get("text"):
                turns.append(
                    Turn(Sender.CUSTOMER, event["text"], intent.get("name"), _entities(parse_data))
                )
                intents.append(IntentScore(intent.get("name"), intent.get("confidence")))
        elif kind == "bot" and event.get("text"):
            turns.append(Turn(Sender.BOT, event["text"]))
        elif kind == "action" and attempts and event.get("name") not in NOT_ATTEMPTS:
            attempts[-1][1].append(event.get("name"))
    latest = tracker.latest_message or {}
    return TrackerView(
        conversation_id=tracker.sender_id,
        turns=tuple(turns),
        intents=tuple(intents),
        user_intents=tuple(user_intents),
        bot_attempts=tuple(
            BotAttempt(intent, tuple(actions)) for intent, actions in attempts if actions
        ),
        latest_claim=claim,
        slots=MappingProxyType(dict(tracker.slots)),
        latest_text=latest.get("text"),
        latest_intent=_intent(latest).get("name"),
        latest_entities=_entities(latest),
    )
