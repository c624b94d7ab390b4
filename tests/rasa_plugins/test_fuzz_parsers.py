"""Property tests of the customer channels' parsers: any input is accepted within the limits or
refused with an InputError, never another exception.

Derandomized and bounded, so `make test` explores the same few hundred inputs on every run.
"""

from __future__ import annotations

import asyncio
import json
import math
import string
import unicodedata
from collections.abc import Callable
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from bot.json_input import MAX_INTEGER, MAX_JSON_DEPTH, InputError, json_object, nesting_depth
from bot.rasa_plugins.limits import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_KEYS,
    MAX_SENDER_CHARS,
    RateLimited,
    RateLimiter,
    check_metadata,
    check_sender,
    check_text,
)
from bot.rasa_plugins.rest_channel import parse_webhook_body

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SENDER_CHARACTERS = set(string.ascii_letters + string.digits + "._:@-")
# Every character, with those parsers trip on (controls, surrogates, quotes, brackets) made likely.
any_text = st.text(
    st.characters(exclude_categories=())
    | st.sampled_from(["\x00", "\n", "\t", "\r", "\x85", "\ud800", "\\", '"', "[", "{"])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(any_text | st.sampled_from(["sender", "message"]), children, max_size=4)
    ),
    max_leaves=24,
)
id_like = st.from_regex(r"[A-Za-z0-9._:@-]{1,130}", fullmatch=True)
senders = id_like | json_values
texts = st.text(min_size=0, max_size=40) | st.just("a" * (MAX_MESSAGE_CHARS + 1)) | json_values
metadata_keys = st.text(string.ascii_letters + "_", min_size=1, max_size=70) | any_text
metadata = st.dictionaries(metadata_keys, json_values, max_size=MAX_METADATA_KEYS + 2) | json_values


def deep(depth: int, inner: Any) -> Any:
    for _ in range(depth):
        inner = [inner] if depth % 2 else {"k": inner}
    return inner


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


payload_bytes = (
    st.binary(max_size=200)
    | json_values.map(dumps)
    | st.fixed_dictionaries(
        {"sender": senders, "message": texts}, optional={"metadata": metadata}
    ).map(dumps)
    | st.fixed_dictionaries(
        {"sender": id_like, "message": st.text(min_size=1, max_size=40)},
        optional={"metadata": st.dictionaries(metadata_keys, scalars, max_size=4)},
    ).map(dumps)
    | st.builds(deep, st.integers(0, 60), json_values).map(dumps)
    | st.builds(
        lambda depth, tail: b"[" * depth + tail, st.integers(0, 5000), st.binary(max_size=8)
    )
)


def leaves(value: Any, depth: int = 1) -> list[tuple[Any, int]]:
    """Every key and scalar of a parsed value with the depth of the container holding it."""
    if isinstance(value, dict):
        found = [(key, depth) for key in value]
        for item in value.values():
            found += leaves(item, depth + 1)
        return found
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item, depth + 1)]
    return [(value, depth - 1)]


def assert_storable(value: Any) -> None:
    for leaf, _depth in leaves(value):
        if isinstance(leaf, str):
            assert "\x00" not in leaf
            leaf.encode("utf-8")
        elif isinstance(leaf, bool) or leaf is None:
            continue
        elif isinstance(leaf, int):
            assert abs(leaf) <= MAX_INTEGER
        else:
            assert math.isfinite(leaf)


def accepted(parse: Callable[[Any], Any], value: Any, *codes: str) -> Any:
    """What `parse` returns, or None after checking it refused with a 4xx (one of `codes`)."""
    try:
        return parse(value)
    except InputError as error:
        assert 400 <= error.status < 500 and error.code and error.message
        assert not codes or error.code in codes
        return None


@FUZZ
@given(payload_bytes)
def test_json_object_accepts_only_shallow_storable_objects(body: bytes) -> None:
    payload = accepted(json_object, body)
    if payload is not None:
        assert isinstance(payload, dict)
        assert nesting_depth(dumps(payload)) <= MAX_JSON_DEPTH
        assert_storable(payload)


@FUZZ
@given(payload_bytes)
def test_the_webhook_parser_accepts_only_input_within_the_limits(body: bytes) -> None:
    parsed = accepted(parse_webhook_body, body)
    if parsed is not None:
        sender, text, metadata = parsed
        assert check_sender(sender) == sender
        assert check_text(text) == text
        assert check_metadata(metadata) == metadata


@FUZZ
@given(senders)
def test_accepted_senders_are_short_ids(value: Any) -> None:
    sender = accepted(check_sender, value, "invalid_sender")
    if sender is not None:
        assert 1 <= len(sender) <= MAX_SENDER_CHARS
        assert set(sender) <= SENDER_CHARACTERS


@FUZZ
@given(texts | any_text)
def test_accepted_text_has_no_control_characters(value: Any) -> None:
    text = accepted(
        check_text,
        value,
        "invalid_message",
        "empty_message",
        "message_too_long",
        "control_character",
    )
    if text is not None:
        assert text.strip() and len(text) <= MAX_MESSAGE_CHARS
        controls = {char for char in text if unicodedata.category(char) in ("Cc", "Cs")}
        assert controls <= {"\n", "\t"}


@FUZZ
@given(metadata)
def test_accepted_metadata_is_small_and_shallow(value: Any) -> None:
    checked = accepted(check_metadata, value, "invalid_metadata")
    if checked is not None:
        assert isinstance(checked, dict) and len(checked) <= MAX_METADATA_KEYS
        assert len(json.dumps(checked, ensure_ascii=False).encode("utf-8")) <= MAX_METADATA_BYTES
        assert all(0 < len(key) <= MAX_METADATA_KEY_CHARS for key in checked)
        for leaf, depth in leaves(checked):
            assert depth <= MAX_METADATA_DEPTH
            assert not isinstance(leaf, str) or "\x00" not in leaf


@FUZZ
@given(
    rate=st.floats(0.1, 20),
    burst=st.integers(1, 20),
    steps=st.lists(st.tuples(st.sampled_from("abcdef"), st.floats(0, 2)), max_size=200),
)
def test_no_key_ever_exceeds_its_burst_plus_its_rate(
    rate: float, burst: int, steps: list[tuple[str, float]]
) -> None:
    now = [0.0]
    limiter = RateLimiter(rate, burst, max_keys=len("abcdef"), clock=lambda: now[0])
    allowed: dict[str, int] = {}

    async def send_all() -> None:
        for key, pause in steps:
            now[0] += pause
            try:
                await limiter.check(key)
            except RateLimited as error:
                assert error.retry_after >= 1
                continue
            allowed[key] = allowed.get(key, 0) + 1

    asyncio.run(send_all())
    for count in allowed.values():
        assert count <= burst + rate * now[0] + 1e-6
