"""What the customer channels accept: conversation ids, message text, metadata and message rate.

Pure checks shared by the REST and socket.io channels (no Sanic here), so both refuse the same
input with the same 4xx code before anything reaches Rasa's tracker, the logs or the CRM.
"""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.json_input import InputError

if TYPE_CHECKING:
    from bot.settings import Settings

MAX_BODY_BYTES = 32 * 1024
MAX_SENDER_CHARS = 128
MAX_MESSAGE_CHARS = 5000
MAX_METADATA_KEYS = 16
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 4
MAX_METADATA_KEY_CHARS = 64
# (messages a second, burst) for each conversation and for each client address.
PER_SENDER_RATE = (2.0, 10)
PER_IP_RATE = (10.0, 40)

# Rasa's own ids (uuid4 hex), the server's socket.io session ids and e-mail-like ids fit this.
SENDER_SHAPE = re.compile(rf"[A-Za-z0-9._:@-]{{1,{MAX_SENDER_CHARS}}}")
# C0 and C1 controls except tab and newline, DEL, and lone surrogates (which UTF-8 cannot store).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def check_sender(sender: object) -> str:
    """The conversation id, if it has the shape of an id (it names rooms, rows and log lines)."""
    if not isinstance(sender, str) or not SENDER_SHAPE.fullmatch(sender):
        raise InputError(
            400,
            "invalid_sender",
            f"'sender' must be 1 to {MAX_SENDER_CHARS} characters of letters, digits and ._:@-",
        )
    return sender


def _shows_anything(text: str) -> bool:
    """Whether `text` has a character besides whitespace and format characters (Cf: zero-width
    spaces and joiners, bidi marks), which alone make an invisible, empty-looking message."""
    return any(not char.isspace() and unicodedata.category(char) != "Cf" for char in text)


def check_text(text: object) -> str:
    """The customer's message: non-empty text of bounded length without control characters."""
    if not isinstance(text, str):
        raise InputError(400, "invalid_message", "'message' must be a string.")
    if not _shows_anything(text):
        raise InputError(400, "empty_message", "'message' must not be empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InputError(
            413,
            "message_too_long",
            f"'message' has {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}.",
        )
    if _CONTROL.search(text):
        raise InputError(400, "control_character", "'message' must not contain control characters.")
    return text


def _metadata_error(message: str) -> InputError:
    return InputError(400, "invalid_metadata", message)


def _check_key(key: object) -> None:
    if not (isinstance(key, str) and 0 < len(key) <= MAX_METADATA_KEY_CHARS and key.isprintable()):
        raise _metadata_error(
            f"'metadata' keys must be 1 to {MAX_METADATA_KEY_CHARS} printable characters."
        )


def _check_metadata_shape(metadata: dict[str, Any]) -> None:
    """Depth, key shape and NUL-free strings, walked without recursion."""
    pending: list[tuple[Any, int]] = [(metadata, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_METADATA_DEPTH:
            raise _metadata_error(
                f"'metadata' nests deeper than {MAX_METADATA_DEPTH} objects or arrays."
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_key(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise _metadata_error("'metadata' must not contain NUL characters.")


def check_metadata(metadata: object) -> dict[str, Any]:
    """The message's metadata, if small: Rasa copies it into every event of the turn."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise _metadata_error("'metadata' must be a JSON object.")
    if len(metadata) > MAX_METADATA_KEYS:
        raise _metadata_error(f"'metadata' may have at most {MAX_METADATA_KEYS} keys.")
    _check_metadata_shape(metadata)
    try:
        size = len(json.dumps(metadata, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (TypeError, ValueError):
        raise _metadata_error("'metadata' must hold only JSON values and valid text.") from None
    if size > MAX_METADATA_BYTES:
        raise _metadata_error(
            f"'metadata' is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}."
        )
    return metadata


class RateLimited(InputError):
    """Too many messages: a 429; `retry_after` (whole seconds) goes in the Retry-After header."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429, "rate_limited", f"Too many messages; try again in {retry_after} seconds."
        )
        self.retry_after = retry_after


class RateLimiter:
    """Token buckets keyed by a string (a sender, a client address), in bounded memory.

    Each key may send `burst` messages at once and `rate_per_s` a second after that. Past
    `max_keys` the least recently seen key is forgotten (it starts again with a full bucket),
    so a flood of new keys costs memory of at most `max_keys` buckets. One event loop calls
    it, so it needs no lock.
    """

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_s must be positive; burst and max_keys at least 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def check(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited saying when one will be back."""
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate_per_s)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if not allowed:
            raise RateLimited(max(1, math.ceil((1.0 - tokens) / self.rate_per_s)))


class KeyedLimiter(Protocol):
    """A token bucket per key: this process's RateLimiter or shared_limits' Redis one."""

    async def check(self, key: str) -> None: ...


@dataclass
class CustomerRateLimits:
    """The customer channels' two limits: per client address, then per conversation.

    In this process's memory by default; `from_settings` picks buckets in Redis when there
    is one, so that every Rasa process (Sanic workers, servers) counts against the same limit.
    """

    per_ip: KeyedLimiter = field(default_factory=lambda: RateLimiter(*PER_IP_RATE))
    per_sender: KeyedLimiter = field(default_factory=lambda: RateLimiter(*PER_SENDER_RATE))

    @staticmethod
    def from_settings(settings: Settings) -> CustomerRateLimits:
        """Shared through Redis when `settings.redis_url` is set, else this process's own."""
        if settings.redis_url is None:
            return CustomerRateLimits()
        # Imported here: shared_limits builds on this module (and redis is needed only here).
        from bot.rasa_plugins.shared_limits import SharedCustomerRateLimits

        return SharedCustomerRateLimits(settings.redis_url)

    async def check(self, sender: str, ip: str) -> None:
        """Raise RateLimited when this address or this conversation sends too fast."""
        await self.per_ip.check(ip)
        await self.per_sender.check(sender)

    async def close(self) -> None:
        """Release what the buckets hold: nothing in memory (the Redis kind closes its pool)."""
