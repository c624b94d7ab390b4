"""Staff sign-in pieces: the bearer token, one-time websocket tickets and the password pool.

Sessions themselves live in the CRM store (`store.sessions`): the client holds a random
token, the server decides on every request whether it is still good.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiohttp import web

from bot.console.errors import ApiError

Result = TypeVar("Result")
MAX_TOKEN_CHARS = 200
"""Longer than any token the console issues: refused without asking the database."""
TICKET_TTL_S = 30
MAX_TICKETS = 10_000
PASSWORD_WORKERS = 2
MAX_WAITING_LOGINS = 32
BUSY_RETRY_S = 2


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class WsTickets:
    """One-time tickets for the live websocket, so the session token never sits in a URL.

    A browser cannot send an Authorization header with a websocket upgrade, and URLs end up
    in logs and histories: the page trades its session for a ticket that works once, briefly.
    """

    def __init__(
        self,
        ttl_s: float = TICKET_TTL_S,
        max_tickets: int = MAX_TICKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._max_tickets = max_tickets
        self._clock = clock
        self._tickets: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def issue(self, session_token: str) -> str:
        now = self._clock()
        while self._tickets and (
            next(iter(self._tickets.values()))[1] <= now or len(self._tickets) >= self._max_tickets
        ):
            self._tickets.popitem(last=False)
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (session_token, now + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The session token a live ticket stands for; the ticket is used up either way."""
        session_token, expires_at = self._tickets.pop(ticket, (None, 0.0))
        return session_token if expires_at > self._clock() else None


class PasswordPool:
    """argon2 hashing on its own two threads, with a bounded queue.

    Hashing is slow on purpose. On the default executor a login flood would queue ahead of
    every database call the console makes; here it queues only behind other logins, and
    beyond MAX_WAITING_LOGINS it is refused (503) instead of queued.
    """

    def __init__(self, workers: int = PASSWORD_WORKERS, max_waiting: int = MAX_WAITING_LOGINS):
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="password-hash")
        self._max_waiting = max_waiting
        self._waiting = 0

    async def run(self, function: Callable[..., Result], *args: object) -> Result:
        if self._waiting >= self._max_waiting:
            raise ApiError(
                503,
                "busy",
                "Too many sign-ins at once; try again in a moment.",
                headers={"Retry-After": str(BUSY_RETRY_S)},
            )
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)
        finally:
            self._waiting -= 1

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
