"""RabbitMQ between the outboxes and the store: confirms, outages, `crm drain`, dead letters."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aio_pika

from bot.crm.store import CRMStore
from bot.outbox.amqp import LIVENESS_S, AmqpSink, Drainer, dead_queue
from bot.outbox.local import EntryKind, LocalOutbox
from bot.outbox.relay import Relay
from bot.outbox.status import queue_depth
from bot.settings import Settings, load_settings
from tests.outbox.conftest import AMQP_URL, wait_for_retries
from tests.outbox.events import texts, turns

NOBODY_LISTENS = "amqp://guest:guest@127.0.0.1:1/"


def settings_for(tmp_path: Path, database_url: str, queue: str) -> Settings:
    return load_settings(
        {
            "CRM_VAR_DIR": str(tmp_path / "var"),
            "CRM_SECRET_KEY": "amqp-test-secret",
            "CRM_DATABASE_URL": database_url,
            "CRM_AMQP_URL": AMQP_URL,
            "CRM_AMQP_QUEUE": queue,
        }
    )


async def drain_until(drainer: Drainer, applied: int, timeout: float = 20) -> None:
    task = asyncio.create_task(drainer.run())
    deadline = time.monotonic() + timeout
    while drainer.applied < applied and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    drainer.stopping.set()
    await asyncio.wait_for(task, 10)


def stored(store: CRMStore, conversation_id: str) -> list[str]:
    return [message["text"] for message in store.conversations.get(conversation_id)["messages"]]


async def test_entries_go_through_rabbitmq_into_the_store_in_order_once(
    outbox: LocalOutbox, store: CRMStore, database_url: str, queue: str, tmp_path: Path
) -> None:
    events = turns("via-queue", 4)
    for event in events + events[:2]:  # a relay that published twice changes nothing
        outbox.append(EntryKind.EVENT, event["sender_id"], event)
    relay = Relay(outbox, AmqpSink(AMQP_URL, queue))
    relay.start()
    assert await asyncio.to_thread(relay.wait_idle, 10)
    await asyncio.to_thread(relay.close)
    assert await queue_depth(AMQP_URL, queue) == len(events) + 2

    drainer = Drainer(settings_for(tmp_path, database_url, queue), store)
    await drain_until(drainer, len(events) + 2)
    assert stored(store, "via-queue") == texts(events)
    assert await queue_depth(AMQP_URL, queue) == 0


async def test_entries_wait_locally_while_rabbitmq_is_unreachable(
    outbox: LocalOutbox, queue: str
) -> None:
    sink = AmqpSink(NOBODY_LISTENS, queue)
    relay = Relay(outbox, sink)
    relay.start()
    events = turns("waiting", 2)
    for event in events:
        outbox.append(EntryKind.EVENT, event["sender_id"], event)
    await asyncio.to_thread(wait_for_retries, relay)
    assert len(outbox.head()) == len(events)
    sink.url = AMQP_URL  # RabbitMQ is back
    assert await asyncio.to_thread(relay.wait_idle, 20)
    await asyncio.to_thread(relay.close)
    assert await queue_depth(AMQP_URL, queue) == len(events)


async def test_drain_sets_aside_what_it_cannot_apply_and_goes_on(
    store: CRMStore, database_url: str, queue: str, tmp_path: Path
) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    await channel.declare_queue(queue, durable=True)
    good = turns("after-bad", 1)
    bodies = [{"kind": "nonsense", "payload": {}, "conversation_id": "bad"}] + [
        {"kind": EntryKind.EVENT.value, "payload": event, "conversation_id": "after-bad"}
        for event in good
    ]
    for body in bodies:
        await channel.default_exchange.publish(
            aio_pika.Message(json.dumps(body).encode()), routing_key=queue
        )
    await connection.close()

    drainer = Drainer(settings_for(tmp_path, database_url, queue), store)
    await drain_until(drainer, len(good))
    assert stored(store, "after-bad") == texts(good)
    assert await queue_depth(AMQP_URL, queue) == 0
    assert await queue_depth(AMQP_URL, dead_queue(queue)) == 1


async def test_queue_depth_is_none_when_rabbitmq_does_not_answer(queue: str) -> None:
    assert await queue_depth(NOBODY_LISTENS, queue) is None


async def test_drain_reconnects_when_its_connection_drops(
    store: CRMStore, database_url: str, queue: str, tmp_path: Path, monkeypatch
) -> None:
    """A dropped connection leaves aio-pika's queue iterator waiting forever; the drainer
    must notice the closed channel, reconnect and go on applying."""
    opened: list[aio_pika.abc.AbstractConnection] = []
    connect = aio_pika.connect

    async def recording_connect(*args, **kwargs):
        connection = await connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(aio_pika, "connect", recording_connect)
    drainer = Drainer(settings_for(tmp_path, database_url, queue), store)
    task = asyncio.create_task(drainer.run())
    try:
        deadline = time.monotonic() + 10
        while not opened and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert opened, "the drainer did not connect"
        await asyncio.sleep(0.5)  # consuming
        await opened[0].close()

        events = turns("after-drop", 1)
        publisher = await connect(AMQP_URL)
        channel = await publisher.channel()
        for event in events:
            body = {"kind": EntryKind.EVENT.value, "payload": event, "conversation_id": "x"}
            await channel.default_exchange.publish(
                aio_pika.Message(json.dumps(body).encode()), routing_key=queue
            )
        await publisher.close()

        deadline = time.monotonic() + LIVENESS_S + 15
        while drainer.applied < len(events) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert drainer.applied == len(events), "the drainer did not come back after the drop"
        assert len(opened) >= 2
    finally:
        drainer.stopping.set()
        await asyncio.wait_for(task, 10)
    assert stored(store, "after-drop") == texts(events)
