"""The similar-ticket index of the CRM's resolved tickets, kept as files next to the database.

The console is the one writer (it adds each resolved handoff); the action server reads and
reloads the files when they change. `crm reindex` rebuilds them from the store.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from bot.crm.store.records import HandoffView, ResolvedTicket
from bot.crm.store.tickets import TicketStore
from nlp.similar import SimilarTicketIndex, Ticket

logger = logging.getLogger(__name__)
STAMP = "meta.json"
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
        self._loaded_stamp: float | None = None

    def _stamp(self) -> float | None:
        stamp = self.directory / STAMP
        return stamp.stat().st_mtime if stamp.exists() else None

    def rebuild(self) -> int:
        """Fit a fresh index on every resolved ticket in the store and save it."""
        with self._lock:
            tickets = [_ticket(row) for row in self.tickets.resolved()]
            index = SimilarTicketIndex().fit(tickets)
            index.save(self.directory)
            self._index, self._loaded_stamp = index, self._stamp()
            return len(tickets)

    def _current(self) -> SimilarTicketIndex | None:
        """The newest saved index; only the writer builds one when none exists yet."""
        stamp = self._stamp()
        if stamp is None and self.writer:
            self.rebuild()
        elif stamp is not None and (self._index is None or stamp != self._loaded_stamp):
            with self._lock:
                try:
                    self._index = SimilarTicketIndex.load(self.directory)
                    self._loaded_stamp = stamp
                except (OSError, ValueError):
                    logger.warning("similar-ticket index is being rewritten; using the last one")
        return self._index

    def query(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        """The k best distinct past tickets (identical ones count once), shown as stored."""
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
            if int(match.ticket_id) in stored
        ]

    def add_resolved(self, ticket: HandoffView) -> None:
        """Index a just-resolved ticket (a first build from the store already includes it)."""
        if not self.writer:
            raise PermissionError("only the console's TicketSearch writes the index")
        if self._stamp() is None:
            self.rebuild()
            return
        index = self._current()
        with self._lock:
            index.add([_ticket(ticket)])
            index.save(self.directory)
            self._loaded_stamp = self._stamp()
