"""The customer channels' input limits and rate limits, one case each."""

from __future__ import annotations

import uuid

import pytest

from bot.json_input import InputError
from bot.rasa_plugins.limits import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_METADATA_KEYS,
    MAX_SENDER_CHARS,
    PER_IP_RATE,
    PER_SENDER_RATE,
    CustomerRateLimits,
    RateLimited,
    RateLimiter,
    check_metadata,
    check_sender,
    check_text,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(check, value, status: int, code: str) -> None:
    with pytest.raises(InputError) as caught:
        check(value)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message


@pytest.mark.parametrize(
    "sender",
    [
        "c1",
        "demo-1",
        "e2e-ten-turns",
        "conv-1",
        uuid.uuid4().hex,
        f"{uuid.uuid4().hex}.{'a' * 32}",
        "ana@example.com",
        "tenant:42_x",
        "x" * MAX_SENDER_CHARS,
    ],
)
def test_conversation_ids_of_every_client_are_accepted(sender: str) -> None:
    assert check_sender(sender) == sender


@pytest.mark.parametrize(
    "sender",
    [None, 5, "", " ", "a b", "a\nb", "a/b", "../x", "é", "x" * (MAX_SENDER_CHARS + 1), "a\x00"],
)
def test_other_conversation_ids_are_refused(sender: object) -> None:
    refused(check_sender, sender, 400, "invalid_sender")


@pytest.mark.parametrize(
    "text", ["hi", "two\nlines\tand a tab", "Grüße 👋 ¿qué?", "a" * MAX_MESSAGE_CHARS]
)
def test_ordinary_text_is_accepted(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        (12, 400, "invalid_message"),
        (None, 400, "invalid_message"),
        ("  \n ", 400, "empty_message"),
        ("\u200b\u200d \u2060\ufeff\u202e", 400, "empty_message"),
        ("a" * (MAX_MESSAGE_CHARS + 1), 413, "message_too_long"),
        ("nul\x00", 400, "control_character"),
        ("bell\x07", 400, "control_character"),
        ("carriage\rreturn", 400, "control_character"),
        ("escape\x1b[31m", 400, "control_character"),
        ("delete\x7f", 400, "control_character"),
        ("c1 control\x85", 400, "control_character"),
        ("lone \ud800 surrogate", 400, "control_character"),
    ],
)
def test_bad_text_is_refused(text: object, status: int, code: str) -> None:
    refused(check_text, text, status, code)


def nested_metadata(depth: int) -> dict:
    metadata: dict = {}
    for _ in range(depth - 1):
        metadata = {"k": metadata}
    return metadata


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"customer_token": "t" * 200},
        {f"k{index}": index for index in range(MAX_METADATA_KEYS)},
        nested_metadata(MAX_METADATA_DEPTH),
        {"list": [1, 2.5, None, True, "x"]},
        {"blob": "x" * (MAX_METADATA_BYTES - 20)},
    ],
)
def test_small_metadata_is_accepted(metadata: dict) -> None:
    assert check_metadata(metadata) == metadata


def test_absent_metadata_is_empty() -> None:
    assert check_metadata(None) == {}


@pytest.mark.parametrize(
    "metadata",
    [
        "token",
        ["a"],
        5,
        {f"k{index}": index for index in range(MAX_METADATA_KEYS + 1)},
        nested_metadata(MAX_METADATA_DEPTH + 1),
        {"a": [[[[1]]]]},
        nested_metadata(100_000),
        {"blob": "x" * MAX_METADATA_BYTES},
        {"k" * 65: 1},
        {"": 1},
        {"a\nb": 1},
        {"inner": {"a\x00": 1}},
        {"a": "nul\x00"},
        {"a": "\ud800"},
        {"a": float("nan")},
        {"a": float("inf")},
        {"a": object()},
        {1: "non-string key"},
    ],
)
def test_large_or_odd_metadata_is_refused(metadata: object) -> None:
    refused(check_metadata, metadata, 400, "invalid_metadata")


async def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    for _ in range(3):
        await limiter.check("c1")
    with pytest.raises(RateLimited) as caught:
        await limiter.check("c1")
    assert (caught.value.status, caught.value.code, caught.value.retry_after) == (
        429,
        "rate_limited",
        1,
    )
    await limiter.check("c2")
    clock.now += 0.5
    await limiter.check("c1")
    with pytest.raises(RateLimited):
        await limiter.check("c1")
    clock.now += 60
    for _ in range(3):
        await limiter.check("c1")
    with pytest.raises(RateLimited):
        await limiter.check("c1")


async def test_refused_messages_do_not_spend_tokens() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock)
    await limiter.check("c1")
    for _ in range(5):
        with pytest.raises(RateLimited):
            await limiter.check("c1")
    clock.now += 1.0
    await limiter.check("c1")


async def test_retry_after_is_whole_seconds_until_the_next_token() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=0.1, burst=1, clock=clock)
    await limiter.check("c1")
    clock.now += 2.5
    with pytest.raises(RateLimited) as caught:
        await limiter.check("c1")
    assert caught.value.retry_after == 8


async def test_memory_is_bounded_by_forgetting_the_least_recently_seen_key() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        await limiter.check(key)
    with pytest.raises(RateLimited):
        await limiter.check("a")
    await limiter.check("d")
    assert len(limiter) == 3
    with pytest.raises(RateLimited):
        await limiter.check("a")
    await limiter.check("b")
    for index in range(10_000):
        await limiter.check(f"flood-{index}")
    assert len(limiter) == 3


@pytest.mark.parametrize(
    ("rate", "burst", "keys"), [(0.0, 1, 1), (-1.0, 1, 1), (1.0, 0, 1), (1.0, 1, 0)]
)
def test_a_limiter_needs_a_positive_rate_burst_and_size(rate: float, burst: int, keys: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate, burst, keys)


async def test_customer_limits_check_the_address_then_the_conversation() -> None:
    clock = Clock()
    limits = CustomerRateLimits(
        per_ip=RateLimiter(*PER_IP_RATE, clock=clock),
        per_sender=RateLimiter(*PER_SENDER_RATE, clock=clock),
    )
    sender_burst = PER_SENDER_RATE[1]
    ip_burst = PER_IP_RATE[1]
    for _ in range(sender_burst):
        await limits.check("c1", "10.0.0.1")
    with pytest.raises(RateLimited):
        await limits.check("c1", "10.0.0.1")
    for index in range(ip_burst - sender_burst - 1):
        await limits.check(f"other-{index}", "10.0.0.1")
    with pytest.raises(RateLimited):
        await limits.check("fresh", "10.0.0.1")
    await limits.check("fresh", "10.0.0.2")
