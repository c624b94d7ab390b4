"""A conversation as the actions need it, read from the tracker's events in one pass.

Rasa hands every action the whole event list; each action builds this view once and passes
it on, so the transcript, the intents and who is speaking are derived in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from rasa_sdk import Tracker

from bot.buttons import offered_titles, pressed_label
from bot.crm.enums import Sender
from bot.identity import CLAIM_FIELD
from nlp.summarize import Turn

NOT_ATTEMPTS = frozenset(
    {"action_listen", "action_session_start", "action_unlikely_intent", "action_handoff"}
)
"""Rasa's bookkeeping and the handover itself: none of them tries to answer the customer."""
IS_EXTERNAL = "is_external"
"""The metadata flag of a user event Rasa made for trigger_intent (rasa.shared.core.constants);
spelled here so the action server does not import Rasa itself."""


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
    since_handback: TrackerView | None = None
    """The same view of only what came after an agent last handed the conversation back to
    the bot (Rasa's `resume` event); None if that never happened."""

    @property
    def current(self) -> TrackerView:
        """What a new handoff is about: the part after the previous one was resolved."""
        return self.since_handback or self

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


def _bot_attempts(
    attempts: list[tuple[str | None, list[str | None]] | None],
) -> tuple[BotAttempt, ...]:
    """Answered customer messages only; None marks an internal trigger's turn."""
    return tuple(
        BotAttempt(attempt[0], tuple(attempt[1])) for attempt in attempts if attempt and attempt[1]
    )


def read_tracker(tracker: Tracker) -> TrackerView:
    """Walk tracker.events once.

    Internal triggers (trigger_intent's `EXTERNAL: ...`) are left out of the transcript, the
    intents and the bot's attempts: the customer never said them.
    """
    turns: list[Turn] = []
    intents: list[IntentScore] = []
    user_intents: list[str | None] = []
    attempts: list[tuple[str | None, list[str | None]] | None] = []
    claim: object = None
    offered: dict[str, str] = {}
    handback: tuple[int, int, int, int] | None = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            parse_data = event.get("parse_data") or {}
            intent = _intent(parse_data)
            metadata = event.get("metadata") or {}
            user_intents.append(intent.get("name"))
            claim = metadata.get(CLAIM_FIELD)
            if metadata.get(IS_EXTERNAL):
                attempts.append(None)
                continue
            attempts.append((intent.get("name"), []))
            if event.get("text"):
                text = pressed_label(event["text"], offered)
                turns.append(Turn(Sender.CUSTOMER, text, intent.get("name"), _entities(parse_data)))
                intents.append(IntentScore(intent.get("name"), intent.get("confidence")))
        elif kind == "bot":
            offered = offered_titles((event.get("data") or {}).get("buttons") or [])
            if event.get("text"):
                turns.append(Turn(Sender.BOT, event["text"]))
        elif kind == "action" and attempts and attempts[-1] is not None:
            if event.get("name") not in NOT_ATTEMPTS:
                attempts[-1][1].append(event.get("name"))
        elif kind == "resume":
            handback = (len(turns), len(intents), len(user_intents), len(attempts))
    latest = tracker.latest_message or {}
    whole = TrackerView(
        conversation_id=tracker.sender_id,
        turns=tuple(turns),
        intents=tuple(intents),
        user_intents=tuple(user_intents),
        bot_attempts=_bot_attempts(attempts),
        latest_claim=claim,
        slots=MappingProxyType(dict(tracker.slots)),
        latest_text=latest.get("text"),
        latest_intent=_intent(latest).get("name"),
        latest_entities=_entities(latest),
    )
    if handback is None:
        return whole
    turn, intent, user_intent, attempt = handback
    return replace(
        whole,
        since_handback=replace(
            whole,
            turns=whole.turns[turn:],
            intents=whole.intents[intent:],
            user_intents=whole.user_intents[user_intent:],
            bot_attempts=_bot_attempts(attempts[attempt:]),
        ),
    )
