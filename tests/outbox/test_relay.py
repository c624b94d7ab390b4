"""The relay against real stores: order, exactly once, outages, bad entries, restarts."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import Sender
from bot.crm.store import CRMStore, MessageRecord
from bot.outbox.apply import record_from_json, record_to_json
from bot.outbox.local import Entry, EntryKind, LocalOutbox
from bot.outbox.relay import IDLE_WAKE_S, Relay
from tests.conftest import POSTGRES_ENV
from tests.outbox.conftest import refuse_connections, start_relay, wait_for_retries
from tests.outbox.events import texts, turns


def stored(store: CRMStore, conversation_id: str) -> list[str]:
    return [message["text"] for message in store.conversations.get(conversation_id)["messages"]]


def append_all(outbox: LocalOutbox, events: list[dict]) -> None:
    for event in events:
        outbox.append(EntryKind.EVENT, event["sender_id"], event)


def test_entries_land_in_order_exactly_once_without_polling_delay(
    outbox: LocalOutbox, store: CRMStore, database_url: str
) -> None:
    relay = start_relay(outbox, database_url)
    try:
        assert relay.wait_idle(5)
        time.sleep(0.3)  # the relay is asleep, waiting for an append
        started = time.monotonic()
        outbox.append(EntryKind.EVENT, "conv", turns("conv", 1)[0])
        assert relay.wait_idle(5)
        assert time.monotonic() - started < 1.0
        events = turns("conv", 5)
        append_all(outbox, events + events)  # a redelivery changes nothing
        assert relay.wait_idle(10)
    finally:
        relay.close()
    assert stored(store, "conv") == texts(events)
    assert outbox.head() == []


def test_a_locked_sqlite_store_delays_entries_and_loses_none(
    outbox: LocalOutbox, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    migrate(url)
    store = CRMStore(create_crm_engine(url))
    relay = start_relay(outbox, url)
    lock = sqlite3.connect(tmp_path / "crm.sqlite3", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        events = turns("locked", 4)
        started = time.monotonic()
        append_all(outbox, events)
        assert time.monotonic() - started < 1.0, "appending must not wait for the store"
        time.sleep(1.5)
        assert len(outbox.head()) == len(events)
        lock.execute("COMMIT")
        assert relay.wait_idle(20)
        assert stored(store, "locked") == texts(events)
    finally:
        lock.close()
        relay.close()
        store.dispose()


def test_postgres_refusing_connections_delays_entries_and_loses_none(
    outbox: LocalOutbox, own_postgres: str
) -> None:
    base_url, database = os.environ[POSTGRES_ENV], make_url(own_postgres).database
    store = CRMStore(create_crm_engine(own_postgres))
    relay = start_relay(outbox, own_postgres)
    try:
        before = turns("pg", 2)
        append_all(outbox, before)
        assert relay.wait_idle(10)
        refuse_connections(base_url, database, refuse=True)
        during = turns("pg", 6)[4:]
        append_all(outbox, during)
        wait_for_retries(relay)
        assert len(outbox.head()) == len(during)
        refuse_connections(base_url, database, refuse=False)
        assert relay.wait_idle(20)
        assert stored(store, "pg") == texts(before + during)
    finally:
        refuse_connections(base_url, database, refuse=False)
        relay.close()
        store.dispose()


def test_an_entry_that_cannot_be_applied_is_set_aside_and_the_rest_goes_on(
    outbox: LocalOutbox, store: CRMStore, database_url: str
) -> None:
    outbox.append(EntryKind.MESSAGE, "bad", {"sender": "nobody", "conversation_id": "bad"})
    events = turns("good", 2)
    append_all(outbox, events)
    relay = start_relay(outbox, database_url)
    try:
        assert relay.wait_idle(10)
    finally:
        relay.close()
    assert stored(store, "good") == texts(events)
    with outbox._transaction() as connection:
        [(conversation, error)] = connection.execute("SELECT conversation_id, error FROM dead")
    assert conversation == "bad" and "nobody" in error


def test_a_restarted_relay_delivers_what_an_earlier_process_left(
    tmp_path: Path, store: CRMStore, database_url: str
) -> None:
    path = tmp_path / "outbox" / "rasa-1.sqlite3"
    events = turns("left", 3)
    earlier = LocalOutbox(path)
    append_all(earlier, events)
    earlier.close()
    later = LocalOutbox(path)
    relay = start_relay(later, database_url)
    try:
        assert relay.wait_idle(10)
    finally:
        relay.close()
        later.close()
    assert stored(store, "left") == texts(events)


def test_a_message_the_channel_wrote_is_stored_as_written_once(
    outbox: LocalOutbox, store: CRMStore, database_url: str
) -> None:
    record = MessageRecord(
        conversation_id="notice",
        event_key="notice-1",
        seq=1.0,
        sender=Sender.BOT,
        text="You're number 1 in the queue",
        created_at=datetime(2026, 11, 30, tzinfo=timezone.utc),
        data={"queue_notice": True},
    )
    outbox.append(EntryKind.MESSAGE, "notice", record_to_json(record))
    outbox.append(EntryKind.MESSAGE, "notice", record_to_json(record))
    relay = start_relay(outbox, database_url)
    try:
        assert relay.wait_idle(10)
    finally:
        relay.close()
    [message] = store.conversations.get("notice")["messages"]
    assert (message["sender"], message["text"], message["data"]) == (
        Sender.BOT,
        "You're number 1 in the queue",
        {"queue_notice": True},
    )


class CountingSink:
    """Records what each relay delivered, to see that no entry goes out twice."""

    def __init__(self) -> None:
        self.delivered: list[int] = []

    def deliver(self, entry: Entry) -> None:
        self.delivered.append(entry.id)

    def close(self) -> None:
        pass


def wait_until_someone_drains(path: Path, timeout: float = 10) -> None:
    """Until a relay holds the file's lock: an idle outbox says nothing about who started."""
    deadline = time.monotonic() + timeout
    while True:
        probe = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        finally:
            os.close(probe)  # releases the probe's own lock when it got one
        assert time.monotonic() < deadline, "no relay took the outbox file"
        time.sleep(0.01)


def test_two_relays_on_one_file_take_turns_and_deliver_each_entry_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "rasa-1.sqlite3"
    first_box, second_box = LocalOutbox(path), LocalOutbox(path)
    first_sink, second_sink = CountingSink(), CountingSink()
    first, second = Relay(first_box, first_sink), Relay(second_box, second_sink)
    try:
        first.start()
        wait_until_someone_drains(path)
        second.start()
        ids = [first_box.append(EntryKind.EVENT, "conv", {"n": n}) for n in range(20)]
        assert first.wait_idle(10)
        assert (first_sink.delivered, second_sink.delivered) == (ids, [])
        first.close()
        later = second_box.append(EntryKind.EVENT, "conv", {"n": 20})
        assert second.wait_idle(IDLE_WAKE_S + 5), "the waiting relay did not take over"
        assert second_sink.delivered == [later]
    finally:
        first.close()
        second.close()
        first_box.close()
        second_box.close()


def test_a_message_payload_cannot_name_a_customer() -> None:
    """Only a claim the applier checks links a message to a customer, not a payload field."""
    record = MessageRecord(
        conversation_id="forged",
        event_key="forged-1",
        seq=1.0,
        sender=Sender.CUSTOMER,
        text="hello",
        created_at=datetime(2026, 11, 30, tzinfo=timezone.utc),
        customer_id=3,
    )
    assert record_to_json(record)["customer_id"] == 3
    assert record_from_json(record_to_json(record)).customer_id is None


class FailingAtSink(CountingSink):
    """Delivers until the entry with payload `n == fail_at`, which fails while `failing`."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.failing = True

    def deliver(self, entry: Entry) -> None:
        if self.failing and entry.payload["n"] == self.fail_at:
            raise OSError("the store is down")
        super().deliver(entry)


def test_a_pass_that_fails_midway_forgets_what_it_delivered_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    outbox = LocalOutbox(tmp_path / "rasa-1.sqlite3")
    sink = FailingAtSink(fail_at=3)
    ids = outbox.append_many(EntryKind.EVENT, [("conv", {"n": n}) for n in range(6)])
    relay = Relay(outbox, sink)
    try:
        relay._pass()
        assert sink.delivered == ids[:3]
        assert [entry.id for entry in outbox.head()] == ids[3:]
        sink.failing = False
        relay._pass()
        assert sink.delivered == ids
        assert outbox.head() == []
    finally:
        outbox.close()
