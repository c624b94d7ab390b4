"""Deleting conversations from Rasa's tracker store (erasure and retention).

Rasa's `SQLTrackerStore` keeps a conversation as rows of its `events` table, keyed by
`sender_id` (the CRM's conversation id). A Rasa server keeps a conversation's tracker in
memory only while the newest row it was built from still exists
(`bot/rasa_plugins/tracker_store.py`), so deleting the rows forgets the conversation. Rasa
has no API for it, hence plain SQL on the tracker store's database (`settings.tracker_url`:
SQLite or PostgreSQL, as `bot.endpoints` allows). A tracker store Rasa has not written yet
has no `events` table: nothing to delete.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import MetaData, Table, create_engine, delete, func, inspect, select
from sqlalchemy.engine import Connection

from bot.crm.store.base import batches

EVENTS_TABLE = "events"
BATCH = 500


def purge_tracker_events(tracker_url: str, conversation_ids: Collection[str]) -> int:
    """Delete every tracker event of these conversations; returns how many rows went."""
    if not conversation_ids:
        return 0
    with _events(tracker_url) as found:
        return _delete_senders(*found, conversation_ids) if found else 0


def purge_tracker_older(tracker_url: str, before: datetime) -> int:
    """Delete the conversations whose newest event is older than `before`: retention of
    trackers the CRM no longer knows (or never heard of). Returns how many rows went."""
    with _events(tracker_url) as found:
        if not found:
            return 0
        connection, events = found
        stale = (
            select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < before.timestamp())
        )
        return _delete_senders(connection, events, list(connection.scalars(stale)))


@contextmanager
def _events(tracker_url: str) -> Iterator[tuple[Connection, Table] | None]:
    """One transaction on the tracker store with its events table (None without one)."""
    engine = create_engine(tracker_url, future=True)
    try:
        if not inspect(engine).has_table(EVENTS_TABLE):
            yield None
            return
        events = Table(EVENTS_TABLE, MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            yield connection, events
    finally:
        engine.dispose()


def _delete_senders(connection: Connection, events: Table, senders: Collection[str]) -> int:
    deleted = 0
    for batch in batches(sorted(set(senders)), BATCH):
        statement = delete(events).where(events.c.sender_id.in_(batch))
        deleted += connection.execute(statement).rowcount
    return deleted
