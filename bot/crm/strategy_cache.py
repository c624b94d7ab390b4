"""The strategy serving each customer, cached for the processes that ask on every message.

Greetings and handoffs (action server) and the frustration threshold (Rasa server) ask for
it; the store's `stamp` says whether anything it depends on changed (a job finished, a
supervisor edited a strategy), and is read at most once every CHECK_SECONDS, so a new
strategy reaches the bot within seconds without a query per message.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.crm.store.strategies import DEFAULT_SERVING, ServingStrategy, StrategyStore

CHECK_SECONDS = 2.0
MAX_CUSTOMERS = 10_000
"""Customers cached at once; the least recently served are dropped first."""


class StrategyCache:
    """`StrategyStore.for_customer`, remembered until the store's stamp moves."""

    def __init__(
        self,
        store: StrategyStore,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_customers: int = MAX_CUSTOMERS,
    ) -> None:
        self._store = store
        self._check_seconds = check_seconds
        self._clock = clock
        self._max_customers = max_customers
        self._served: OrderedDict[int, ServingStrategy] = OrderedDict()
        self._stamp: str | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def for_customer(self, customer_id: int | None) -> ServingStrategy:
        if customer_id is None:
            return DEFAULT_SERVING
        with self._lock:
            self._refresh()
            if customer_id in self._served:
                self._served.move_to_end(customer_id)
                return self._served[customer_id]
            read_under = self._stamp
        served = self._store.for_customer(customer_id)
        with self._lock:
            # A refresh meanwhile may have cleared the cache for a newer stamp: what was read
            # under the old one is answered this once but not kept.
            if self._stamp == read_under:
                self._served[customer_id] = served
                while len(self._served) > self._max_customers:
                    self._served.popitem(last=False)
        return served

    def _refresh(self) -> None:
        """Forget everything when the stamp moved; look at it only every check_seconds."""
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < self._check_seconds:
            return
        self._checked_at = now
        stamp = self._store.stamp()
        if stamp != self._stamp:
            self._served.clear()
            self._stamp = stamp
