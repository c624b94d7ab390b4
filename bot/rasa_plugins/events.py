"""Turns Rasa's event stream into CRM message records, with personal data redacted.

The customer channels redact before Rasa sees a message; redacting again here covers
events that reach the tracker another way (another channel, Rasa's HTTP API). A message
is linked to a customer only by the server's claim in its own metadata (bot.identity).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from rasa.shared.core.constants import IS_EXTERNAL

from bot.buttons import pressed_label
from bot.crm.enums import Sender
from bot.crm.store import MessageRecord
from bot.identity import CLAIM_FIELD, claimed_customer
from nlp.pii import redact_text
from nlp.sentiment import score

SENDER_BY_EVENT = {"user": Sender.CUSTOMER, "bot": Sender.BOT}
ENTITY_FIELDS = ("entity", "value", "start", "end", "extractor", "role", "group")


def event_key(event: dict[str, Any]) -> str:
    """A stable id for a delivered event: redelivery of the same event yields the same key."""
    identity = [
        event.get("sender_id"),
        event.get("event"),
        repr(event.get("timestamp")),
        event.get("message_id"),
        event.get("text"),
    ]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()


def is_internal_trigger(event: Mapping[str, Any]) -> bool:
    """A user event Rasa made itself (trigger_intent's `EXTERNAL: <intent>`): nobody typed it."""
    return event.get("event") == "user" and bool((event.get("metadata") or {}).get(IS_EXTERNAL))


def _sentiment(parse_data: dict[str, Any], text: str | None) -> float | None:
    """The score the NLU pipeline gave (nlp.rasa_sentiment); computed only when it is missing."""
    given = (parse_data.get("sentiment") or {}).get("compound")
    if isinstance(given, int | float):
        return float(given)
    return score(text).compound if text else None


def message_from_event(
    event: dict[str, Any], claim_key: str, offered: Mapping[str, str] | None = None
) -> MessageRecord | None:
    """The message a Rasa event carries, or None for events that are not messages.

    `claim_key` is `settings.key_for(KeyPurpose.CUSTOMER_CLAIM)`; `offered` maps the payloads
    of the buttons the bot offered before it to their titles (bot.buttons), so that a pressed
    button is stored with its label. Internal
    triggers are not messages: the customer never wrote them.
    """
    if is_internal_trigger(event):
        return None
    sender = SENDER_BY_EVENT.get(event.get("event"))
    sender_id = event.get("sender_id")
    timestamp = event.get("timestamp")
    if sender is None or not isinstance(sender_id, str) or not isinstance(timestamp, int | float):
        return None
    metadata = event.get("metadata") or {}
    common = {
        "conversation_id": sender_id,
        "event_key": event_key(event),
        "seq": float(timestamp),
        "sender": sender,
        "text": redact_text(event["text"]) if isinstance(event.get("text"), str) else None,
        "created_at": datetime.fromtimestamp(timestamp, tz=timezone.utc),
    }
    if sender is Sender.BOT:
        data = {key: value for key, value in (event.get("data") or {}).items() if value}
        return MessageRecord(**common, data=data or None)
    parse_data = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    if common["text"] is not None:
        common["text"] = pressed_label(common["text"], offered or {})
    return MessageRecord(
        **common,
        sentiment=_sentiment(parse_data, common["text"]),
        channel=event.get("input_channel"),
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[
            {field: entity[field] for field in ENTITY_FIELDS if field in entity}
            for entity in parse_data.get("entities") or []
        ],
        rasa_message_id=event.get("message_id"),
        customer_id=claimed_customer(claim_key, sender_id, metadata.get(CLAIM_FIELD)),
    )
