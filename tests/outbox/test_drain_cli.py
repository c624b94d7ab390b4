"""`crm drain` as a process: it refuses to start without RabbitMQ, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import PROJECT_ROOT
from tests.outbox.conftest import AMQP_URL

START_S = 120


def drain(tmp_path: Path, **env: str) -> subprocess.Popen:
    """`crm drain` with a store of its own; its log goes to tmp_path/drain.log."""
    with (tmp_path / "drain.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "drain"],
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "CRM_VAR_DIR": str(tmp_path / "var"),
                "CRM_SECRET_KEY": "drain-secret",
                "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def test_drain_needs_rabbitmq(tmp_path: Path) -> None:
    process = drain(tmp_path, CRM_AMQP_URL="")
    assert process.wait(timeout=START_S) == 2
    assert "CRM_AMQP_URL" in (tmp_path / "drain.log").read_text()


async def test_drain_consumes_then_stops_cleanly_on_sigterm(tmp_path: Path, queue: str) -> None:
    process = drain(tmp_path, CRM_AMQP_URL=AMQP_URL, CRM_AMQP_QUEUE=queue)
    log = tmp_path / "drain.log"
    try:
        deadline = time.monotonic() + START_S
        while f"consuming {queue}" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
        assert "0 messages applied" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
