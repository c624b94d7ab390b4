"""Rasa's SQL tracker store, with a turn whose cost does not grow with the conversation.

Rasa's `SQLTrackerStore` rebuilds a tracker from all its session's rows on every `retrieve`
(parsing each event's JSON: 40 ms at 1,000 events here), and its `save` rebuilds it once
more only to find which events are new. This store keeps each conversation's tracker in
memory after it was loaded or saved, with the id of its newest row, and on `retrieve` reads
only the rows written since (by another Rasa server, or none). `save` streams and writes the
events past those stored, as Rasa's does, without rebuilding anything or counting rows (the
conversation's lock is held from `retrieve` to `save`, so none are written meanwhile).

The rows stay the truth. A cached tracker is used only while the newest row it was built
from still exists (an erasure or the retention job deleting the conversation's rows makes
the next turn start from what is left, as with Rasa's store), a new session written by
another server makes it reload, a save after someone else changed the rows keeps nothing,
and a new model's domain empties the memory. SQLite connections are pooled and set to WAL, as the
CRM store's are, instead of being opened anew for every query.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.crm.database import create_crm_engine

logger = logging.getLogger(__name__)

CACHED_CONVERSATIONS = 2000
"""Conversations kept in memory per Rasa server; the least recently used one goes first."""


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    newest_row: int
    saved_events: int


@dataclass
class _HandedOut:
    """A tracker given to a turn: how many of its events are stored, up to which row."""

    tracker: weakref.ref
    stored_events: int
    newest_row: int | None


class IncrementalSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that reads only new rows on `retrieve` (see the module docstring).

    Configured in `endpoints.yml` as `type: bot.rasa_plugins.tracker_store.Incremental...`
    with the SQL store's own settings (`dialect`, `db`, `url`, `port`, `username`, ...).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        cached_conversations: int = CACHED_CONVERSATIONS,
        **kwargs: Any,
    ) -> None:
        self.cached_conversations = cached_conversations
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._handed_out: OrderedDict[str, _HandedOut] = OrderedDict()
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)
        if self.engine.url.get_backend_name() == "sqlite":
            url = self.engine.url
            self.engine.dispose()
            self.engine = create_crm_engine(url.render_as_string(hide_password=False))
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        """A new model's domain (the retrain job's `PUT /model`) may have other slots: every
        kept tracker was built with the old ones, so all are read again from their rows."""
        self._domain = domain or Domain.empty()
        self._cache.clear()
        self._handed_out.clear()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker, as Rasa's store gives it.

        The kept tracker is handed out itself and forgotten until `save` brings it back: a
        turn that fails before saving leaves nothing behind, and a tracker changed after its
        save (it holds more events than were saved) is not trusted.
        """
        cached = self._cache.pop(sender_id, None)
        if cached is None or len(cached.tracker.events) != cached.saved_events:
            return self._load(sender_id)
        with self.session_scope() as session:
            rows = (
                session.query(self.SQLEvent.id, self.SQLEvent.type_name, self.SQLEvent.data)
                .filter(
                    self.SQLEvent.sender_id == sender_id,
                    self.SQLEvent.id >= cached.newest_row,
                )
                .order_by(self.SQLEvent.id)
                .all()
            )
        still_there = bool(rows) and rows[0].id == cached.newest_row
        newer = rows[1:]
        if not still_there or any(row.type_name == SessionStarted.type_name for row in newer):
            return self._load(sender_id)
        for row in newer:
            event = Event.from_parameters(json.loads(row.data))
            if event is not None:  # an event type this Rasa does not know, skipped as Rasa does
                cached.tracker.update(event)
        return self._hand_out(cached.tracker, rows[-1].id)

    def _load(self, sender_id: str) -> DialogueStateTracker | None:
        """Rebuild the tracker from its session's rows, as Rasa does."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            found = [(row.id, json.loads(row.data)) for row in rows]
        if not found or not self.domain:
            return None
        events = [event for _, event in found]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return self._hand_out(tracker, found[-1][0])

    def _hand_out(self, tracker: DialogueStateTracker, newest_row: int) -> DialogueStateTracker:
        """Remember how many of its events are stored, so that its `save` needs no count."""
        self._handed_out[tracker.sender_id] = _HandedOut(
            weakref.ref(tracker), len(tracker.events), newest_row
        )
        self._handed_out.move_to_end(tracker.sender_id)
        while len(self._handed_out) > self.cached_conversations:
            self._handed_out.popitem(last=False)
        return tracker

    def _unsaved(self, tracker: DialogueStateTracker) -> tuple[list[Event], int | None]:
        """The tracker's events past those stored, and the newest row when it was handed
        out. A tracker this store did not hand out (None) is compared with the rows as Rasa
        does: by counting them."""
        handed_out = self._handed_out.pop(tracker.sender_id, None)
        if handed_out is not None and handed_out.tracker() is tracker:
            events = list(itertools.islice(tracker.events, handed_out.stored_events, None))
            return events, handed_out.newest_row
        with self.session_scope() as session:
            return list(self._additional_events(session, tracker)), None

    def _keep(self, tracker: DialogueStateTracker, newest_row: int) -> None:
        self._cache[tracker.sender_id] = _Cached(tracker, newest_row, len(tracker.events))
        while len(self._cache) > self.cached_conversations:
            self._cache.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stream the events not stored yet to the broker, then write them (Rasa's order).

        The tracker is kept for the next turn only when the conversation's rows are as they
        were when it was handed out: not when another writer added or deleted rows meanwhile
        (a lock that expired, an erasure), nor when this store did not hand it out.
        """
        sender_id = tracker.sender_id
        new_events, newest_when_handed_out = self._unsaved(tracker)
        await self._publish(sender_id, new_events)
        with self.session_scope() as session:
            newest_before = (
                session.query(sa.func.max(self.SQLEvent.id))
                .filter(self.SQLEvent.sender_id == sender_id)
                .scalar()
            )
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.commit()
            newest_row = rows[-1].id if rows else None
        untouched = newest_when_handed_out is not None and newest_before == newest_when_handed_out
        new_session = any(isinstance(event, SessionStarted) for event in new_events)
        if untouched and newest_row is not None and not new_session:
            self._keep(tracker, newest_row)

    async def _publish(self, sender_id: str, events: list[Event]) -> None:
        """A broker that takes a turn's events at once (the CRM's) gets them in a worker
        thread: its disk write then holds up this turn only, not every conversation."""
        if self.event_broker is None:
            return
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is None:
            await self._stream_new_events(self.event_broker, events, sender_id)
            return
        bodies = [{"sender_id": sender_id, **event.as_dict()} for event in events]
        await asyncio.to_thread(publish_many, bodies)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Done by `save`, which knows the new events without rebuilding the stored tracker."""

    def _row(self, sender_id: str, event: Event) -> SQLTrackerStore.SQLEvent:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )
