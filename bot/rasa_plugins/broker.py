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
from bot.crm.store import CRMStore
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

    def publish(self, event: dict[str, Any]) -> None:
        record = message_from_event(event, self.claim_key)
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
