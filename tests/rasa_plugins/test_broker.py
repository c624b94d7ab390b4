"""The event broker: Rasa's turn only appends to the outbox; the relay stores each message
once, linked to the customer the server's claim names."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.crm.database import create_crm_engine
from bot.crm.enums import Sender
from bot.crm.store import CRMStore, NotFound
from bot.identity import make_claim
from bot.outbox.local import LocalOutbox
from bot.outbox.relay import StoreSink
from bot.rasa_plugins.broker import CRMEventBroker
from bot.settings import KeyPurpose, load_settings
from tests.outbox.events import SENT_AT, published

SECRET = "broker-test-secret"
CLAIM_KEY = "broker-claim-key"
SEEDED_CUSTOMER = 3
SETTLE_S = 10


def customer_says(conversation_id: str, text: str, claim: object = None) -> dict[str, Any]:
    event = UserUttered(
        text,
        intent={"name": "greet", "confidence": 0.91},
        input_channel="rest",
        metadata={"crm_customer": claim} if claim is not None else {},
        message_id=f"{conversation_id}-user",
        timestamp=SENT_AT,
    )
    return published(conversation_id, event)


def bot_says(conversation_id: str, text: str) -> dict[str, Any]:
    event = BotUttered(text, metadata={"utter_action": "utter_greet"}, timestamp=SENT_AT + 1)
    return published(conversation_id, event)


def broker_over(store: CRMStore, path: Path) -> CRMEventBroker:
    return CRMEventBroker(LocalOutbox(path), StoreSink(store, CLAIM_KEY))


@pytest.fixture
def broker(store: CRMStore, tmp_path: Path) -> Iterator[CRMEventBroker]:
    """A broker whose relay writes to `store` (closing the relay leaves the store open)."""
    relay_store = CRMStore(store.engine)
    relay_store.dispose = lambda: None  # type: ignore[method-assign]
    broker = broker_over(relay_store, tmp_path / "outbox" / "rasa-1.sqlite3")
    yield broker
    broker.relay.close()
    broker.outbox.close()


def settled(broker: CRMEventBroker) -> None:
    assert broker.relay.wait_idle(SETTLE_S), "the outbox did not drain"


@pytest.fixture
def unreachable_store(tmp_path: Path) -> Iterator[CRMStore]:
    """A store whose database cannot be opened (the path is a folder)."""
    store = CRMStore(create_crm_engine(f"sqlite:///{tmp_path}"))
    yield store
    store.dispose()


def test_a_customer_and_a_bot_message_land_once(store: CRMStore, broker: CRMEventBroker) -> None:
    user = customer_says("conv-1", "hello there")
    bot = bot_says("conv-1", "Hi! How can I help?")
    for event in (user, bot, user, bot):
        broker.publish(event)
    settled(broker)
    conversation = store.conversations.get("conv-1")
    assert [(message["sender"], message["text"]) for message in conversation["messages"]] == [
        (Sender.CUSTOMER, "hello there"),
        (Sender.BOT, "Hi! How can I help?"),
    ]
    customer_message = conversation["messages"][0]
    assert (customer_message["intent"], customer_message["channel"]) == ("greet", "rest")
    assert conversation["customer_id"] is None


def test_events_that_are_not_messages_are_not_even_kept(
    store: CRMStore, broker: CRMEventBroker
) -> None:
    broker.publish(published("conv-1", ActionExecuted("action_listen")))
    assert broker.outbox.head() == []
    with pytest.raises(NotFound):
        store.conversations.get("conv-1")


def test_the_servers_claim_links_the_customer(seeded_store: CRMStore, tmp_path: Path) -> None:
    claim = make_claim(CLAIM_KEY, "conv-1", SEEDED_CUSTOMER)
    broker = broker_over(CRMStore(seeded_store.engine), tmp_path / "rasa-1.sqlite3")
    broker.publish(customer_says("conv-1", "hi", claim))
    settled(broker)
    broker.relay.close()
    assert seeded_store.conversations.get("conv-1")["customer_id"] == SEEDED_CUSTOMER


@pytest.mark.parametrize(
    "claim",
    [
        make_claim("another-key", "conv-1", SEEDED_CUSTOMER),
        make_claim(CLAIM_KEY, "another-conversation", SEEDED_CUSTOMER),
        {**make_claim(CLAIM_KEY, "conv-1", SEEDED_CUSTOMER), "id": SEEDED_CUSTOMER + 1},
        {"id": SEEDED_CUSTOMER},
        "a-customer-token",
    ],
    ids=["forged", "other_conversation", "tampered", "unsigned", "not_a_claim"],
)
def test_a_claim_that_does_not_verify_links_no_one(
    seeded_store: CRMStore, tmp_path: Path, claim
) -> None:
    broker = broker_over(CRMStore(seeded_store.engine), tmp_path / "rasa-1.sqlite3")
    broker.publish(customer_says("conv-1", "hi", claim))
    settled(broker)
    broker.relay.close()
    conversation = seeded_store.conversations.get("conv-1")
    assert conversation["customer_id"] is None
    assert [message["text"] for message in conversation["messages"]] == ["hi"]


async def test_a_store_that_fails_neither_fails_nor_slows_rasas_save(
    unreachable_store: CRMStore, tmp_path: Path
) -> None:
    """As Rasa's agent wires it (SQL tracker store in a fail-safe wrapper): the turn is kept
    in the tracker at once, and the message waits in the outbox for the store."""
    broker = broker_over(unreachable_store, tmp_path / "outbox" / "rasa-1.sqlite3")
    tracker_store = FailSafeTrackerStore(
        SQLTrackerStore(
            Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker
        )
    )
    user = UserUttered("hi", intent={"name": "greet", "confidence": 0.91}, timestamp=SENT_AT)
    started = time.monotonic()
    await tracker_store.save(DialogueStateTracker.from_events("conv-1", [user]))
    assert time.monotonic() - started < 1.0
    kept = await tracker_store.retrieve("conv-1")
    assert kept is not None and kept.latest_message.text == "hi"
    [entry] = broker.outbox.head()
    assert (entry.conversation_id, entry.payload["text"]) == ("conv-1", "hi")
    assert broker.is_ready()
    await broker.close()
    assert len(broker.outbox.head()) == 1, "what could not be delivered stays on disk"


async def test_from_endpoint_config_uses_the_url_else_the_database_setting(
    store: CRMStore, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRM_SECRET_KEY", SECRET)
    monkeypatch.setenv("RASA_PORT", "5291")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'not-this-one.sqlite3'}")
    from_url = await CRMEventBroker.from_endpoint_config(EndpointConfig(url=database_url))
    assert from_url.outbox.path == (tmp_path / "var" / "outbox" / "rasa-5291.sqlite3").resolve()
    from_url.publish(customer_says("conv-url", "hi"))
    await from_url.close()
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    from_settings = await CRMEventBroker.from_endpoint_config(None)
    from_settings.publish(customer_says("conv-settings", "hi"))
    await from_settings.close()
    sink = from_url.relay.sink
    assert isinstance(sink, StoreSink)
    assert sink.claim_key == load_settings().key_for(KeyPurpose.CUSTOMER_CLAIM)
    conversations, _ = store.conversations.list()
    assert {conversation["id"] for conversation in conversations} == {"conv-url", "conv-settings"}


def test_a_button_press_is_stored_with_the_label_the_bot_offered(
    store: CRMStore, broker: CRMEventBroker
) -> None:
    offer = BotUttered(
        "How did we do?",
        data={"buttons": [{"title": "Great", "payload": '/csat_score{"score": 5}'}]},
        timestamp=SENT_AT,
    )
    broker.publish(published("conv-1", offer))
    broker.publish(customer_says("conv-1", '/csat_score{"score": 5}'))
    broker.publish(customer_says("conv-2", "/greet"))
    broker.publish(customer_says("conv-3", '/csat_score{"score": 4}'))
    settled(broker)
    texts = [message["text"] for message in store.conversations.get("conv-1")["messages"]]
    assert texts == ["How did we do?", "Great"]
    # Offered nowhere: a bare intent payload reads as the intent's title (bot/buttons.py); one
    # with entities stays as typed, since the title would hide them.
    assert store.conversations.get("conv-2")["messages"][0]["text"] == "Saying hello"
    stored = store.conversations.get("conv-3")["messages"][0]["text"]
    assert stored == '/csat_score{"score": 4}'


def test_the_rating_trigger_is_not_stored(store: CRMStore, broker: CRMEventBroker) -> None:
    broker.publish(published("conv-1", UserUttered.create_external("give_feedback")))
    settled(broker)
    with pytest.raises(NotFound):
        store.conversations.get("conv-1")
