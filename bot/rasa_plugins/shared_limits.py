"""The customer channels' rate limits kept in Redis, so they hold across Rasa processes.

Each Sanic worker and each server has its own memory: with limits there, N processes let a
client send N times the limit. Here every bucket is a Redis hash and each check is one Lua
script that Redis runs alone (two processes cannot both spend a bucket's last token), timed
by Redis's own clock (the processes' clocks need not agree). A bucket's key expires when it
would be full again, when forgetting it changes nothing, so Redis holds only the buckets of
clients that sent something lately.

Redis not answering within `TIMEOUT_S` fails open: the message goes through unlimited and a
warning is logged (at most once per `WARN_EVERY_S`). The limits shield the bot from floods,
not the customer from the bot; refusing every customer because Redis is slow or down would
turn a Redis outage into a chat outage. After a failure the buckets are not asked again for
`PAUSE_AFTER_FAILURE_S`, so an outage costs one wait of `TIMEOUT_S`, not one per message.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.rasa_plugins.limits import PER_IP_RATE, PER_SENDER_RATE, CustomerRateLimits, RateLimited

logger = logging.getLogger(__name__)

KEY_PREFIX = "crm:rate:"
TIMEOUT_S = 0.5
"""The longest a check waits for Redis before letting the message through."""
PAUSE_AFTER_FAILURE_S = 5.0
WARN_EVERY_S = 60.0

# KEYS[1]: the bucket (hash: tokens, at_ms). ARGV: rate per second, burst.
# Returns 0 when a token was spent, else the whole seconds until one is back.
TAKE_TOKEN = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + now[2] / 1000
local rate_per_ms = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at_ms')
local tokens = burst
if state[1] then
  local elapsed_ms = math.max(0, now_ms - tonumber(state[2]))
  tokens = math.min(burst, tonumber(state[1]) + elapsed_ms * rate_per_ms)
end
local allowed = tokens >= 1
if allowed then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'at_ms', string.format('%.17g', now_ms))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / rate_per_ms)))
if allowed then return 0 end
return math.max(1, math.ceil((1 - tokens) / tonumber(ARGV[1])))
"""


class RedisBuckets:
    """The token buckets in one Redis, through one connection pool, failing open."""

    def __init__(
        self,
        client: Redis,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.clock = clock
        self._take_token = client.register_script(TAKE_TOKEN)
        self._paused_until = -math.inf
        self._warned_at = -math.inf

    @classmethod
    def from_url(cls, url: str) -> RedisBuckets:
        """Buckets at `url`; nothing connects until the first check (so a pool made before
        Sanic forks its workers holds no socket they would share)."""
        client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
        return cls(client)

    async def take(self, key: str, rate_per_s: float, burst: int) -> int:
        """Spend a token of `key`'s bucket: 0 if there was one (or Redis did not answer),
        else the whole seconds until there is one."""
        if self.clock() < self._paused_until:
            return 0
        try:
            return int(
                await asyncio.wait_for(
                    self._take_token(keys=[key], args=[rate_per_s, burst]), self.timeout_s
                )
            )
        except (RedisError, OSError, asyncio.TimeoutError) as error:
            self._failed(error)
            return 0

    def _failed(self, error: Exception) -> None:
        now = self.clock()
        self._paused_until = now + PAUSE_AFTER_FAILURE_S
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            logger.warning(
                "Redis did not answer the rate limit check (%r); customer messages are let"
                " through unlimited until it does",
                error,
            )

    async def close(self) -> None:
        await self.client.close()


class RedisRateLimiter:
    """RateLimiter's token bucket per key (`burst` at once, `rate_per_s` after that), kept in
    Redis under `prefix + key` for every process that uses the same prefix."""

    def __init__(self, buckets: RedisBuckets, prefix: str, rate_per_s: float, burst: int) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be positive and burst at least 1")
        self.buckets = buckets
        self.prefix = prefix
        self.rate_per_s = rate_per_s
        self.burst = burst

    async def check(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited saying when one will be back."""
        retry_after = await self.buckets.take(self.prefix + key, self.rate_per_s, self.burst)
        if retry_after:
            raise RateLimited(retry_after)


class SharedCustomerRateLimits(CustomerRateLimits):
    """The customer limits with both buckets in the Redis at `url` (`crm:rate:ip:<address>`,
    `crm:rate:sender:<conversation id>`)."""

    def __init__(self, url: str) -> None:
        self.buckets = RedisBuckets.from_url(url)
        super().__init__(
            per_ip=RedisRateLimiter(self.buckets, f"{KEY_PREFIX}ip:", *PER_IP_RATE),
            per_sender=RedisRateLimiter(self.buckets, f"{KEY_PREFIX}sender:", *PER_SENDER_RATE),
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self.buckets.close()
