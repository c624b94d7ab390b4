"""Rasa event broker that records every customer and bot message for the CRM store.

The tracker store's save hands a turn's new events to `publish_many` in a worker thread
(Rasa's own stores call `publish` for each event from the event loop). Only the message
events are appended to this server's local outbox (one short local SQLite transaction): the
CRM store being locked, down or slow never holds up a turn. The broker's relay thread
delivers the outbox in order, to the CRM store or, with `CRM_AMQP_URL`, to RabbitMQ for `crm
drain`; `record_message` is idempotent on the event key, so a redelivered event is stored
once. A message names its customer only through the server's claim that the channel put in
its metadata (checked when the entry is applied).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.outbox.amqp import AmqpSink
from bot.outbox.local import EntryKind, LocalOutbox, shared_outbox
from bot.outbox.relay import Relay, Sink, StoreSink
from bot.rasa_plugins.events import SENDER_BY_EVENT
from bot.settings import KeyPurpose, load_settings

logger = logging.getLogger(__name__)


class CRMEventBroker(EventBroker):
    """Appends Rasa's message events to an outbox whose relay it runs."""

    def __init__(self, outbox: LocalOutbox, sink: Sink) -> None:
        self.outbox = outbox
        self.relay = Relay(outbox, sink)
        self.relay.start()

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig | None,
        event_loop: asyncio.AbstractEventLoop | None = None,
    ) -> CRMEventBroker:
        """The outbox of this server (`var/outbox/rasa-<port>.sqlite3`), relayed to RabbitMQ
        when `CRM_AMQP_URL` is set, else to the CRM store of `CRM_DATABASE_URL` (or `url`)."""
        settings = load_settings()
        sink: Sink
        if settings.amqp_url:
            sink = AmqpSink(settings.amqp_url, settings.amqp_queue)
        else:
            url = (broker_config.url if broker_config else None) or settings.database_url
            store = CRMStore(create_crm_engine(url))
            sink = StoreSink(store, settings.key_for(KeyPurpose.CUSTOMER_CLAIM))
        return cls(shared_outbox(settings), sink)

    def publish(self, event: dict[str, Any]) -> None:
        """Keep the events that may be messages; the relay decides what each one is."""
        self.publish_many([event])

    def publish_many(self, events: Sequence[dict[str, Any]]) -> None:
        """A turn's events in one outbox transaction (the tracker store calls this, off the
        event loop, instead of `publish` for each event)."""
        writes = [
            (event["sender_id"], event)
            for event in events
            if event.get("event") in SENDER_BY_EVENT and isinstance(event.get("sender_id"), str)
        ]
        self.outbox.append_many(EntryKind.EVENT, writes)

    def is_ready(self) -> bool:
        return self.relay.is_alive()

    async def close(self) -> None:
        await asyncio.to_thread(self.relay.close)
