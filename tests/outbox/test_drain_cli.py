"""`crm drain` as a process: it refuses to start without RabbitMQ, and stops on SIGTERM.

Both processes are started together (a module fixture): each spends most of its start
importing, and they need not wait for each other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from tests.outbox.conftest import AMQP_URL, delete_queues

START_S = 120


@dataclass
class Drain:
    process: subprocess.Popen
    log: Path


def drain(folder: Path, **env: str) -> Drain:
    """`crm drain` with a store of its own in `folder`; its log goes to folder/drain.log."""
    folder.mkdir()
    log = folder / "drain.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "drain"],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "CRM_VAR_DIR": str(folder / "var"),
                "CRM_SECRET_KEY": "drain-secret",
                "CRM_DATABASE_URL": f"sqlite:///{folder / 'crm.sqlite3'}",
                **env,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Drain(process, log)


@dataclass
class Drains:
    without_rabbitmq: Drain
    consuming: Drain
    queue: str


@pytest.fixture(scope="module")
def drains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drains]:
    folder = tmp_path_factory.mktemp("drain-cli")
    queue = f"crm_test_{uuid.uuid4().hex[:12]}"
    started = Drains(
        drain(folder / "without", CRM_AMQP_URL=""),
        drain(folder / "consuming", CRM_AMQP_URL=AMQP_URL, CRM_AMQP_QUEUE=queue),
        queue,
    )
    try:
        yield started
    finally:
        for each in (started.without_rabbitmq, started.consuming):
            if each.process.poll() is None:
                each.process.kill()
                each.process.wait()
        asyncio.run(delete_queues(queue))


def test_drain_needs_rabbitmq(drains: Drains) -> None:
    refused = drains.without_rabbitmq
    assert refused.process.wait(timeout=START_S) == 2
    assert "CRM_AMQP_URL" in refused.log.read_text()


async def test_drain_consumes_then_stops_cleanly_on_sigterm(drains: Drains) -> None:
    process, log = drains.consuming.process, drains.consuming.log
    deadline = time.monotonic() + START_S
    while f"consuming {drains.queue}" not in log.read_text() and time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        await asyncio.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 30) == 0
    assert "0 messages applied" in log.read_text()
