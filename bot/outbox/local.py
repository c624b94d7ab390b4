"""The local outbox: one SQLite file per Rasa server, appended on the turn path.

Appending is one short local transaction and never touches the CRM store, so a locked or
unreachable store cannot slow a turn. Entries are delivered in id order and deleted only
after delivery; an entry that cannot be applied at all is moved to `dead`, kept and counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from bot.settings import Settings

BUSY_TIMEOUT_MS = 5000
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_conversation ON entries (conversation_id);
CREATE TABLE IF NOT EXISTS dead (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    failed_at REAL NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_conversation ON dead (conversation_id);
"""


class EntryKind(str, Enum):
    """What an entry holds: a raw Rasa event, a message the channel wrote itself, or a
    conversation's binding to its signed-in customer that the gate could not write."""

    EVENT = "event"
    MESSAGE = "message"
    BIND = "bind"


@dataclass(frozen=True)
class Entry:
    id: int
    conversation_id: str
    kind: EntryKind
    payload: dict[str, Any]
    created_at: float
    attempts: int

    def as_json(self) -> dict[str, Any]:
        """The entry as it travels through RabbitMQ."""
        return {
            "conversation_id": self.conversation_id,
            "kind": self.kind.value,
            "payload": self.payload,
            "created_at": self.created_at,
        }


def outbox_path(settings: Settings) -> Path:
    """The outbox of the Rasa server these settings describe (one file per server port)."""
    return settings.outbox_dir / f"rasa-{settings.rasa_port}.sqlite3"


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def _private_file(path: Path) -> None:
    """Create the file 0600 in a 0700 folder before SQLite would create it 0644: entries hold
    what customers wrote."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class LocalOutbox:
    """A durable FIFO of CRM writes in a SQLite file (WAL, synchronous=FULL, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _private_file(path)
        self._lock = threading.Lock()
        self._connection = _connect(path)
        self._connection.executescript(SCHEMA)
        self.appended = threading.Event()
        """Set on every append, so the relay wakes at once instead of polling."""

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def append(self, kind: EntryKind, conversation_id: str, payload: dict[str, Any]) -> int:
        """Record one write durably; returns its id."""
        return self.append_many(kind, [(conversation_id, payload)])[0]

    def append_many(
        self, kind: EntryKind, writes: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[int]:
        """Record several writes (a turn's messages) durably in one transaction, so one sync
        to disk; returns their ids, in order."""
        if not writes:
            return []
        now = time.time()
        with self._transaction() as connection:
            ids = [
                connection.execute(
                    "INSERT INTO entries (conversation_id, kind, payload, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (conversation_id, kind.value, json.dumps(payload), now),
                ).lastrowid
                for conversation_id, payload in writes
            ]
        self.appended.set()
        return [int(entry_id or 0) for entry_id in ids]

    def head(self, limit: int = 100) -> list[Entry]:
        """The oldest entries, in the order they were appended."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT id, conversation_id, kind, payload, created_at, attempts FROM entries"
                " ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Entry(row[0], row[1], EntryKind(row[2]), json.loads(row[3]), row[4], row[5])
            for row in rows
        ]

    def delete(self, entry_ids: Collection[int]) -> None:
        """Forget delivered entries, in one transaction."""
        if not entry_ids:
            return
        with self._transaction() as connection:
            connection.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in entry_ids])

    def failed_attempt(self, entry_id: int) -> int:
        """Count a non-transient failure of this entry; returns its attempts so far."""
        with self._transaction() as connection:
            connection.execute(
                "UPDATE entries SET attempts = attempts + 1 WHERE id = ?", (entry_id,)
            )
            row = connection.execute(
                "SELECT attempts FROM entries WHERE id = ?", (entry_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def bury(self, entry: Entry, error: str) -> None:
        """Move an entry that cannot be applied to `dead`, where it is kept and counted."""
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO dead"
                " (id, conversation_id, kind, payload, created_at, failed_at, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.id,
                    entry.conversation_id,
                    entry.kind.value,
                    json.dumps(entry.payload),
                    entry.created_at,
                    time.time(),
                    error,
                ),
            )
            connection.execute("DELETE FROM entries WHERE id = ?", (entry.id,))

    def purge(self, conversation_ids: Collection[str]) -> int:
        """Delete the pending and dead entries of these conversations; returns how many."""
        ids = list(conversation_ids)
        removed = 0
        with self._transaction() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for table in ("entries", "dead"):
                    removed += connection.execute(
                        f"DELETE FROM {table} WHERE conversation_id IN ({marks})", chunk
                    ).rowcount
        return removed

    def close(self) -> None:
        with self._lock:
            self._connection.close()


_shared: dict[Path, LocalOutbox] = {}
_shared_lock = threading.Lock()


def shared_outbox(settings: Settings) -> LocalOutbox:
    """This process's outbox for these settings: the event broker and the channels' queue
    notices append to the same object, so the broker's relay wakes for both."""
    path = outbox_path(settings).resolve()
    with _shared_lock:
        if path not in _shared:
            _shared[path] = LocalOutbox(path)
        return _shared[path]


def release_shared_outboxes() -> None:
    """Close this process's outboxes: a SQLite connection must not cross a fork (the Rasa
    launcher checks its broker before Sanic may fork its workers)."""
    with _shared_lock:
        for outbox in _shared.values():
            outbox.close()
        _shared.clear()


def outbox_files(outbox_dir: Path) -> list[Path]:
    """Every Rasa server's outbox in the folder."""
    return sorted(outbox_dir.glob("rasa-*.sqlite3")) if outbox_dir.is_dir() else []


def purge_conversations(outbox_dir: Path, conversation_ids: Collection[str]) -> int:
    """Delete the entries of these conversations from every outbox in the folder (erasure,
    retention): a late delivery must not bring erased text back. Returns how many."""
    removed = 0
    for path in outbox_files(outbox_dir):
        outbox = LocalOutbox(path)
        try:
            removed += outbox.purge(conversation_ids)
        finally:
            outbox.close()
    return removed
