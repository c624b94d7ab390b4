"""The Redis lock store against a real Redis: two servers (two stores, each with its own
connection and event loop) never hold one conversation at once, turns go first come first
served, and an abandoned ticket frees the conversation after its lifetime."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bot.endpoints import render_endpoints
from bot.rasa_plugins.lock_store import AtomicRedisLockStore
from bot.settings import load_settings

REDIS_DB = 12
TURNS_PER_SERVER = 25


@pytest.fixture
def two_servers() -> Iterator[tuple[AtomicRedisLockStore, AtomicRedisLockStore]]:
    config = {"type": "bot.rasa_plugins.lock_store.AtomicRedisLockStore", "db": REDIS_DB}
    stores = tuple(
        LockStore.create(EndpointConfig.from_dict({**config, "url": "127.0.0.1", "port": 6379}))
        for _ in range(2)
    )
    assert all(isinstance(store, AtomicRedisLockStore) for store in stores)
    yield stores
    redis.Redis(db=REDIS_DB).flushdb()


def test_the_endpoints_name_this_store_and_rasa_runs_several_workers_with_it() -> None:
    settings = load_settings({"CRM_SECRET_KEY": "any", "CRM_REDIS_URL": "redis://10.1.2.3:6380/4"})
    rendered = render_endpoints(settings)["lock_store"]
    assert rendered == {
        "type": "bot.rasa_plugins.lock_store.AtomicRedisLockStore",
        "url": "10.1.2.3",
        "port": 6380,
        "db": 4,
    }
    assert number_of_sanic_workers(EndpointConfig.from_dict(rendered)) >= 1


def test_two_servers_taking_turns_at_once_never_overlap(
    two_servers: tuple[AtomicRedisLockStore, AtomicRedisLockStore],
) -> None:
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    inside: list[str] = []
    overlaps: list[tuple[str, ...]] = []
    served: list[str] = []
    errors: list[BaseException] = []
    guard = threading.Lock()
    start = threading.Barrier(2)

    async def turn(store: AtomicRedisLockStore, name: str) -> None:
        async with store.lock(conversation):
            with guard:
                inside.append(name)
                if len(inside) > 1:
                    overlaps.append(tuple(inside))
            await asyncio.sleep(0.002)
            with guard:
                inside.remove(name)
                served.append(name)

    def server(store: AtomicRedisLockStore, number: int) -> None:
        async def many() -> None:
            names = [f"{number}-{turn_}" for turn_ in range(TURNS_PER_SERVER)]
            results = await asyncio.gather(
                *(turn(store, name) for name in names), return_exceptions=True
            )
            errors.extend(r for r in results if isinstance(r, BaseException))

        start.wait(timeout=10)
        asyncio.run(many())

    threads = [
        threading.Thread(target=server, args=(store, number))
        for number, store in enumerate(two_servers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert overlaps == []
    assert len(served) == 2 * TURNS_PER_SERVER
    left = redis.Redis(db=REDIS_DB).keys(f"*{conversation}*")
    assert [key.decode().rsplit(":", 1)[-1] for key in left] == ["counter"]


async def test_a_waiting_turn_goes_in_the_order_it_arrived(
    two_servers: tuple[AtomicRedisLockStore, AtomicRedisLockStore],
) -> None:
    first, second = two_servers
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    served: list[int] = []

    async def turn(store: AtomicRedisLockStore, number: int) -> None:
        async with store.lock(conversation):
            served.append(number)
            await asyncio.sleep(0.01)

    tasks = []
    for number in range(6):
        tasks.append(asyncio.create_task(turn((first, second)[number % 2], number)))
        await asyncio.sleep(0.003)
    await asyncio.gather(*tasks)
    assert served == list(range(6))


async def test_a_ticket_abandoned_by_a_dead_server_frees_the_conversation_after_its_lifetime(
    two_servers: tuple[AtomicRedisLockStore, AtomicRedisLockStore],
) -> None:
    dead, alive = two_servers
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    dead.issue_ticket(conversation, lock_lifetime=0.3)
    started = time.monotonic()
    async with alive.lock(conversation, lock_lifetime=5):
        waited = time.monotonic() - started
    assert 0.2 <= waited < 3


async def test_a_turn_whose_ticket_expires_while_waiting_fails_with_lock_error(
    two_servers: tuple[AtomicRedisLockStore, AtomicRedisLockStore],
) -> None:
    holder, waiter = two_servers
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    async with holder.lock(conversation, lock_lifetime=5):
        with pytest.raises(LockError):
            async with waiter.lock(conversation, lock_lifetime=0.2):
                pytest.fail("the turn ran although another held the conversation")


async def test_a_turn_that_releases_after_its_lifetime_cannot_free_a_later_turns_ticket(
    two_servers: tuple[AtomicRedisLockStore, AtomicRedisLockStore],
) -> None:
    slow, other = two_servers
    conversation = f"lock-{uuid.uuid4().hex[:8]}"
    late = slow.issue_ticket(conversation, lock_lifetime=0.2)
    await asyncio.sleep(0.3)
    async with other.lock(conversation, lock_lifetime=5):
        pass
    async with other.lock(conversation, lock_lifetime=5):
        slow.finish_serving(conversation, late)
        with pytest.raises(LockError):
            async with slow.lock(conversation, lock_lifetime=0.3):
                pytest.fail("a turn ran while another held the conversation")
