"""/healthz reports the outboxes: how many writes wait for the CRM store, and since when."""

from __future__ import annotations

import time
from dataclasses import replace

import aio_pika
import pytest

from bot.console.app import init_app
from bot.console.routes.health import OUTBOX_MAX_AGE_S
from bot.crm.store import CRMStore
from bot.outbox.local import EntryKind, LocalOutbox, outbox_path
from bot.settings import Settings


def outbox_of(settings: Settings, port: int | None = None) -> LocalOutbox:
    return LocalOutbox(outbox_path(replace(settings, rasa_port=port or settings.rasa_port)))


async def health(client) -> dict:
    reply = await client.get("/healthz")
    return await reply.json()


async def test_no_backlog_is_ok(client) -> None:
    payload = await health(client)
    assert payload["components"]["outbox"] == "ok"
    assert payload["outbox"] == {"backlog": 0, "oldest_age_s": None, "dead": 0}


async def test_a_fresh_backlog_is_ok_and_counted_across_servers(client, settings) -> None:
    for port in (5001, 5002):
        outbox = outbox_of(settings, port)
        outbox.append(EntryKind.EVENT, "conv", {"event": "user"})
        outbox.close()
    payload = await health(client)
    assert payload["components"]["outbox"] == "ok"
    assert payload["outbox"]["backlog"] == 2
    assert payload["outbox"]["oldest_age_s"] < OUTBOX_MAX_AGE_S


async def test_an_old_backlog_degrades_health(client, settings) -> None:
    outbox = outbox_of(settings)
    outbox.append(EntryKind.EVENT, "conv", {"event": "user"})
    outbox.append(EntryKind.EVENT, "conv", {"event": "bot"})
    with outbox._transaction() as connection:
        connection.execute("UPDATE entries SET created_at = ?", (time.time() - 95,))
    outbox.close()
    reply = await client.get("/healthz")
    assert reply.status == 503
    payload = await reply.json()
    assert payload["components"]["outbox"] == "error: 2 waiting, oldest 95 s"
    assert payload["outbox"]["backlog"] == 2


async def test_a_dead_entry_degrades_health(client, settings) -> None:
    outbox = outbox_of(settings)
    outbox.append(EntryKind.EVENT, "conv", {"event": "user"})
    outbox.bury(outbox.head()[0], "ValueError()")
    outbox.close()
    payload = await health(client)
    assert payload["components"]["outbox"] == "error: 1 dead"
    assert payload["outbox"] == {"backlog": 0, "oldest_age_s": None, "dead": 1}


@pytest.fixture
def amqp_settings(settings: Settings) -> Settings:
    return replace(settings, amqp_url="amqp://guest:guest@127.0.0.1:1/", amqp_queue="q")


async def test_the_rabbitmq_depth_is_reported_when_configured(
    aiohttp_client, amqp_settings: Settings, console_store: CRMStore
) -> None:
    client = await aiohttp_client(await init_app(amqp_settings, console_store))
    payload = await health(client)
    assert payload["outbox"]["queue"] is None, "RabbitMQ does not answer on port 1"
    assert payload["components"]["outbox"] == "error: RabbitMQ does not answer"


async def test_a_reachable_rabbitmq_queue_is_healthy(
    aiohttp_client, settings: Settings, console_store: CRMStore
) -> None:
    queue = f"health-{time.time_ns()}"
    url = "amqp://guest:guest@127.0.0.1:5672/"
    connection = await aio_pika.connect(url, timeout=5)
    try:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        configured = replace(settings, amqp_url=url, amqp_queue=queue)
        client = await aiohttp_client(await init_app(configured, console_store))
        payload = await health(client)
        assert payload["outbox"]["queue"] == 0
        assert payload["components"]["outbox"] == "ok"
    finally:
        await channel.queue_delete(queue)
        await connection.close()
