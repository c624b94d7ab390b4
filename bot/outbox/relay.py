"""The relay: a thread that delivers an outbox's entries in order, retrying until they land.

A passing failure (store locked or down, broker unreachable) holds the head of the line and
is retried with capped exponential backoff, forever, so conversations keep their order. An
entry that fails otherwise is retried a few times and then set aside in `dead` (kept, counted
by /healthz, logged), so one bad entry cannot stop every later one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from typing import Protocol

from bot.crm.store import CRMStore
from bot.outbox.apply import apply_entry, is_transient
from bot.outbox.local import Entry, LocalOutbox

logger = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
DEAD_AFTER_ATTEMPTS = 3
IDLE_WAKE_S = 5.0
"""A relay waiting for another to release the file's lock tries again this often."""
IDLE_POLL_S = 0.1
"""How soon an idle relay looks again: other processes (Sanic workers) append to the same file
and cannot wake this one, so their entries wait at most this long."""
REPORT_EVERY_S = 30.0
CLOSE_FLUSH_S = 5.0
"""On a clean stop the relay gets this long to deliver what is left; the rest stays on disk."""


class Sink(Protocol):
    """Where the relay delivers: the CRM store, or RabbitMQ (bot.outbox.amqp)."""

    def deliver(self, entry: Entry) -> None: ...

    def close(self) -> None: ...


class StoreSink:
    """Writes entries straight to the CRM store (the one-machine default)."""

    def __init__(self, store: CRMStore, claim_key: str) -> None:
        self.store = store
        self.claim_key = claim_key

    def deliver(self, entry: Entry) -> None:
        apply_entry(self.store, self.claim_key, entry.kind, entry.payload)

    def close(self) -> None:
        self.store.dispose()


def backoff(failures: int) -> float:
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** max(0, failures - 1))


class Relay(threading.Thread):
    """Drains one outbox into one sink; started by the event broker, stopped by its close.

    Only one relay at a time drains a file, whatever the number of processes (Sanic workers,
    two servers given one port): two would deliver each entry twice and could overtake each
    other within a conversation. The others wait on the file's lock until the first stops.
    """

    def __init__(self, outbox: LocalOutbox, sink: Sink) -> None:
        super().__init__(name=f"outbox-relay-{outbox.path.stem}", daemon=True)
        self.outbox = outbox
        self.sink = sink
        self._stopping = threading.Event()
        self._failures = 0
        self._failing_since: float | None = None
        self._reported_at = 0.0

    def run(self) -> None:
        lock = os.open(self.outbox.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not self._sole_relay(lock):
                return
            while not self._stopping.is_set():
                try:
                    self._pass()
                except Exception:
                    logger.exception("the outbox relay failed on %s; retrying", self.outbox.path)
                    self._stopping.wait(MAX_BACKOFF_S)
        finally:
            os.close(lock)  # releases the lock

    def _sole_relay(self, lock: int) -> bool:
        """Wait for the file's exclusive lock; False when stopped before getting it."""
        waiting = False
        while not self._stopping.is_set():
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waiting:
                    logger.warning("another relay drains %s; waiting for it", self.outbox.path)
                    waiting = True
                self._stopping.wait(IDLE_WAKE_S)
                continue
            return True
        return False

    def _pass(self) -> None:
        """Deliver what is there, in order; sleep until the next append when nothing is.

        The delivered entries are deleted together when the pass ends (one sync to disk, not
        one per entry): a crash before that delivers them again, which the store ignores.
        """
        self.outbox.appended.clear()
        entries = self.outbox.head()
        if not entries:
            self.outbox.appended.wait(IDLE_POLL_S)
            return
        done: list[int] = []
        try:
            for entry in entries:
                if self._stopping.is_set() or not self._deliver(entry):
                    return
                done.append(entry.id)
        finally:
            self.outbox.delete(done)

    def _deliver(self, entry: Entry) -> bool:
        """True when the entry is done with (delivered or set aside); False to retry it."""
        try:
            self.sink.deliver(entry)
        except Exception as error:
            return self._failed(entry, error)
        if self._failing_since is not None:
            logger.warning(
                "outbox delivery is back after %.0f s of failures",
                time.monotonic() - self._failing_since,
            )
        self._failures, self._failing_since = 0, None
        return True

    def _failed(self, entry: Entry, error: Exception) -> bool:
        self._failures += 1
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if not is_transient(error):
            attempts = self.outbox.failed_attempt(entry.id)
            if attempts >= DEAD_AFTER_ATTEMPTS:
                logger.error(
                    "outbox entry %s of conversation %s cannot be applied (%r); kept in dead",
                    entry.id,
                    entry.conversation_id,
                    error,
                )
                self.outbox.bury(entry, repr(error))
                self._failures, self._failing_since = 0, None
                return True
        if now - self._reported_at >= REPORT_EVERY_S:
            self._reported_at = now
            logger.warning(
                "outbox delivery failing for %.0f s (%r); entries wait in %s",
                now - self._failing_since,
                error,
                self.outbox.path,
            )
        self._stopping.wait(backoff(self._failures))
        return False

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything appended so far is delivered (tests, a clean stop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.outbox.head(limit=1):
                return True
            time.sleep(0.02)
        return False

    def close(self, flush_s: float = CLOSE_FLUSH_S) -> None:
        """Stop after delivering what is left (bounded); entries not delivered stay on disk."""
        if self.is_alive():
            self.wait_idle(flush_s)
        self._stopping.set()
        self.outbox.appended.set()
        self.join(timeout=flush_s + MAX_BACKOFF_S)
        if self.is_alive():
            # Still inside a delivery: closing the sink under it (an AMQP sink's running
            # loop) would fail; the daemon thread ends with the process.
            logger.warning("the outbox relay of %s did not stop in time", self.outbox.path)
            return
        self.sink.close()
