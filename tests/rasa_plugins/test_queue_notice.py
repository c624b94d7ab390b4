"""A customer waiting for a person is never met with silence: the channel tells their place."""

from __future__ import annotations

import json
import re

from rasa.core.channels.channel import UserMessage

from bot.crm.enums import HandoffReason, StaffRole
from bot.crm.store import CRMStore
from bot.crm.store.handoffs import MINUTES_PER_PLACE
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import CustomerRateLimits
from bot.rasa_plugins.queue_notice import queue_notice
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


def test_a_queued_customer_hears_their_place_and_the_wait(store: CRMStore) -> None:
    queue(store, "first")
    queue(store, "urgent", priority=1)
    notice = queue_notice(store, "first")
    assert notice is not None
    assert "number 2 in the queue" in notice
    assert f"about {2 * MINUTES_PER_PLACE} minutes" in notice
    assert "number 1 in the queue" in (queue_notice(store, "urgent") or "")


def test_the_notice_is_in_the_transcript_the_agent_reads(store: CRMStore) -> None:
    queue(store, "waiting")
    notice = queue_notice(store, "waiting")
    [message] = store.conversations.get("waiting")["messages"]
    assert (message["sender"], message["text"]) == ("bot", notice)
    assert message["data"] == {"queue_notice": True}


def test_no_notice_outside_the_queue(store: CRMStore) -> None:
    """Not handed over: nothing to say. Claimed: the agent answers, not the channel."""
    assert queue_notice(store, "never-queued") is None
    ticket = queue(store, "claimed")
    agent = store.staff.create("queue-agent", "queue-agent-password", StaffRole.AGENT)
    store.handoffs.claim(ticket, agent.id)
    assert queue_notice(store, "claimed") is None


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


async def test_the_rest_channel_acknowledges_a_queued_customer(store: CRMStore) -> None:
    queue(store, "waiting")
    reply = await webhook(store, PausedRasa()).handle(body("waiting", "hello?"), "10.0.0.1")
    [notice] = json.loads(reply.body)
    assert notice["recipient_id"] == "waiting"
    assert re.search(
        r"number 1 in the queue; the expected wait is about \d+ minutes", notice["text"]
    )


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
    assert sio.emitted == [("bot_uttered", {"text": "Hello"}, "session")]
