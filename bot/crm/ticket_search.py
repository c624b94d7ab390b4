"""The similar-ticket index of the CRM's resolved tickets, kept as files next to the database.

Any number of processes may write it (the console adds each resolved handoff, `crm reindex`
and erasure rebuild it, on one machine or several consoles): every write holds a file lock
in the index folder, so there is one writer at a time. A write builds a new version in a
folder of its own (`v-<uuid>`), then atomically replaces the pointer file (`meta.json`,
naming the current version) and removes the versions it replaced. Readers (the action
server) follow the pointer and reload when it names another version.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from filelock import FileLock

from bot.crm.store.records import HandoffView, ResolvedTicket
from bot.crm.store.tickets import TicketStore
from nlp.similar import EncoderChangedError, SimilarTicketIndex, Ticket

logger = logging.getLogger(__name__)
STAMP = "meta.json"
"""The pointer to the current version; `bot.setup` checks it exists before a first build."""
LOCK = "writer.lock"
VERSION_PREFIX = "v-"
LOCK_TIMEOUT_S = 300.0
"""A rebuild of every resolved ticket takes about a minute for 10,000 of them (its classifier
encodes each; docs/benchmarks.md, "Similar tickets"); a writer waiting longer finds it stuck."""
LOAD_ATTEMPTS = 3
DUPLICATE_HEADROOM = 4


def _ticket(row: ResolvedTicket | HandoffView) -> Ticket:
    """What an agent would search by: the customer's words and how the case was resolved."""
    return Ticket(
        ticket_id=str(row["id"]),
        text=f"{row['text']}\n{row['resolution']}",
        resolution=row["resolution"],
        label=row.get("category"),
    )


class TicketSearch:
    def __init__(self, tickets: TicketStore, directory: Path, writer: bool = False) -> None:
        self.tickets = tickets
        self.directory = directory
        self.writer = writer
        self._lock = threading.Lock()
        self._index: SimilarTicketIndex | None = None
        self._loaded_version: str | None = None
        self._refused_version: str | None = None
        self._file_lock = FileLock(directory / LOCK, timeout=LOCK_TIMEOUT_S)

    def _version(self) -> str | None:
        """The version the pointer names; None before the first build (or an old layout)."""
        try:
            pointer = json.loads((self.directory / STAMP).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        version = pointer.get("current") if isinstance(pointer, dict) else None
        return version if isinstance(version, str) else None

    def _writing(self) -> FileLock:
        """The one-writer lock, taken before `_lock` whenever both are held. Reentrant for
        this object; a flock on a descriptor of its own per object and thread, so it also
        excludes another writer of the same process."""
        if not self.writer:
            raise PermissionError("only a writer TicketSearch writes the index")
        self.directory.mkdir(parents=True, exist_ok=True)
        return self._file_lock

    def _publish(self, index: SimilarTicketIndex) -> None:
        """Save as a new version, point at it, then delete every other version and leftover
        (an erased ticket's text must not stay on disk). Called with the file lock held."""
        version = f"{VERSION_PREFIX}{uuid.uuid4().hex}"
        index.save(self.directory / version)
        staged = self.directory / f".{STAMP}.{version}"
        staged.write_text(json.dumps({"current": version, "tickets": len(index)}), "utf-8")
        os.replace(staged, self.directory / STAMP)
        for entry in self.directory.iterdir():
            if entry.name in (STAMP, LOCK, version):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        with self._lock:
            self._index, self._loaded_version = index, version

    def rebuild(self) -> int:
        """Fit a fresh index on every resolved ticket in the store and save it."""
        with self._writing():
            tickets = [_ticket(row) for row in self.tickets.resolved()]
            self._publish(SimilarTicketIndex().fit(tickets))
            return len(tickets)

    def _load(self) -> None:
        """Load the version the pointer names. A writer may delete it while this reads: then
        read the pointer again, and keep the last index if that keeps failing. An index fit
        for another sentence encoder (or saved before indexes named theirs) is rebuilt by a
        writer, once; a reader waits for that, and says so once per such version."""
        for _ in range(LOAD_ATTEMPTS):
            version = self._version()
            if version is None or version in (self._loaded_version, self._refused_version):
                return
            try:
                index = SimilarTicketIndex.load(self.directory / version)
            except EncoderChangedError as error:
                self._refuse(version, error)
                continue
            except (OSError, ValueError):
                continue
            with self._lock:
                self._index, self._loaded_version = index, version
            return
        logger.warning("similar-ticket index is being rewritten; using the last one")

    def _refuse(self, version: str, error: EncoderChangedError) -> None:
        if not self.writer:
            self._refused_version = version
            logger.warning("similar-ticket index not used until its writer rebuilds it: %s", error)
            return
        with self._writing():
            if self._version() == version:  # not rebuilt by another writer meanwhile
                self.rebuild()

    def _current(self) -> SimilarTicketIndex | None:
        """The newest saved index; only a writer builds one when none exists yet."""
        if self._version() is None and self.writer:
            self.rebuild()
        else:
            self._load()
        return self._index

    def query(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        """The k best distinct past tickets (identical ones count once), shown as stored;
        a ticket erased since the index was written is left out."""
        index = self._current()
        if index is None:
            return []
        with self._lock:  # the index does not support a query while a ticket is added
            found = index.query(text, k * DUPLICATE_HEADROOM)
        distinct: dict[str, Any] = {}
        for match in found:
            distinct.setdefault(match.text, match)
        matches = list(distinct.values())[:k]
        stored = self.tickets.by_id([int(match.ticket_id) for match in matches])
        return [
            {
                "ticket_id": int(match.ticket_id),
                "score": round(match.score, 4),
                "text": stored[int(match.ticket_id)]["text"],
                "resolution": match.resolution,
                "matched_terms": list(match.matched_terms),
                "category": match.label,
            }
            for match in matches
            if stored.get(int(match.ticket_id), {}).get("resolution") is not None
        ]

    def add_resolved(self, ticket: HandoffView) -> None:
        """Index a just-resolved ticket on top of the newest saved index (another process may
        have written since this one loaded); a build that already has it is left alone."""
        with self._writing():
            self._load()
            index = self._index
            if index is None or self._loaded_version != self._version():
                self.rebuild()
                return
            if str(ticket["id"]) in index.ticket_ids_:
                return
            with self._lock:
                index.add([_ticket(ticket)])
            self._publish(index)

    def prune(self) -> int:
        """Rebuild when the index holds tickets the store no longer has as resolved (erased
        or deleted since); returns how many it held. Erasure and retention call it, and a
        second call finds nothing. An index in the layout before versions is rewritten."""
        with self._writing():
            if self._version() is None:
                if (self.directory / STAMP).exists():
                    self.rebuild()
                return 0
            self._load()
            if self._index is None:
                self.rebuild()
                return 0
            kept = {str(row["id"]) for row in self.tickets.resolved()}
            stale = set(self._index.ticket_ids_) - kept
            if stale:
                self.rebuild()
            return len(stale)
