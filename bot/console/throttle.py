"""Login throttling per username and per client address, in bounded memory.

An attempt counts as a failure from the moment it is admitted, before the password is
hashed, so a burst of concurrent guesses is cut off at the limit rather than after it; a
successful login forgives it (and clears the username's count).

The per-username limit stops password guessing; the per-address limit only stops one address
spraying many usernames, and is far higher: staff behind one office address share it, and
any web page they open can send logins from it, so a low limit would let that page lock out
everyone there. A username is counted in its folded spelling ("Admin " is "admin").
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from bot.crm.store.staff import folded_username

USER_LIMIT = 5
IP_LIMIT = 100
WINDOW_S = 15 * 60
MAX_KEYS = 10_000
"""Usernames (and addresses) remembered at most; the least recently tried are forgotten first."""


class _Counter:
    """Recent attempts per key: at most `limit` times each, at most MAX_KEYS keys."""

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()

    def wait_s(self, key: str, now: float) -> float:
        """How long `key` must wait before its next attempt; 0 when it may try now."""
        attempts = self._attempts.get(key)
        if attempts is None:
            return 0.0
        while attempts and attempts[0] <= now - self.window_s:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]
            return 0.0
        if len(attempts) < self.limit:
            return 0.0
        return attempts[0] + self.window_s - now

    def add(self, key: str, now: float) -> None:
        attempts = self._attempts.get(key)
        if attempts is None:
            attempts = self._attempts[key] = deque(maxlen=self.limit)
            if len(self._attempts) > self.max_keys:
                self._attempts.popitem(last=False)
        self._attempts.move_to_end(key)
        attempts.append(now)

    def forgive_one(self, key: str) -> None:
        attempts = self._attempts.get(key)
        if attempts:
            attempts.pop()

    def clear(self, key: str) -> None:
        self._attempts.pop(key, None)

    def __len__(self) -> int:
        return len(self._attempts)


class LoginThrottle:
    def __init__(
        self,
        user_limit: int = USER_LIMIT,
        ip_limit: int = IP_LIMIT,
        window_s: float = WINDOW_S,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = _Counter(user_limit, window_s, max_keys)
        self._ips = _Counter(ip_limit, window_s, max_keys)
        self._clock = clock

    def admit(self, username: str, ip: str) -> float:
        """Seconds to wait when this attempt is refused; 0 when admitted (and counted)."""
        now = self._clock()
        username = folded_username(username)
        wait_s = max(self._users.wait_s(username, now), self._ips.wait_s(ip, now))
        if wait_s > 0:
            return wait_s
        self._users.add(username, now)
        self._ips.add(ip, now)
        return 0.0

    def succeeded(self, username: str, ip: str) -> None:
        """The admitted attempt was right: the username starts afresh, the address forgives it."""
        self._users.clear(folded_username(username))
        self._ips.forgive_one(ip)

    @property
    def remembered(self) -> int:
        """How many usernames and addresses are held (bounded by twice MAX_KEYS)."""
        return len(self._users) + len(self._ips)
