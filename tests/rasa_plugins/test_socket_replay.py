"""A widget that rejoins its session gets what it missed from the CRM store: the bot's and
agents' messages after its last `seq`, to its own socket only, bounded."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bot.crm.enums import HandoffReason, Sender, StaffRole
from bot.crm.store import CRMStore
from bot.rasa_plugins import socketio_channel
from tests.crm.test_conversations import record
from tests.rasa_plugins.test_socketio_channel import A, B, Wire, said, token

BOT_EVENT = "bot_uttered"


@pytest.fixture
def wire(seeded_store: CRMStore, monkeypatch: pytest.MonkeyPatch) -> Wire:
    monkeypatch.setattr(socketio_channel, "REPLAY_SETTLE_S", 0.3)
    return Wire(seeded_store)


def key(session_id: str, index: int) -> str:
    return f"{session_id[:12]}-{index}"


def history(store: CRMStore, session_id: str) -> list[float]:
    """Customer, bot (with buttons), customer, bot, then an agent's reply; the bot's seqs."""
    senders = [Sender.CUSTOMER, Sender.BOT, Sender.CUSTOMER, Sender.BOT]
    for index, sender in enumerate(senders):
        data = {"buttons": [{"title": "Yes", "payload": "/affirm"}]} if index == 1 else None
        store.conversations.record_message(
            record(session_id, key(session_id, index), index, sender, data=data)
        )
    ticket = store.handoffs.open(
        conversation_id=session_id,
        customer_id=None,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=2,
        subject="person",
        text="person",
        packet={},
    )
    agent = store.staff.create("ana", "password-123", StaffRole.AGENT).id
    store.handoffs.claim(ticket, agent)
    store.handoffs.record_agent_message(ticket, agent, "I'm Ana")
    return [m["seq"] for m in store.deliveries.missed_messages(session_id, 0, 10)]


async def test_a_rejoining_socket_gets_what_came_after_its_last_seq(
    wire: Wire, seeded_store: CRMStore
) -> None:
    first = wire.connect("eio-1")
    session_id = await wire.session(first, "eio-1")
    other = wire.connect("eio-other")
    await wire.session(other, "eio-other")
    first_bot_seq, *_ = history(seeded_store, session_id)
    await wire.sockets.disconnect(first)

    back = wire.connect("eio-2")
    await wire.session(back, "eio-2", session_id=session_id, last_seq=first_bot_seq)
    replayed = wire.events("eio-2", BOT_EVENT)
    assert [(m["text"], m.get("sender")) for m in replayed] == [
        (f"bot says {key(session_id, 3)}", None),
        ("I'm Ana", "agent"),
    ]
    assert all(m["replayed"] is True for m in replayed)
    agent = replayed[-1]
    assert agent["agent"] == "ana" and isinstance(agent["message_id"], int)
    assert agent["seq"] > replayed[0]["seq"] > first_bot_seq
    assert wire.events("eio-other", BOT_EVENT) == [], "another session hears nothing"

    everything = wire.connect("eio-3")
    await wire.session(everything, "eio-3", session_id=session_id, last_seq=0)
    replayed = wire.events("eio-3", BOT_EVENT)
    assert len(replayed) == 3
    assert replayed[0]["buttons"] == [{"title": "Yes", "payload": "/affirm"}]
    assert len(wire.events("eio-2", BOT_EVENT)) == 2, "the first socket's replay is not repeated"


@pytest.mark.parametrize(
    "last_seq",
    [None, "0", True, [1], 10**400, float("nan"), float("-inf")],
    ids=["none", "text", "bool", "list", "too-big", "nan", "minus-infinity"],
)
async def test_no_replay_without_a_finite_last_seq(
    wire: Wire, seeded_store: CRMStore, last_seq: object
) -> None:
    sid = wire.connect("eio-1")
    session_id = await wire.session(sid, "eio-1")
    history(seeded_store, session_id)
    back = wire.connect("eio-2")
    await wire.session(back, "eio-2", session_id=session_id, last_seq=last_seq)
    assert wire.events("eio-2", BOT_EVENT) == []


async def test_a_socket_that_may_not_join_gets_a_fresh_session_and_no_replay(
    wire: Wire, seeded_store: CRMStore
) -> None:
    owner = wire.connect("eio-a")
    session_id = await wire.session(owner, "eio-a", customer_token=token(A))
    await wire.sockets.user_uttered(owner, said("hi", token(A)))
    history(seeded_store, session_id)
    for name, extra in {"eio-none": {}, "eio-b": {"customer_token": token(B)}}.items():
        sid = wire.connect(name)
        joined = await wire.session(sid, name, session_id=session_id, last_seq=0, **extra)
        assert joined != session_id
        assert wire.events(name, BOT_EVENT) == []
    returning = wire.connect("eio-a2")
    await wire.session(
        returning, "eio-a2", session_id=session_id, customer_token=token(A), last_seq=0
    )
    assert len(wire.events("eio-a2", BOT_EVENT)) == 3


async def test_the_replay_is_bounded_to_the_newest(
    wire: Wire, seeded_store: CRMStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socketio_channel, "MAX_REPLAYED", 2)
    sid = wire.connect("eio-1")
    session_id = await wire.session(sid, "eio-1")
    history(seeded_store, session_id)
    back = wire.connect("eio-2")
    await wire.session(back, "eio-2", session_id=session_id, last_seq=0)
    assert [m["text"] for m in wire.events("eio-2", BOT_EVENT)] == [
        f"bot says {key(session_id, 3)}",
        "I'm Ana",
    ]


class Emits:
    """socket.io's `emit`, remembered."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def emit(self, _event: str, data: dict, room: str | None = None) -> None:
        self.sent.append(data)


async def test_a_bot_message_is_stamped_with_the_time_the_crm_stores_it_under() -> None:
    """A turn's events are made before any is sent: stamped with the send time, the first
    message would look newer than the second's stored `seq`, and a widget that dropped
    between the two would never get the second back."""
    sio = Emits()
    output = socketio_channel.StampedOutput(sio, BOT_EVENT)  # type: ignore[arg-type]
    await output.send_response("sid", {"text": "first", "timestamp": 1000.25})
    await output.send_response("sid", {"text": "second", "timestamp": 1000.5})
    await output.send_text_message("sid", "a queue notice")
    assert [m["seq"] for m in sio.sent[:2]] == [1000.25, 1000.5]
    assert sio.sent[2]["seq"] > 1000.5, "without an event: the time it is sent"


async def test_a_message_stored_after_the_first_look_comes_in_the_second(
    wire: Wire, seeded_store: CRMStore
) -> None:
    """Sent live just before the socket joined, stored when its turn was saved: the first
    look misses it, the second sends it; what is stored with a later seq came live."""
    first = wire.connect("eio-1")
    session_id = await wire.session(first, "eio-1")
    first_bot_seq, *_ = history(seeded_store, session_id)
    await wire.sockets.disconnect(first)

    said_before_the_join = time.time()

    async def a_turn_saved_late() -> None:
        await asyncio.sleep(0.1)
        late = record(session_id, key(session_id, 9), 9, Sender.BOT)
        seeded_store.conversations.record_message(replace(late, seq=said_before_the_join))
        after_join = record(session_id, key(session_id, 10), 10, Sender.BOT)
        seeded_store.conversations.record_message(replace(after_join, seq=time.time() + 60))

    back = wire.connect("eio-2")
    saved = asyncio.create_task(a_turn_saved_late())
    await wire.session(back, "eio-2", session_id=session_id, last_seq=first_bot_seq)
    await saved
    texts = [m["text"] for m in wire.events("eio-2", BOT_EVENT)]
    assert texts == [f"bot says {key(session_id, 3)}", "I'm Ana", f"bot says {key(session_id, 9)}"]
