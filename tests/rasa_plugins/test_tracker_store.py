"""The incremental tracker store against real SQLite and PostgreSQL, created by Rasa's own
loader from the endpoints we render: it gives what Rasa's `SQLTrackerStore` gives on the
same rows, reads only new rows once it knows a conversation, and never serves what an
erasure deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.crm.tracker_purge import purge_tracker_events
from bot.endpoints import TRACKER_STORE, render_endpoints
from bot.rasa_plugins.tracker_store import IncrementalSQLTrackerStore
from bot.settings import load_settings

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, ask_fee]
slots:
  topic:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hello}]
"""
)


class RecordingBroker(EventBroker):
    """Keeps what the store streams, as the CRM broker would append it to its outbox."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def turn(number: int) -> list[Event]:
    text = f"question {number}"
    return [
        UserUttered(text, {"name": "ask_fee", "confidence": 0.9}),
        SlotSet("topic", f"fees {number}"),
        ActionExecuted("utter_greet"),
        BotUttered(f"answer {number}"),
        ActionExecuted("action_listen"),
    ]


def session_start() -> list[Event]:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]


def open_store(url: str, broker: EventBroker | None = None) -> IncrementalSQLTrackerStore:
    settings = load_settings({"CRM_SECRET_KEY": "any", "RASA_TRACKER_URL": url})
    config = render_endpoints(settings)["tracker_store"]
    assert config["type"] == TRACKER_STORE
    store = TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN, broker)
    assert isinstance(store, IncrementalSQLTrackerStore)
    return store


def rasa_store(url: str) -> SQLTrackerStore:
    config = {
        **render_endpoints(load_settings({"CRM_SECRET_KEY": "any", "RASA_TRACKER_URL": url}))[
            "tracker_store"
        ],
        "type": "SQL",
    }
    return TrackerStore.create(EndpointConfig.from_dict(config), DOMAIN)


async def take_turn(store: TrackerStore, sender: str, events: list[Event]) -> None:
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)


def events_of(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


@pytest.fixture
def count_rebuilds(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    rebuilds: list[str] = []
    original = DialogueStateTracker.from_dict

    def counting(sender_id: str, *args: Any, **kwargs: Any) -> DialogueStateTracker:
        rebuilds.append(sender_id)
        return original(sender_id, *args, **kwargs)

    monkeypatch.setattr(DialogueStateTracker, "from_dict", staticmethod(counting))
    return lambda: len(rebuilds)


async def test_a_long_conversation_is_rebuilt_once_and_read_as_rasas_store_reads_it(
    database_url: str, count_rebuilds: Callable[[], int]
) -> None:
    broker = RecordingBroker()
    store = open_store(database_url, broker)
    await take_turn(store, "long", session_start())
    for number in range(40):
        await take_turn(store, "long", turn(number))
    tracker = await store.retrieve("long")
    assert tracker is not None and tracker.get_slot("topic") == "fees 39"
    assert events_of(tracker) == events_of(await rasa_store(database_url).retrieve("long"))
    assert count_rebuilds() == 2  # the first turn's load, and the one after the session began
    streamed = [(e["event"], e.get("text")) for e in broker.published]
    every_row = events_of(await rasa_store(database_url).retrieve_full_tracker("long"))
    assert streamed == [(e["event"], e.get("text")) for e in every_row]


async def test_two_servers_see_each_others_turns(database_url: str) -> None:
    first, second = open_store(database_url), open_store(database_url)
    await take_turn(first, "shared", session_start())
    for number in range(6):
        await take_turn((first, second)[number % 2], "shared", turn(number))
    for store in (first, second):
        tracker = await store.retrieve("shared")
        assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
            f"question {n}" for n in range(6)
        ]
    assert events_of(await first.retrieve("shared")) == events_of(
        await rasa_store(database_url).retrieve("shared")
    )


async def test_a_new_session_written_by_another_server_replaces_the_kept_one(
    database_url: str,
) -> None:
    first, second = open_store(database_url), open_store(database_url)
    await take_turn(first, "restart", session_start() + turn(1))
    await first.retrieve("restart")
    tracker = await second.retrieve("restart")
    assert tracker is not None
    restarted = DialogueStateTracker.from_events("restart", session_start() + turn(2), DOMAIN.slots)
    for event in restarted.events:
        tracker.update(event)
    await second.save(tracker)
    texts = [e.text for e in (await first.retrieve("restart")).events if isinstance(e, UserUttered)]
    assert texts == ["question 2"]


async def test_an_erased_conversation_is_not_served_from_memory_nor_written_back(
    database_url: str,
) -> None:
    store = open_store(database_url)
    await take_turn(store, "erased", session_start() + turn(1))
    assert await store.retrieve("erased") is not None
    assert purge_tracker_events(database_url, ["erased"]) == 8
    assert await store.retrieve("erased") is None
    await take_turn(store, "erased", session_start() + turn(2))
    texts = [
        e["text"]
        for e in events_of(await rasa_store(database_url).retrieve("erased"))
        if e["event"] == "user"
    ]
    assert texts == ["question 2"]


async def test_a_turn_that_failed_before_saving_leaves_nothing_behind(database_url: str) -> None:
    store = open_store(database_url)
    await take_turn(store, "failed", session_start() + turn(1))
    half_done = await store.retrieve("failed")
    for event in turn(2):
        half_done.update(event)
    again = await store.retrieve("failed")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["question 1"]


async def test_conversations_past_the_memory_bound_are_read_from_their_rows(
    database_url: str,
) -> None:
    store = open_store(database_url)
    store.cached_conversations = 2
    senders = [f"bounded-{n}" for n in range(5)]
    for number, sender in enumerate(senders):
        await take_turn(store, sender, session_start() + turn(number))
    assert len(store._cache) <= 2
    for number, sender in enumerate(senders):
        tracker = await store.retrieve(sender)
        assert tracker.get_slot("topic") == f"fees {number}"


async def test_a_tracker_changed_after_its_save_is_read_again_from_its_rows(
    database_url: str,
) -> None:
    store = open_store(database_url)
    await take_turn(store, "changed", session_start() + turn(1))
    await take_turn(store, "changed", turn(2))
    saved = await store.retrieve("changed")
    await store.save(saved)
    saved.update(UserUttered("never saved"))
    again = await store.retrieve("changed")
    assert again is not saved
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == [
        "question 1",
        "question 2",
    ]


class BatchBroker(RecordingBroker):
    """Takes a turn's events at once, as the CRM broker does."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        self.batches.append(len(events))
        self.published.extend(events)


async def test_a_broker_that_takes_a_turn_at_once_gets_each_turn_once(database_url: str) -> None:
    broker = BatchBroker()
    store = open_store(database_url, broker)
    await take_turn(store, "batched", session_start() + turn(1))
    await take_turn(store, "batched", turn(2))
    assert broker.batches == [8, 5]
    texts = [e.get("text") for e in broker.published if e["event"] == "user"]
    assert texts == ["question 1", "question 2"]
    assert {e["sender_id"] for e in broker.published} == {"batched"}


async def test_a_turn_on_a_tracker_it_handed_out_counts_no_rows(database_url: str) -> None:
    store = open_store(database_url)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lower())

    await take_turn(store, "counted", session_start() + turn(1))
    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        for number in range(2, 6):
            await take_turn(store, "counted", turn(number))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "count(" in s]
    stored = events_of(await rasa_store(database_url).retrieve("counted"))
    assert [e["text"] for e in stored if e["event"] == "user"] == [
        f"question {n}" for n in range(1, 6)
    ]


async def test_a_tracker_it_did_not_hand_out_is_saved_past_the_rows_it_counts(
    database_url: str,
) -> None:
    store = open_store(database_url)
    await take_turn(store, "foreign", session_start() + turn(1))
    foreign = await rasa_store(database_url).retrieve("foreign")
    for event in turn(2):
        foreign.update(event)
    await store.save(foreign)
    stored = events_of(await rasa_store(database_url).retrieve("foreign"))
    assert [e["text"] for e in stored if e["event"] == "user"] == ["question 1", "question 2"]


async def test_a_new_models_domain_reads_every_conversation_again(database_url: str) -> None:
    store = open_store(database_url)
    await take_turn(store, "retrained", session_start() + turn(1))
    await take_turn(store, "retrained", turn(2))
    assert store._cache
    store.domain = Domain.from_dict(
        {
            **DOMAIN.as_dict(),
            "slots": {
                **DOMAIN.as_dict()["slots"],
                "tier": {"type": "text", "mappings": [{"type": "custom"}]},
            },
        }
    )
    tracker = await store.retrieve("retrained")
    assert "tier" in tracker.slots
    assert tracker.get_slot("topic") == "fees 2"


async def test_rows_erased_during_a_turn_are_not_kept_in_memory_after_its_save(
    database_url: str,
) -> None:
    store = open_store(database_url)
    await take_turn(store, "erased-midway", session_start() + turn(1))
    await take_turn(store, "erased-midway", turn(2))
    tracker = await store.retrieve("erased-midway")
    purge_tracker_events(database_url, ["erased-midway"])
    for event in turn(3):
        tracker.update(event)
    await store.save(tracker)
    again = await store.retrieve("erased-midway")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["question 3"]


async def test_a_turn_written_by_another_server_meanwhile_is_read_after_the_save(
    database_url: str,
) -> None:
    first, second = open_store(database_url), open_store(database_url)
    await take_turn(first, "overlap", session_start() + turn(1))
    await take_turn(first, "overlap", turn(2))
    slow = await first.retrieve("overlap")
    await take_turn(second, "overlap", turn(3))
    for event in turn(4):
        slow.update(event)
    await first.save(slow)
    texts = [e.text for e in (await first.retrieve("overlap")).events if isinstance(e, UserUttered)]
    assert texts == ["question 1", "question 2", "question 3", "question 4"]
