"""A relay over a real outbox file and a real CRM store, and a PostgreSQL database of its own
that a test may close to connections."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.crm.database import create_crm_engine, migrate
from bot.crm.store import CRMStore
from bot.outbox.amqp import dead_queue
from bot.outbox.local import LocalOutbox
from bot.outbox.relay import Relay, StoreSink
from tests.conftest import POSTGRES_ENV

CLAIM_KEY = "outbox-claim-key"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


async def delete_queues(name: str) -> None:
    """Delete a RabbitMQ queue and its dead letters."""
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    for queue_name in (name, dead_queue(name)):
        await channel.queue_delete(queue_name)
    await connection.close()


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    """A RabbitMQ queue name of the test's own, deleted (with its dead letters) afterwards."""
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    yield name
    await delete_queues(name)


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[LocalOutbox]:
    box = LocalOutbox(tmp_path / "outbox" / "rasa-1.sqlite3")
    yield box
    box.close()


def wait_for_retries(relay: Relay, failures: int = 3, timeout: float = 20) -> None:
    """Until the relay has failed `failures` deliveries in a row (it is backing off, holding
    the head of the line): what an outage test waits for instead of a fixed sleep."""
    deadline = time.monotonic() + timeout
    while relay._failures < failures:
        assert relay.is_alive(), "the relay stopped"
        assert time.monotonic() < deadline, f"the relay failed {relay._failures} times"
        time.sleep(0.02)


def start_relay(outbox: LocalOutbox, database_url: str) -> Relay:
    """A relay with a store of its own, as the broker builds it."""
    relay = Relay(outbox, StoreSink(CRMStore(create_crm_engine(database_url)), CLAIM_KEY))
    relay.start()
    return relay


@contextmanager
def own_database() -> Iterator[str]:
    """A migrated PostgreSQL database of its own (dropped afterwards), for outages."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set; the PostgreSQL variant runs in CI")
    name = f"outbox_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def own_postgres() -> Iterator[str]:
    with own_database() as url:
        yield url


def refuse_connections(base_url: str, database: str, refuse: bool) -> None:
    """Close a database to new connections and end the open ones (a database going down),
    or open it again."""
    admin = create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        )
        if refuse:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                {"d": database},
            )
    admin.dispose()
