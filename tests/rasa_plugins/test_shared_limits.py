"""The customer rate limits in a real Redis (database 14): the in-memory buckets' semantics,
one bucket for every process, keys that expire, and messages let through when Redis is away."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from redis.asyncio import Redis

from bot.rasa_plugins.limits import PER_SENDER_RATE, CustomerRateLimits, RateLimited, RateLimiter
from bot.rasa_plugins.shared_limits import (
    PAUSE_AFTER_FAILURE_S,
    TIMEOUT_S,
    WARN_EVERY_S,
    RedisBuckets,
    RedisRateLimiter,
    SharedCustomerRateLimits,
)
from bot.settings import load_settings

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def tag() -> Iterator[str]:
    """A mark in every key the test makes; those keys are deleted after it."""
    tag = uuid.uuid4().hex
    yield tag
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"crm:rate:*{tag}*"):
        client.delete(key)
    client.close()


@pytest.fixture
async def buckets() -> AsyncIterator[RedisBuckets]:
    buckets = RedisBuckets(Redis.from_url(REDIS_URL))
    yield buckets
    await buckets.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port bound but not listening: connections to it are refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that takes connections and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        yield listening.getsockname()[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def refusal(limiter: RedisRateLimiter, key: str) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        await limiter.check(key)
    return caught.value


async def test_a_bucket_allows_its_burst_then_refuses_until_its_next_token(
    buckets: RedisBuckets, tag: str
) -> None:
    limiter = RedisRateLimiter(buckets, f"crm:rate:test-{tag}:", rate_per_s=0.5, burst=3)
    for _ in range(3):
        await limiter.check("c1")
    refused = await refusal(limiter, "c1")
    assert (refused.status, refused.code, refused.retry_after) == (429, "rate_limited", 2)
    assert (await refusal(limiter, "c1")).retry_after == 2  # a refusal spends nothing
    await limiter.check("c2")
    slow = RedisRateLimiter(buckets, f"crm:rate:test-{tag}-slow:", rate_per_s=0.1, burst=1)
    await slow.check("c1")
    assert (await refusal(slow, "c1")).retry_after == 10


async def test_a_bucket_refills_at_its_rate_up_to_its_burst(
    buckets: RedisBuckets, tag: str
) -> None:
    limiter = RedisRateLimiter(buckets, f"crm:rate:test-{tag}:", rate_per_s=20.0, burst=2)
    for _ in range(2):
        await limiter.check("c1")
    assert (await refusal(limiter, "c1")).retry_after == 1
    await asyncio.sleep(0.3)  # six tokens' worth, but the bucket holds two
    for _ in range(2):
        await limiter.check("c1")
    await refusal(limiter, "c1")


async def test_a_bucket_expires_when_it_would_be_full_again(
    buckets: RedisBuckets, tag: str
) -> None:
    prefix = f"crm:rate:test-{tag}:"
    limiter = RedisRateLimiter(buckets, prefix, rate_per_s=2.0, burst=3)
    await limiter.check("c1")
    assert 400 < await buckets.client.pttl(f"{prefix}c1") <= 500
    for _ in range(2):
        await limiter.check("c1")
    assert 1400 < await buckets.client.pttl(f"{prefix}c1") <= 1500
    quick = RedisRateLimiter(buckets, prefix, rate_per_s=20.0, burst=1)
    await quick.check("c2")
    await asyncio.sleep(0.15)
    assert await buckets.client.exists(f"{prefix}c2") == 0


def test_two_processes_spend_from_one_bucket(tag: str) -> None:
    """Two limiters, each with its own connection pool and event loop, as two Rasa processes
    have: together they let through the burst, not twice it."""
    burst, attempts = 10, 25
    allowed: list[int] = []
    start = threading.Barrier(2)

    async def spend() -> int:
        buckets = RedisBuckets(Redis.from_url(REDIS_URL))
        limiter = RedisRateLimiter(buckets, f"crm:rate:test-{tag}:", 0.001, burst)
        spent = 0
        try:
            for _ in range(attempts):
                try:
                    await limiter.check("shared")
                    spent += 1
                except RateLimited:
                    pass
        finally:
            await buckets.close()
        return spent

    def process() -> None:
        start.wait()
        allowed.append(asyncio.run(spend()))

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == burst


async def test_the_customer_limits_share_namespaced_buckets_in_redis(tag: str) -> None:
    settings = load_settings({"CRM_SECRET_KEY": "any", "CRM_REDIS_URL": REDIS_URL})
    first = CustomerRateLimits.from_settings(settings)
    second = CustomerRateLimits.from_settings(settings)
    assert isinstance(first, SharedCustomerRateLimits)
    sender, ip = f"conv-{tag}", f"10.0.0.1-{tag}"
    try:
        for index in range(PER_SENDER_RATE[1]):
            await (first if index % 2 else second).check(sender, ip)
        for limits in (first, second):
            with pytest.raises(RateLimited):
                await limits.check(sender, ip)
        await second.check(f"other-{tag}", ip)
        client = redis.Redis.from_url(REDIS_URL)
        assert client.exists(f"crm:rate:ip:{ip}", f"crm:rate:sender:{sender}") == 2
        client.close()
    finally:
        await first.close()
        await second.close()


def test_without_redis_the_limits_stay_in_this_process() -> None:
    limits = CustomerRateLimits.from_settings(load_settings({"CRM_SECRET_KEY": "any"}))
    assert isinstance(limits.per_ip, RateLimiter)
    assert isinstance(limits.per_sender, RateLimiter)


@pytest.mark.parametrize("port_fixture", ["closed_port", "silent_port"])
async def test_messages_go_through_when_redis_does_not_answer(
    port_fixture: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    port = request.getfixturevalue(port_fixture)
    limits = SharedCustomerRateLimits(f"redis://127.0.0.1:{port}/14")
    caplog.set_level(logging.WARNING, logger="bot.rasa_plugins.shared_limits")
    try:
        began = time.monotonic()
        await limits.check("c1", "10.0.0.1")
        assert time.monotonic() - began < TIMEOUT_S + 0.25
        began = time.monotonic()
        for _ in range(PER_SENDER_RATE[1] + 5):
            await limits.check("c1", "10.0.0.1")
        assert time.monotonic() - began < 0.1  # paused after the failure: no more waits
    finally:
        await limits.close()
    assert [record.levelname for record in caplog.records] == ["WARNING"]


async def test_the_warning_comes_once_a_period(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    buckets = RedisBuckets(Redis.from_url(f"redis://127.0.0.1:{closed_port}/14"), clock=clock)
    caplog.set_level(logging.WARNING, logger="bot.rasa_plugins.shared_limits")
    try:
        assert await buckets.take("crm:rate:test:c1", 1.0, 1) == 0
        clock.now += PAUSE_AFTER_FAILURE_S
        assert await buckets.take("crm:rate:test:c1", 1.0, 1) == 0
        assert len(caplog.records) == 1
        clock.now += WARN_EVERY_S
        assert await buckets.take("crm:rate:test:c1", 1.0, 1) == 0
        assert len(caplog.records) == 2
    finally:
        await buckets.close()
