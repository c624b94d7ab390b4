"""Applying an outbox entry to the CRM store, and telling passing failures from lasting ones.

Entries are applied in the order Rasa published them, so when a button press is applied the
store already holds the bot message that offered the button; reading it there (rather than
remembering it in memory) survives restarts and works with several Rasa servers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.buttons import offered_titles
from bot.crm.enums import Sender
from bot.crm.store import CRMStore, MessageRecord, NotFound
from bot.identity import claimed_customer
from bot.outbox.local import EntryKind
from bot.rasa_plugins.events import message_from_event

logger = logging.getLogger(__name__)


def offered_buttons(store: CRMStore, event: dict[str, Any]) -> dict[str, str]:
    """Payload -> title of the buttons of the conversation's newest bot message, when this
    event is a press (bot.buttons).

    The widget sends only the payload; only payload-looking texts (`/intent...`) pay for
    the lookup.
    """
    text = event.get("text")
    if event.get("event") != "user" or not isinstance(text, str) or not text.startswith("/"):
        return {}
    try:
        messages = store.conversations.get(event["sender_id"])["messages"]
    except (NotFound, KeyError):
        return {}
    for message in reversed(messages):
        if message["sender"] == Sender.BOT:
            return offered_titles((message["data"] or {}).get("buttons") or [])
    return {}


def record_to_json(record: MessageRecord) -> dict[str, Any]:
    """A message the channel wrote itself, as an outbox payload."""
    return {
        **{key: value for key, value in vars(record).items() if value not in (None, [])},
        "sender": record.sender.value,
        "created_at": record.created_at.isoformat(),
    }


def record_from_json(payload: dict[str, Any]) -> MessageRecord:
    """The message back from its payload, naming no customer: a message is linked to a
    customer only by a claim the applier checks (an event's), never by a field it carries."""
    return MessageRecord(
        **{
            **{key: value for key, value in payload.items() if key != "customer_id"},
            "sender": Sender(payload["sender"]),
            "created_at": datetime.fromisoformat(payload["created_at"]),
        }
    )


def apply_entry(store: CRMStore, claim_key: str, kind: EntryKind, payload: dict[str, Any]) -> bool:
    """Write one entry to the store; idempotent (the message's event key). True if new."""
    if kind is EntryKind.MESSAGE:
        return store.conversations.record_message(record_from_json(payload))
    if kind is EntryKind.BIND:
        return _bind(store, claim_key, payload)
    record = message_from_event(payload, claim_key, offered_buttons(store, payload))
    return record is not None and store.conversations.record_message(record)


def _bind(store: CRMStore, claim_key: str, payload: dict[str, Any]) -> bool:
    """Bind the conversation to the customer its signed claim names (never to a bare id in
    the payload). A conversation bound to someone else meanwhile stays theirs."""
    conversation_id = payload.get("conversation_id")
    if not isinstance(conversation_id, str):
        raise ValueError("a bind entry without a conversation")
    customer_id = claimed_customer(claim_key, conversation_id, payload.get("claim"))
    if customer_id is None:
        raise ValueError("a bind entry without a valid claim")
    bound = store.conversations.bind(conversation_id, customer_id)
    if bound != customer_id:
        logger.warning("%s was bound to another customer before its deferred bind", conversation_id)
    return bound == customer_id


def is_transient(error: BaseException) -> bool:
    """Whether retrying later may succeed: the store (or the broker) is locked, down or slow.

    Anything else (a payload the code cannot apply, a constraint it breaks) fails the same
    way every time, and is retried only a few times before the entry is set aside.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error, OperationalError | PoolTimeout | TimeoutError | asyncio.TimeoutError | OSError
    )
