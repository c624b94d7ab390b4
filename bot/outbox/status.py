"""How far behind the CRM store is: the outboxes' backlog, its age, and what was set aside."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import aio_pika

from bot.outbox.local import outbox_files
from bot.settings import Settings


def _read(path: Path) -> tuple[int, float | None, int]:
    """(waiting, oldest created_at, dead) of one outbox file, read-only."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    try:
        query = "SELECT count(*), min(created_at) FROM entries"
        waiting, oldest = connection.execute(query).fetchone()
        (dead,) = connection.execute("SELECT count(*) FROM dead").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
        return 0, None, 0  # a file its server is creating this very moment: nothing yet
    finally:
        connection.close()
    return int(waiting), oldest, int(dead)


QUEUE_CONNECT_TIMEOUT_S = 2
"""How long /healthz waits for RabbitMQ before calling the queue unanswered."""


async def queue_depth(url: str, queue: str) -> int | None:
    """How many messages wait in the queue, or None when RabbitMQ does not answer."""
    try:
        connection = await aio_pika.connect(url, timeout=QUEUE_CONNECT_TIMEOUT_S)
    except Exception:
        return None
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count
    except Exception:
        return None
    finally:
        await connection.close()


def outbox_status(settings: Settings) -> dict[str, Any]:
    """`backlog` (entries waiting in every outbox), `oldest_age_s` (None when none wait),
    `dead` (entries set aside), and `queue` (RabbitMQ's depth; None when it does not answer)
    when RabbitMQ is configured. Blocking: call it from a thread."""
    backlog = dead = 0
    oldest: float | None = None
    for path in outbox_files(settings.outbox_dir):
        waiting, first, buried = _read(path)
        backlog += waiting
        dead += buried
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    status: dict[str, Any] = {
        "backlog": backlog,
        "oldest_age_s": None if oldest is None else round(max(0.0, time.time() - oldest), 1),
        "dead": dead,
    }
    if settings.amqp_url:
        status["queue"] = asyncio.run(queue_depth(settings.amqp_url, settings.amqp_queue))
    return status
