"""Rasa event broker that writes every customer and bot message into the CRM store.

Rasa streams each new tracker event here once the turn is saved; `record_message` is
idempotent on the event key, so a redelivered event is stored only once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.crm.database import create_crm_engine
from bot.crm.events import message_from_event
from bot.crm.identity import customer_id_from_token
from bot.crm.repository import CRMRepository
from bot.settings import load_settings

logger = logging.getLogger(__name__)


class CRMEventBroker(EventBroker):
    """Stores Rasa's message events in the CRM store of `CRM_DATABASE_URL` (or `url`)."""

    def __init__(self, repository: CRMRepository, secret_key: str) -> None:
        self.repository = repository
        self.secret_key = secret_key

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: asyncio.AbstractEventLoop | None = None,
    ) -> CRMEventBroker:
        settings = load_settings()
        url = (broker_config.url if broker_config else None) or settings.database_url
        return cls(CRMRepository(create_crm_engine(url)), settings.secret_key)

    def _resolve_customer(self, token: object) -> int | None:
        customer_id = customer_id_from_token(self.secret_key, token)
        if customer_id is None or not self.repository.customer_exists(customer_id):
            return None
        return customer_id

    def publish(self, event: dict[str, Any]) -> None:
        record = message_from_event(event, self._resolve_customer)
        if record is not None:
            self.repository.record_message(record)

    def is_ready(self) -> bool:
        try:
            self.repository.ping()
        except Exception:
            logger.exception("CRM store is not reachable")
            return False
        return True

    async def close(self) -> None:
        self.repository.engine.dispose()
