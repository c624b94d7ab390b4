"""Rasa event broker that writes every customer and bot message into the CRM store.

Rasa streams each new tracker event here once the turn is saved; `record_message` is
idempotent on the event key, so a redelivered event is stored only once. A message names
its customer only through the server's claim that the channel put in its metadata.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.crm.database import create_crm_engine
from bot.crm.enums import Sender
from bot.crm.store import CRMStore, NotFound
from bot.rasa_plugins.events import message_from_event
from bot.settings import KeyPurpose, load_settings

logger = logging.getLogger(__name__)


class CRMEventBroker(EventBroker):
    """Stores Rasa's message events in the CRM store of `CRM_DATABASE_URL` (or `url`)."""

    def __init__(self, store: CRMStore, claim_key: str) -> None:
        self.store = store
        self.claim_key = claim_key

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: asyncio.AbstractEventLoop | None = None,
    ) -> CRMEventBroker:
        settings = load_settings()
        url = (broker_config.url if broker_config else None) or settings.database_url
        return cls(CRMStore(create_crm_engine(url)), settings.key_for(KeyPurpose.CUSTOMER_CLAIM))

    def offered_buttons(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The buttons of the conversation's latest bot message, when this event is a press.

        The widget sends only the payload. Rasa publishes a turn's events in order and each is
        stored before the next arrives, so the store holds the message that offered the
        buttons; reading it (rather than remembering it here) survives a broker restart.
        Only payload-looking texts (`/intent...`) pay for the lookup.
        """
        text = event.get("text")
        if event.get("event") != "user" or not isinstance(text, str) or not text.startswith("/"):
            return []
        try:
            messages = self.store.conversations.get(event["sender_id"])["messages"]
        except (NotFound, KeyError):
            return []
        for message in reversed(messages):
            if message["sender"] == Sender.BOT:
                return list((message["data"] or {}).get("buttons") or [])
        return []

    def publish(self, event: dict[str, Any]) -> None:
        record = message_from_event(event, self.claim_key, self.offered_buttons(event))
        if record is not None:
            self.store.conversations.record_message(record)

    def is_ready(self) -> bool:
        try:
            self.store.ping()
        except Exception:
            logger.exception("CRM store is not reachable")
            return False
        return True

    async def close(self) -> None:
        self.store.dispose()
