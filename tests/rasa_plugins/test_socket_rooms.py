"""Two socket.io servers sharing rooms through the real Redis, as two Rasa processes do: an
emit from either reaches the socket the other holds, and a session bound to a customer drops
the sockets of every process that showed no token for it, before anything said after."""

from __future__ import annotations

import asyncio
import pickle
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
from socketio import AsyncManager, AsyncServer

from bot.crm.store import CRMStore
from bot.rasa_plugins.socket_rooms import SharedRooms, channel_of, room_manager, transports
from tests.rasa_plugins.test_socketio_channel import A, Wire, said, token

REDIS_URL = "redis://127.0.0.1:6379/11"
WAIT_S = 5.0


async def until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S} s: {what}")
        await asyncio.sleep(0.02)


class SharedWire(Wire):
    """The Wire of the channel tests, its server's rooms shared through Redis."""

    def __init__(self, store: CRMStore, channel: str) -> None:
        self.channel = channel
        super().__init__(store)

    def make_server(self) -> AsyncServer:
        return AsyncServer(async_mode="asgi", client_manager=SharedRooms(REDIS_URL, self.channel))


@pytest.fixture
async def two_processes(seeded_store: CRMStore) -> AsyncIterator[tuple[SharedWire, SharedWire]]:
    channel = f"test-socket-rooms:{uuid.uuid4().hex}"
    wires = (SharedWire(seeded_store, channel), SharedWire(seeded_store, channel))
    for wire in wires:
        wire.sio.manager_initialized = True
        wire.sio.manager.initialize()  # what the first connection does: start listening
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await until(
            lambda: dict(client.pubsub_numsub(channel))[channel.encode()] == 2,
            "both servers subscribed",
        )
        yield wires
    finally:
        client.close()
        for wire in wires:
            wire.sio.manager.thread.cancel()
            await wire.sio.manager.redis.close()


async def test_an_emit_from_one_process_reaches_the_socket_another_holds(two_processes) -> None:
    first, second = two_processes
    socket = first.connect("eio-1")
    session_id = await first.session(socket, "eio-1")
    await second.sio.emit("bot_uttered", {"text": "from the other process"}, room=session_id)
    await until(lambda: first.events("eio-1", "bot_uttered"), "the emit delivered")
    assert first.events("eio-1", "bot_uttered") == [{"text": "from the other process"}]
    assert second.sent == {}


async def test_binding_in_one_process_drops_the_unverified_socket_of_another(
    two_processes,
) -> None:
    first, second = two_processes
    eavesdropper = first.connect("eio-x")
    session_id = await first.session(eavesdropper, "eio-x")
    owner = second.connect("eio-a")
    assert await second.session(owner, "eio-a", session_id=session_id, customer_token=token(A))
    await second.sockets.user_uttered(owner, said("show my payments", token(A)))
    await second.sio.emit("bot_uttered", {"text": "your payments"}, room=session_id)
    await until(lambda: second.events("eio-a", "bot_uttered"), "the owner's answer")
    await until(lambda: not first.in_room(session_id), "the eavesdropper dropped")
    assert first.events("eio-x", "bot_uttered") == []
    assert first.sockets.sessions.of(eavesdropper) is None
    assert second.in_room(session_id) == {owner}


async def test_a_verified_socket_of_the_same_customer_stays_in_every_process(
    two_processes,
) -> None:
    first, second = two_processes
    phone = first.connect("eio-phone")
    session_id = await first.session(phone, "eio-phone", customer_token=token(A))
    laptop = second.connect("eio-laptop")
    assert await second.session(
        laptop, "eio-laptop", session_id=session_id, customer_token=token(A)
    )
    await second.sockets.user_uttered(laptop, said("hello", token(A)))
    await second.sio.emit("bot_uttered", {"text": "hi"}, room=session_id)
    await until(lambda: first.events("eio-phone", "bot_uttered"), "the answer on the phone")
    assert first.in_room(session_id) == {phone}


def test_rooms_are_shared_only_with_redis_and_then_over_websockets_only() -> None:
    assert type(room_manager(None)) is AsyncManager
    assert transports(room_manager(None)) == ["polling", "websocket"]
    shared = room_manager(REDIS_URL)
    assert isinstance(shared, SharedRooms) and shared.channel == "crm-socketio:11"
    assert transports(shared) == ["websocket"]
    assert channel_of("redis://127.0.0.1:6379") == "crm-socketio:0"


async def test_a_binding_reaching_a_process_with_no_socket_yet_changes_nothing(
    two_processes,
) -> None:
    first, second = two_processes
    owner = second.connect("eio-a")
    session_id = await second.session(owner, "eio-a", customer_token=token(A))
    assert "/" not in first.sio.manager.rooms
    first.sockets.drop_others("/", session_id, A)  # what the bound message runs there
    await second.sockets.user_uttered(owner, said("hello", token(A)))
    await second.sio.emit("bot_uttered", {"text": "hi"}, room=session_id)
    await until(lambda: second.events("eio-a", "bot_uttered"), "the answer")
    assert second.in_room(session_id) == {owner}


async def test_a_pickle_published_on_the_channel_is_never_unpickled(
    two_processes, tmp_path
) -> None:
    first, second = two_processes
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (marker.write_text, ("code ran",))

    client = redis.Redis.from_url(REDIS_URL)
    client.publish(first.channel, pickle.dumps(Payload()))
    socket = first.connect("eio-1")
    session_id = await first.session(socket, "eio-1")
    await second.sio.emit("bot_uttered", {"text": "after the pickle"}, room=session_id)
    await until(lambda: first.events("eio-1", "bot_uttered"), "the emit after it")
    client.close()
    assert not marker.exists()


async def test_an_emit_redis_does_not_take_is_logged_not_raised_into_the_turn(caplog) -> None:
    rooms = SharedRooms("redis://127.0.0.1:1/0", "test-socket-rooms:unreachable")
    await rooms.emit("bot_uttered", {"text": "lost"}, room="any-session")  # does not raise
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and all("socket.io emit not published" in e for e in errors)
