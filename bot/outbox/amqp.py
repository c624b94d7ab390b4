"""RabbitMQ between the Rasa servers' outboxes and the CRM store, for more than one machine.

Each relay publishes its entries, in order, as persistent messages to one durable queue and
deletes an entry only once RabbitMQ has confirmed it; while RabbitMQ is down entries wait in
the local outbox. `crm drain` consumes the queue and acknowledges a message only after the
store committed it. A passing failure is retried in place rather than requeued: a requeued
message would be overtaken by the ones already prefetched behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from bot.outbox.apply import apply_entry, is_transient
from bot.outbox.local import Entry, EntryKind
from bot.outbox.relay import DEAD_AFTER_ATTEMPTS, backoff
from bot.settings import KeyPurpose, Settings

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
PUBLISH_TIMEOUT_S = 10.0
LIVENESS_S = 5.0
"""How often an idle `crm drain` checks that its channel is still open."""
PREFETCH = 32
"""How many unacknowledged messages `crm drain` holds at once: bounded, so a slow store
leaves the backlog in RabbitMQ (durable, visible in its depth) rather than in memory."""


def dead_queue(queue: str) -> str:
    """Where `crm drain` sets aside messages it cannot apply (kept, not lost)."""
    return f"{queue}.dead"


class BrokerUnavailable(ConnectionError):
    """RabbitMQ did not take or confirm a message: the entry waits and is sent again."""


class AmqpSink:
    """Publishes outbox entries with publisher confirms, from the relay's thread.

    aio-pika is asynchronous; the relay is a thread, so the sink runs its own event loop
    there. Any failure drops the connection, and the next attempt connects afresh.
    """

    def __init__(self, url: str, queue: str) -> None:
        self.url = url
        self.queue = queue
        self._loop = asyncio.new_event_loop()
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None

    async def _open(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            await self._close()
            self._connection = await aio_pika.connect(self.url, timeout=CONNECT_TIMEOUT_S)
            self._channel = await self._connection.channel(publisher_confirms=True)
            await self._channel.declare_queue(self.queue, durable=True)
        return self._channel

    async def _publish(self, entry: Entry) -> None:
        channel = await self._open()
        message = aio_pika.Message(
            json.dumps(entry.as_json()).encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await channel.default_exchange.publish(
            message, routing_key=self.queue, timeout=PUBLISH_TIMEOUT_S
        )

    async def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and not connection.is_closed:
            try:
                await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_S)
            except Exception:
                logger.debug("closing the RabbitMQ connection failed", exc_info=True)

    def deliver(self, entry: Entry) -> None:
        try:
            self._loop.run_until_complete(
                asyncio.wait_for(self._publish(entry), CONNECT_TIMEOUT_S + PUBLISH_TIMEOUT_S)
            )
        except Exception as error:
            self._loop.run_until_complete(self._close())
            raise BrokerUnavailable(f"RabbitMQ did not confirm: {error!r}") from error

    def close(self) -> None:
        self._loop.run_until_complete(self._close())
        self._loop.close()


class Drainer:
    """`crm drain`: applies the queue's messages to the CRM store, one at a time, in order."""

    def __init__(self, settings: Settings, store: CRMStore | None = None) -> None:
        if not settings.amqp_url:
            raise ValueError("crm drain needs CRM_AMQP_URL")
        self.url = settings.amqp_url
        self.queue = settings.amqp_queue
        self.claim_key = settings.key_for(KeyPurpose.CUSTOMER_CLAIM)
        self.store = store or CRMStore(create_crm_engine(settings.database_url))
        self.stopping = asyncio.Event()
        self.applied = 0

    async def run(self) -> None:
        """Consume until `stopping` is set; reconnect with backoff whenever RabbitMQ drops."""
        failures = 0
        while not self.stopping.is_set():
            try:
                await self._consume()
                failures = 0
            except Exception as error:
                failures += 1
                logger.warning("crm drain: RabbitMQ unavailable (%r); retrying", error)
                await self._sleep(backoff(failures))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _consume(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=CONNECT_TIMEOUT_S)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=PREFETCH)
            queue = await channel.declare_queue(self.queue, durable=True)
            await channel.declare_queue(dead_queue(self.queue), durable=True)
            logger.info("crm drain: consuming %s", self.queue)
            async with queue.iterator() as messages:
                await self._each_until_stopped(channel, messages)
        finally:
            if not connection.is_closed:
                await connection.close()

    async def _each_until_stopped(
        self, channel: AbstractChannel, messages: AsyncIterator[AbstractIncomingMessage]
    ) -> None:
        """Handle messages as they come until asked to stop; raise when the channel closes.

        One wait for the next message spans the whole idle time: cancelling aio-pika's
        `QueueIterator.__anext__` (as a timeout would) closes the iterator and its consumer.
        That wait never ends when RabbitMQ drops the connection, so the channel is looked at
        every `LIVENESS_S` and a closed one raises, for `run` to reconnect.
        """
        stop = asyncio.ensure_future(self.stopping.wait())
        incoming: asyncio.Future[AbstractIncomingMessage] | None = None
        try:
            while True:
                if incoming is None:
                    incoming = asyncio.ensure_future(anext(messages))
                await asyncio.wait(
                    {incoming, stop}, timeout=LIVENESS_S, return_when=asyncio.FIRST_COMPLETED
                )
                if incoming.done():
                    message, incoming = incoming.result(), None
                    await self._handle(channel, message)
                elif stop.done():
                    return
                elif channel.is_closed:
                    raise BrokerUnavailable("RabbitMQ closed the drain's channel")
        finally:
            stop.cancel()
            if incoming is not None:
                incoming.cancel()

    async def _handle(self, channel: AbstractChannel, message: AbstractIncomingMessage) -> None:
        """Apply one message and acknowledge it after the commit; set it aside when it cannot
        be applied at all (after a few tries). Passing failures hold the line."""
        failures = bad = 0
        while True:
            try:
                body: dict[str, Any] = json.loads(message.body)
                await asyncio.to_thread(
                    apply_entry,
                    self.store,
                    self.claim_key,
                    EntryKind(body["kind"]),
                    body["payload"],
                )
            except Exception as error:
                failures += 1
                if is_transient(error):
                    logger.warning("crm drain: the CRM store failed (%r); retrying", error)
                    if self.stopping.is_set():
                        await message.nack(requeue=True)
                        return
                    await self._sleep(backoff(failures))
                    continue
                bad += 1
                if bad < DEAD_AFTER_ATTEMPTS:
                    continue
                logger.error("crm drain: message cannot be applied (%r); kept in dead", error)
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        message.body,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        headers={"error": repr(error)[:1000]},
                    ),
                    routing_key=dead_queue(self.queue),
                )
            else:
                self.applied += 1
            await message.ack()
            return

    def close(self) -> None:
        self.store.dispose()
