"""Rasa events as the tracker store hands them to the broker, for the outbox tests."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered

SENT_AT = 1763800000.0


def published(conversation_id: str, event: Event) -> dict[str, Any]:
    """The body Rasa's tracker store hands to `publish` for one new event."""
    return {"sender_id": conversation_id, **event.as_dict()}


def customer_says(conversation_id: str, text: str, at: float = SENT_AT) -> dict[str, Any]:
    event = UserUttered(
        text,
        intent={"name": "greet", "confidence": 0.91},
        input_channel="rest",
        message_id=f"{conversation_id}-{at}",
        timestamp=at,
    )
    return published(conversation_id, event)


def bot_says(conversation_id: str, text: str, at: float = SENT_AT + 0.5) -> dict[str, Any]:
    return published(conversation_id, BotUttered(text, timestamp=at))


def turns(conversation_id: str, count: int) -> list[dict[str, Any]]:
    """`count` exchanges (customer, then bot), one second apart."""
    events = []
    for index in range(count):
        at = SENT_AT + index
        events.append(customer_says(conversation_id, f"question {index}", at))
        events.append(bot_says(conversation_id, f"answer {index}", at + 0.5))
    return events


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [event["text"] for event in events]
