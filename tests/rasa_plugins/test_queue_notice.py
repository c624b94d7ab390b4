"""A customer waiting for a person is never met with silence: the channel tells their place."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage

from bot.crm.database import create_crm_engine
from bot.crm.enums import HandoffReason, Sender, StaffRole
from bot.crm.store import CRMStore, MessageRecord
from bot.crm.store.handoffs import MINUTES_PER_PLACE
from bot.outbox.local import LocalOutbox
from bot.outbox.relay import Relay, StoreSink
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import CustomerRateLimits
from bot.rasa_plugins.queue_notice import CLOSED_NOTICE, queue_notice
from bot.rasa_plugins.rest_channel import RestWebhook
from bot.rasa_plugins.socketio_channel import CountingOutput


def queue(store: CRMStore, conversation_id: str, priority: int = 3) -> int:
    return store.handoffs.open(
        conversation_id=conversation_id,
        customer_id=None,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=priority,
        subject="Customer asked for a person",
        text="a person please",
        packet={},
    )


@pytest.fixture(autouse=True)
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalOutbox]:
    """This process's outbox, in the test's own var dir (the channels use the default one)."""
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CRM_SECRET_KEY", "queue-notice-secret")
    monkeypatch.setenv("RASA_PORT", "5292")
    box = LocalOutbox(tmp_path / "var" / "outbox" / "rasa-5292.sqlite3")
    yield box
    box.close()


def test_a_queued_customer_hears_their_place_and_the_wait(
    store: CRMStore, outbox: LocalOutbox
) -> None:
    queue(store, "first")
    queue(store, "urgent", priority=1)
    notice = queue_notice(store, "first", outbox)
    assert notice is not None
    assert "number 2 in the queue" in notice
    assert f"about {2 * MINUTES_PER_PLACE} minutes" in notice
    assert "number 1 in the queue" in (queue_notice(store, "urgent", outbox) or "")


def test_the_notice_reaches_the_transcript_the_agent_reads_through_the_outbox(
    store: CRMStore, outbox: LocalOutbox
) -> None:
    queue(store, "waiting")
    notice = queue_notice(store, "waiting", outbox)
    assert [message["sender"] for message in store.conversations.get("waiting")["messages"]] == []
    store_of_relay = CRMStore(store.engine)
    store_of_relay.dispose = lambda: None  # type: ignore[method-assign]
    relay = Relay(outbox, StoreSink(store_of_relay, "claim-key"))
    relay.start()
    assert relay.wait_idle(10)
    relay.close()
    [message] = store.conversations.get("waiting")["messages"]
    assert (message["sender"], message["text"]) == ("bot", notice)
    assert message["data"] == {"queue_notice": True}


def test_no_notice_outside_the_queue(store: CRMStore, outbox: LocalOutbox) -> None:
    """Not handed over: nothing to say. Claimed: the agent answers, not the channel."""
    assert queue_notice(store, "never-queued", outbox) is None
    ticket = queue(store, "claimed")
    agent = store.staff.create("queue-agent", "queue-agent-password", StaffRole.AGENT)
    store.handoffs.claim(ticket, agent.id)
    assert queue_notice(store, "claimed", outbox) is None
    assert outbox.head() == []


def test_a_customer_writing_after_staff_closed_the_conversation_is_told_so(
    store: CRMStore, outbox: LocalOutbox
) -> None:
    """Resolved with `return_to_bot: false`: the bot stays paused, so the channel must speak."""
    store.conversations.record_message(
        MessageRecord(
            conversation_id="closed",
            event_key="closed-1",
            seq=1.0,
            sender=Sender.CUSTOMER,
            text="a person please",
            created_at=datetime.now(timezone.utc),
        )
    )
    ticket = queue(store, "closed")
    agent = store.staff.create("closing-agent", "closing-agent-password", StaffRole.AGENT)
    store.handoffs.claim(ticket, agent.id)
    store.handoffs.resolve(ticket, agent.id, "sorted by phone", return_to_bot=False)
    assert queue_notice(store, "closed", outbox) == CLOSED_NOTICE
    [entry] = outbox.head()
    assert entry.conversation_id == "closed"


def test_no_notice_and_no_error_when_the_queue_cannot_be_read(
    tmp_path: Path, outbox: LocalOutbox
) -> None:
    unreadable = CRMStore(create_crm_engine(f"sqlite:///{tmp_path}"))
    assert queue_notice(unreadable, "waiting", outbox) is None
    unreadable.dispose()


class PausedRasa:
    """Rasa with the conversation paused: takes the message, says nothing."""

    async def __call__(self, message: UserMessage) -> None:
        return None


class AnsweringRasa:
    async def __call__(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Hi!")


def webhook(store: CRMStore, rasa: object) -> RestWebhook:
    return RestWebhook(CustomerGate(store, "token-key", "claim-key"), CustomerRateLimits(), rasa)


def body(sender: str, text: str) -> bytes:
    return json.dumps({"sender": sender, "message": text}).encode()


async def test_the_rest_channel_acknowledges_a_queued_customer(
    store: CRMStore, outbox: LocalOutbox
) -> None:
    """The channel appends to this process's outbox (the one the event broker relays)."""
    queue(store, "waiting")
    reply = await webhook(store, PausedRasa()).handle(body("waiting", "hello?"), "10.0.0.1")
    [notice] = json.loads(reply.body)
    assert notice["recipient_id"] == "waiting"
    assert re.search(
        r"number 1 in the queue; the expected wait is about \d+ minutes", notice["text"]
    )
    [entry] = outbox.head()
    assert (entry.conversation_id, entry.payload["text"]) == ("waiting", notice["text"])


async def test_the_rest_channel_adds_nothing_when_the_bot_answered(store: CRMStore) -> None:
    queue(store, "answered")
    reply = await webhook(store, AnsweringRasa()).handle(body("answered", "hello"), "10.0.0.1")
    assert [m["text"] for m in json.loads(reply.body)] == ["Hi!"]
    silent = await webhook(store, PausedRasa()).handle(body("not-queued", "hello"), "10.0.0.1")
    assert json.loads(silent.body) == []


class Sio:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, object, str]] = []

    async def emit(self, event: str, data: object, room: str) -> None:
        self.emitted.append((event, data, room))


async def test_the_socket_output_knows_whether_the_bot_spoke() -> None:
    sio = Sio()
    output = CountingOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    assert output.sent == 0
    await output.send_text_message("session", "Hello")
    assert output.sent == 1
    assert [(event, data["text"], room) for event, data, room in sio.emitted] == [  # type: ignore[index]
        ("bot_uttered", "Hello", "session")
    ]
