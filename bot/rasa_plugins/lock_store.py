"""A Redis lock store whose ticket queue changes atomically, so two Rasa servers never run
the same conversation at once.

Rasa 3.6's `RedisLockStore` reads a conversation's ticket list, changes it in Python and
writes it back. Two servers taking a ticket at the same moment both read an empty list and
both get ticket 0, so both run the turn together (their events interleave in the tracker);
a server finishing while another has just queued deletes the other's ticket, whose turn
then fails with `LockError`. Here each step is one Lua script that Redis runs alone: the
queue is first come, first served, a ticket expires after its lifetime (a server that died
while holding it frees the conversation), and a waiting turn checks every few milliseconds
instead of every second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

COUNTER_LIFETIME_MS = 24 * 3600 * 1000
"""Ticket numbers are not reused within this time (the counter outlives an empty queue): a
turn that ran past its ticket's lifetime and releases late can only drop its own ticket."""
FIRST_WAIT_S = 0.005
LONGEST_WAIT_S = 0.05

# KEYS: queue (sorted set of ticket numbers), expiries (hash ticket -> ms), counter.
# Every script first drops expired tickets, with Redis's own clock (one clock for all servers).
_DROP_EXPIRED = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local expiries = redis.call('HGETALL', KEYS[2])
for i = 1, #expiries, 2 do
  if tonumber(expiries[i + 1]) <= now_ms then
    redis.call('ZREM', KEYS[1], expiries[i])
    redis.call('HDEL', KEYS[2], expiries[i])
  end
end
"""

ISSUE = (
    _DROP_EXPIRED
    + """
local ticket = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ticket, ticket)
redis.call('HSET', KEYS[2], ticket, now_ms + tonumber(ARGV[1]))
for i = 1, 2 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[1])) end
redis.call('PEXPIRE', KEYS[3], math.max(tonumber(ARGV[1]), tonumber(ARGV[2])))
return ticket
"""
)

# 1: the ticket is first in the queue; 0: others are before it; -1: it expired.
TRY_ACQUIRE = (
    _DROP_EXPIRED
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then return 1 end
return 0
"""
)

RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return 1
"""


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with each ticket operation done by Redis in one step.

    Configured in `endpoints.yml` as `type: bot.rasa_plugins.lock_store.AtomicRedisLockStore`
    with `url` (the host), `port` and `db`, like Rasa's `redis` type.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        super().__init__(**kwargs)
        self._issue = self.red.register_script(ISSUE)
        self._try_acquire = self.red.register_script(TRY_ACQUIRE)
        self._release = self.red.register_script(RELEASE)

    def _keys(self, conversation_id: str) -> list[str]:
        base = self.key_prefix + conversation_id
        return [f"{base}:queue", f"{base}:expiries", f"{base}:counter"]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        lifetime_ms = max(1, int(lock_lifetime * 1000))
        args = [lifetime_ms, COUNTER_LIFETIME_MS]
        return int(self._issue(keys=self._keys(conversation_id), args=args))

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._release(keys=self._keys(conversation_id), args=[ticket_number])

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = LONGEST_WAIT_S,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation while the block runs; `LockError` if the ticket expired
        while waiting (the turns before it took longer than its lifetime)."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._wait_for_turn(conversation_id, ticket, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, ticket)

    async def _wait_for_turn(
        self, conversation_id: str, ticket: int, longest_wait_s: float
    ) -> TicketLock:
        wait_s = min(FIRST_WAIT_S, longest_wait_s)
        while True:
            state = int(self._try_acquire(keys=self._keys(conversation_id), args=[ticket]))
            if state == 1:
                return TicketLock(conversation_id)
            if state == -1:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            await asyncio.sleep(wait_s)
            wait_s = min(wait_s * 2, longest_wait_s)
