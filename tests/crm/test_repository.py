"""The CRM repository on SQLite and PostgreSQL: idempotent messages, order, paging, cards, staff."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.crm.repository import CRMRepository, InvalidCursor, MessageRecord, NotFound

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def record(conversation: str, key: str, seconds: float, sender: str = "customer", **extra):
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


def test_a_message_delivered_twice_is_stored_once(repository: CRMRepository) -> None:
    first = record("c1", "k1", 0, intent="greet", confidence=0.9, channel="rest")
    assert repository.record_message(first) is True
    assert repository.record_message(first) is False
    messages = repository.get_conversation("c1")["messages"]
    assert [(m["sender"], m["intent"], m["confidence"]) for m in messages] == [
        ("customer", "greet", 0.9)
    ]


def test_messages_come_back_in_event_order(repository: CRMRepository) -> None:
    for key, seconds, sender in [("b", 2, "bot"), ("a", 1, "customer"), ("c", 3, "customer")]:
        repository.record_message(record("c1", key, seconds, sender))
    conversation = repository.get_conversation("c1")
    assert [m["text"] for m in conversation["messages"]] == [
        "customer says a",
        "bot says b",
        "customer says c",
    ]
    assert conversation["last_message_at"] == "2026-11-20T09:00:03Z"
    assert conversation["started_at"] == "2026-11-20T09:00:01Z"


def test_entities_and_bot_data_round_trip(repository: CRMRepository) -> None:
    entity = {"entity": "card_last_four", "value": "1234", "start": 11, "end": 15}
    repository.record_message(record("c1", "k1", 0, entities=[entity]))
    buttons = {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    repository.record_message(record("c1", "k2", 1, "bot", data=buttons))
    customer, bot = repository.get_conversation("c1")["messages"]
    assert customer["entities"] == [entity]
    assert bot["data"] == buttons


def test_the_first_known_customer_is_linked_to_the_conversation(
    seeded_repository: CRMRepository,
) -> None:
    seeded_repository.record_message(record("c1", "k1", 0))
    seeded_repository.record_message(record("c1", "k2", 1, customer_id=3))
    seeded_repository.record_message(record("c1", "k3", 2, customer_id=4))
    assert seeded_repository.get_conversation("c1")["customer_id"] == 3


def test_unknown_conversation_raises_not_found(repository: CRMRepository) -> None:
    with pytest.raises(NotFound):
        repository.get_conversation("missing")


def test_conversations_page_newest_first_with_a_cursor(repository: CRMRepository) -> None:
    for index in range(5):
        repository.record_message(record(f"c{index}", f"k{index}", index * 10))
    page, cursor = repository.list_conversations(limit=2)
    assert [c["id"] for c in page] == ["c4", "c3"]
    page, cursor = repository.list_conversations(limit=2, cursor=cursor)
    assert [c["id"] for c in page] == ["c2", "c1"]
    page, cursor = repository.list_conversations(limit=2, cursor=cursor)
    assert [c["id"] for c in page] == ["c0"]
    assert cursor is None
    assert page[0]["message_count"] == 1


def test_conversations_filter_by_customer(seeded_repository: CRMRepository) -> None:
    seeded_repository.record_message(record("mine", "k1", 0, customer_id=2))
    seeded_repository.record_message(record("other", "k2", 1, customer_id=5))
    page, _ = seeded_repository.list_conversations(customer_id=2)
    assert [c["id"] for c in page] == ["mine"]


def test_a_forged_cursor_is_rejected(repository: CRMRepository) -> None:
    with pytest.raises(InvalidCursor):
        repository.list_conversations(cursor="not-a-cursor!")


def test_blocking_a_card_only_touches_that_customers_unblocked_card(
    seeded_repository: CRMRepository,
) -> None:
    card = next(c for c in seeded_repository.customer_cards(1) if c.status != "blocked")
    other = next(
        customer_id
        for customer_id in range(2, 21)
        if card.last_four
        not in {c.last_four for c in seeded_repository.customer_cards(customer_id)}
    )
    assert seeded_repository.block_card(other, card.last_four, "not their card") is None
    before = {c.id: c.status for c in seeded_repository.customer_cards(1)}

    blocked = seeded_repository.block_card(1, card.last_four, "reported lost")

    assert blocked is not None and blocked.id == card.id and blocked.status == "blocked"
    after = {c.id: c.status for c in seeded_repository.customer_cards(1)}
    assert after == {**before, card.id: "blocked"}
    assert seeded_repository.block_card(1, card.last_four, "again") is None


def test_recent_card_payments_are_newest_first(seeded_repository: CRMRepository) -> None:
    payments = seeded_repository.recent_card_payments(1, limit=5)
    assert payments, "the demo customer has card payments"
    times = [p["created_at"] for p in payments]
    assert times == sorted(times, reverse=True)
    assert all(p["amount_cents"] < 0 for p in payments)


def test_staff_accounts_authenticate_by_password(repository: CRMRepository) -> None:
    created = repository.create_staff("ana", "correct horse battery", "agent")
    assert repository.authenticate("ana", "correct horse battery") == created
    assert repository.authenticate("ana", "wrong password") is None
    assert repository.authenticate("nobody", "correct horse battery") is None
    with pytest.raises(ValueError, match="already exists"):
        repository.create_staff("ana", "another password", "agent")
    with pytest.raises(ValueError, match="role"):
        repository.create_staff("bob", "another password", "owner")


def test_tickets_are_linked_to_their_conversation(repository: CRMRepository) -> None:
    ticket_id = repository.create_ticket(
        kind="handoff",
        subject="Customer asked for a person",
        text="agent please",
        conversation_id="c9",
    )
    assert repository.tickets_for_conversation("c9") == [
        {
            "id": ticket_id,
            "kind": "handoff",
            "status": "open",
            "subject": "Customer asked for a person",
            "text": "agent please",
            "customer_id": None,
        }
    ]
    assert repository.get_conversation("c9")["handoff"] == {
        "ticket_id": ticket_id,
        "status": "open",
        "assigned_to": None,
    }
