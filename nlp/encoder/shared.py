"""One instance of a loaded model per process, for every part of the process to share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProcessShared(Generic[T]):
    """Calls `load` on first use, under a lock: two threads must not both spend seconds (and
    hundreds of MB) loading the same model; later calls return that one instance."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._instance: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._instance is None:
                self._instance = self._load()
            return self._instance
