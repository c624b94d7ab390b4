"""Conversations on SQLite and PostgreSQL: idempotent messages, order, customers, paging."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.crm.enums import ContactChannel, Sender
from bot.crm.models import Contact
from bot.crm.store import CRMStore, InvalidCursor, MessageRecord, NotFound
from bot.crm.store.base import as_utc

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def record(
    conversation: str, key: str, seconds: float, sender: Sender = Sender.CUSTOMER, **extra
) -> MessageRecord:
    at = T0 + timedelta(seconds=seconds)
    return MessageRecord(
        conversation_id=conversation,
        event_key=key,
        seq=at.timestamp(),
        sender=sender,
        text=f"{sender} says {key}",
        created_at=at,
        **extra,
    )


def test_a_message_delivered_twice_is_stored_once(store: CRMStore) -> None:
    first = record("c1", "k1", 0, intent="greet", confidence=0.9, channel="rest")
    assert store.conversations.record_message(first) is True
    assert store.conversations.record_message(first) is False
    messages = store.conversations.get("c1")["messages"]
    assert [(m["sender"], m["intent"], m["confidence"]) for m in messages] == [
        ("customer", "greet", 0.9)
    ]


def test_messages_come_back_in_event_order(store: CRMStore) -> None:
    for key, seconds, sender in [
        ("b", 2, Sender.BOT),
        ("a", 1, Sender.CUSTOMER),
        ("c", 3, Sender.CUSTOMER),
    ]:
        store.conversations.record_message(record("c1", key, seconds, sender))
    conversation = store.conversations.get("c1")
    assert [m["text"] for m in conversation["messages"]] == [
        "customer says a",
        "bot says b",
        "customer says c",
    ]
    assert conversation["last_message_at"] == "2026-11-20T09:00:03Z"
    assert conversation["started_at"] == "2026-11-20T09:00:01Z"


def test_entities_and_bot_data_round_trip(store: CRMStore) -> None:
    entity = {"entity": "card_last_four", "value": "1234", "start": 11, "end": 15}
    store.conversations.record_message(record("c1", "k1", 0, entities=[entity]))
    buttons = {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    store.conversations.record_message(record("c1", "k2", 1, Sender.BOT, data=buttons))
    customer, bot = store.conversations.get("c1")["messages"]
    assert customer["entities"] == [entity]
    assert bot["data"] == buttons


def test_the_first_known_customer_is_linked_to_the_conversation(seeded_store: CRMStore) -> None:
    seeded_store.conversations.record_message(record("c1", "k1", 0))
    seeded_store.conversations.record_message(record("c1", "k2", 1, customer_id=3))
    seeded_store.conversations.record_message(record("c1", "k3", 2, customer_id=4))
    assert seeded_store.conversations.get("c1")["customer_id"] == 3


def contacts_since(store: CRMStore, since: datetime) -> list[tuple[int, str]]:
    """(customer, channel) of the contacts recorded at or after `since`."""
    with Session(store.engine) as session:
        rows = session.execute(
            select(Contact.customer_id, Contact.channel, Contact.at).order_by(Contact.id)
        ).all()
    return [(customer, channel) for customer, channel, at in rows if as_utc(at) >= since]


def test_binding_records_one_chat_contact_per_conversation(seeded_store: CRMStore) -> None:
    started = datetime.now(timezone.utc).replace(microsecond=0)
    conversations = seeded_store.conversations
    conversations.record_message(record("anonymous", "k1", 0))

    assert conversations.bind("fresh", 3) == 3
    assert conversations.bind("fresh", 3) == 3, "a re-bind adds nothing"
    assert conversations.bind("fresh", 4) == 3, "a refused bind adds nothing"
    assert conversations.bind("anonymous", 4) == 4
    assert conversations.bind("anonymous", 4) == 4

    assert contacts_since(seeded_store, started) == [
        (3, ContactChannel.CHAT.value),
        (4, ContactChannel.CHAT.value),
    ]


def test_unknown_conversation_raises_not_found(store: CRMStore) -> None:
    with pytest.raises(NotFound):
        store.conversations.get("missing")


def test_conversations_page_newest_first_with_a_cursor(store: CRMStore) -> None:
    for index in range(5):
        store.conversations.record_message(record(f"c{index}", f"k{index}", index * 10))
    page, cursor = store.conversations.list(limit=2)
    assert [c["id"] for c in page] == ["c4", "c3"]
    page, cursor = store.conversations.list(limit=2, cursor=cursor)
    assert [c["id"] for c in page] == ["c2", "c1"]
    page, cursor = store.conversations.list(limit=2, cursor=cursor)
    assert [c["id"] for c in page] == ["c0"]
    assert cursor is None
    assert page[0]["message_count"] == 1


def test_conversations_filter_by_customer(seeded_store: CRMStore) -> None:
    seeded_store.conversations.record_message(record("mine", "k1", 0, customer_id=2))
    seeded_store.conversations.record_message(record("other", "k2", 1, customer_id=5))
    page, _ = seeded_store.conversations.list(customer_id=2)
    # The seed gives customers past conversations ("seed-..."), each with its handoff.
    assert [c["id"] for c in page if not c["id"].startswith("seed-")] == ["mine"]
    assert {c["customer_id"] for c in page} == {2}


def test_a_forged_cursor_is_rejected(store: CRMStore) -> None:
    with pytest.raises(InvalidCursor):
        store.conversations.list(cursor="not-a-cursor!")
