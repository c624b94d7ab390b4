"""The widget's socket.io events on a real socket.io server (no network): sessions, rooms,
who speaks, and what each socket is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.core.channels.channel import UserMessage
from socketio import AsyncServer

from bot.crm.store import CRMStore
from bot.identity import claimed_customer, issue_customer_token
from bot.rasa_plugins.customer_gate import CustomerGate
from bot.rasa_plugins.limits import CustomerRateLimits
from bot.rasa_plugins.socket_sessions import issue_session_id, was_issued
from bot.rasa_plugins.socketio_channel import (
    ECHO_EVENT,
    REFUSED_EVENT,
    CRMSocketIOInput,
    CustomerSockets,
    DepthLimitedJson,
)

TOKEN_KEY = "socket-token-key"
CLAIM_KEY = "socket-claim-key"
SESSION_KEY = "socket-session-key"
A, B = 3, 4


class Wire:
    """A socket.io server whose packets are kept per socket instead of being sent."""

    def __init__(self, store: CRMStore) -> None:
        self.sio = self.make_server()
        self.sent: dict[str, list[tuple[str, object]]] = {}
        self.sio._send_eio_packet = self._capture
        self.received: list[UserMessage] = []
        gate = CustomerGate(store, TOKEN_KEY, CLAIM_KEY)
        self.sockets = CustomerSockets(
            self.sio, gate, SESSION_KEY, self._rasa, CustomerRateLimits()
        )
        self.sockets.register("user_uttered")

    def make_server(self) -> AsyncServer:
        return AsyncServer(async_mode="asgi")

    async def _capture(self, eio_sid: str, eio_packet) -> None:
        encoded = eio_packet.data
        event, *data = json.loads(encoded[encoded.index("[") :])
        self.sent.setdefault(eio_sid, []).append((event, data[0] if data else None))

    async def _rasa(self, message: UserMessage) -> None:
        self.received.append(message)

    def connect(self, name: str) -> str:
        """A connected socket; `name` is its engine.io id, the key of what it was sent."""
        return self.sio.manager.connect(name, "/")

    def events(self, name: str, event: str) -> list[object]:
        return [data for sent, data in self.sent.get(name, []) if sent == event]

    async def session(self, sid: str, name: str, **request: object) -> str:
        await self.sockets.session_request(sid, request)
        return self.events(name, "session_confirm")[-1]

    def in_room(self, session_id: str) -> set[str]:
        return set(self.sio.manager.rooms["/"].get(session_id, {}))


@pytest.fixture
def wire(seeded_store: CRMStore) -> Wire:
    return Wire(seeded_store)


def token(customer_id: int) -> str:
    return issue_customer_token(TOKEN_KEY, customer_id)


def said(text: str, customer_token: str | None = None, **extra: object) -> dict:
    metadata = {"customer_token": customer_token} if customer_token else {}
    return {"message": text, "metadata": metadata, **extra}


# ---------------------------------------------------------------------------- sessions


def test_session_ids_are_the_servers_own() -> None:
    issued = issue_session_id(SESSION_KEY)
    assert was_issued(SESSION_KEY, issued)
    assert not was_issued("another-key", issued)
    nonce, mac = issued.split(".")
    assert not was_issued(SESSION_KEY, f"{nonce}.{'0' * 32}")
    assert not was_issued(SESSION_KEY, f"{'0' * 32}.{mac}")
    for made_up in (None, "", "e2e-session", issued.upper(), issued + "0", 42):
        assert not was_issued(SESSION_KEY, made_up)


@pytest.mark.parametrize(
    "request_data",
    [None, {}, {"session_id": "chosen-by-the-client"}, {"session_id": "a" * 32 + "." + "b" * 32}],
    ids=["no_data", "no_id", "made_up", "forged_shape"],
)
async def test_a_socket_without_an_issued_id_gets_a_fresh_one(wire: Wire, request_data) -> None:
    sid = wire.connect("eio-1")
    await wire.sockets.session_request(sid, request_data)
    [confirmed] = wire.events("eio-1", "session_confirm")
    assert was_issued(SESSION_KEY, confirmed)
    assert wire.in_room(confirmed) == {sid}


async def test_an_unbound_session_is_rejoined_by_whoever_holds_its_id(wire: Wire) -> None:
    first = wire.connect("eio-1")
    session_id = await wire.session(first, "eio-1")
    await wire.sockets.disconnect(first)
    again = wire.connect("eio-2")
    assert await wire.session(again, "eio-2", session_id=session_id) == session_id


async def test_a_bound_session_is_joined_only_with_its_customers_token(wire: Wire) -> None:
    owner = wire.connect("eio-a")
    session_id = await wire.session(owner, "eio-a", customer_token=token(A))
    await wire.sockets.user_uttered(owner, said("hi", token(A)))
    intruders = {
        "eio-none": {},
        "eio-b": {"customer_token": token(B)},
        "eio-forged": {"customer_token": "forged"},
    }
    for name, extra in intruders.items():
        sid = wire.connect(name)
        assert await wire.session(sid, name, session_id=session_id, **extra) != session_id
    returning = wire.connect("eio-a2")
    rejoined = await wire.session(
        returning, "eio-a2", session_id=session_id, customer_token=token(A)
    )
    assert rejoined == session_id
    assert wire.in_room(session_id) == {owner, returning}


async def test_a_second_session_request_leaves_the_first_room(wire: Wire) -> None:
    sid = wire.connect("eio-1")
    first = await wire.session(sid, "eio-1")
    second = await wire.session(sid, "eio-1", session_id="not-issued")
    assert first != second
    assert wire.in_room(first) == set() and wire.in_room(second) == {sid}


# ---------------------------------------------------------------------------- messages


async def test_the_sender_is_the_sockets_session_not_the_one_it_names(wire: Wire) -> None:
    owner, other = wire.connect("eio-a"), wire.connect("eio-x")
    owners_session = await wire.session(owner, "eio-a")
    own_session = await wire.session(other, "eio-x")
    await wire.sockets.user_uttered(other, said("hello", session_id=owners_session))
    [message] = wire.received
    assert message.sender_id == own_session != owners_session
    assert message.input_channel == "socketio"


async def test_a_verified_message_carries_only_the_claim_and_is_echoed_redacted(
    wire: Wire, seeded_store: CRMStore
) -> None:
    owner, tab = wire.connect("eio-a"), wire.connect("eio-tab")
    session_id = await wire.session(owner, "eio-a")
    await wire.session(tab, "eio-tab", session_id=session_id)
    await wire.sockets.user_uttered(owner, said("card 4111 1111 1111 1111 lost", token(A)))
    [message] = wire.received
    assert message.text == "card [CARD ending 1111] lost"
    assert list(message.metadata) == ["crm_customer"]
    assert claimed_customer(CLAIM_KEY, session_id, message.metadata["crm_customer"]) == A
    assert seeded_store.conversations.bound_customer(session_id) == A
    [echo] = wire.events("eio-a", ECHO_EVENT)
    assert echo["text"] == "card [CARD ending 1111] lost"
    assert isinstance(echo["seq"], float), "where a replay after a reconnect starts"
    assert wire.events("eio-tab", ECHO_EVENT) == []


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (said("hi", "forged"), "invalid_customer_token"),
        (said("hi"), "conversation_bound"),
        (said("hi", token(B)), "conversation_bound"),
        (said("   ", token(A)), "empty_message"),
        ({"message": "hi", "metadata": "token"}, "invalid_metadata"),
    ],
    ids=["forged", "anonymous", "other_customer", "empty", "bad_metadata"],
)
async def test_a_refused_message_is_told_to_its_socket_only_and_kept_nowhere(
    wire: Wire, seeded_store: CRMStore, message: dict, code: str
) -> None:
    owner, tab = wire.connect("eio-a"), wire.connect("eio-tab")
    session_id = await wire.session(owner, "eio-a")
    # A second tab of the same customer: it stays in the room once the session is bound.
    await wire.session(tab, "eio-tab", session_id=session_id, customer_token=token(A))
    await wire.sockets.user_uttered(owner, said("hi", token(A)))
    before = seeded_store.conversations.bound_customer(session_id)
    await wire.sockets.user_uttered(tab, message)
    [refusal] = wire.events("eio-tab", REFUSED_EVENT)
    assert refusal["error"]["code"] == code and refusal["error"]["message"]
    assert wire.events("eio-a", REFUSED_EVENT) == []
    assert wire.events("eio-tab", ECHO_EVENT) == []
    assert len(wire.received) == 1
    assert seeded_store.conversations.bound_customer(session_id) == before == A


async def test_a_message_before_any_session_is_refused(wire: Wire) -> None:
    sid = wire.connect("eio-1")
    await wire.sockets.user_uttered(sid, said("hi", session_id="anything"))
    [refusal] = wire.events("eio-1", REFUSED_EVENT)
    assert refusal["error"]["code"] == "no_session"
    assert wire.received == []


async def test_a_disconnected_socket_speaks_for_no_session(wire: Wire) -> None:
    sid = wire.connect("eio-1")
    await wire.session(sid, "eio-1")
    await wire.sockets.disconnect(sid)
    assert wire.sockets.sessions.of(sid) is None


# ---------------------------------------------------------------------------- channel


def test_the_channel_allows_the_configured_origins_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_SECRET_KEY", "socket-test-secret")
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    monkeypatch.setenv("CRM_ALLOWED_ORIGINS", "https://bank.example,https://www.bank.example")
    channel = CRMSocketIOInput()
    channel.blueprint(lambda _message: None)
    assert channel.sio.eio.cors_allowed_origins == [
        "https://bank.example",
        "https://www.bank.example",
    ]
    handlers = channel.sio.handlers["/"]
    assert {"session_request", "user_uttered", "disconnect"} <= set(handlers)


async def test_events_without_data_are_refused_not_crashed(wire: Wire) -> None:
    sid = wire.connect("eio-1")
    await wire.sockets.user_uttered(sid)
    [refusal] = wire.events("eio-1", REFUSED_EVENT)
    assert refusal["error"]["code"] == "no_session"
    await wire.sockets.session_request(sid)
    assert wire.events("eio-1", "session_confirm")
    assert wire.received == []


async def test_binding_a_session_leaves_out_sockets_that_showed_no_token_for_its_customer(
    wire: Wire,
) -> None:
    eavesdropper = wire.connect("eio-x")
    session_id = await wire.session(eavesdropper, "eio-x")
    owner = wire.connect("eio-a")
    assert await wire.session(owner, "eio-a", session_id=session_id, customer_token=token(A))
    assert wire.in_room(session_id) == {eavesdropper, owner}
    await wire.sockets.user_uttered(owner, said("show my payments", token(A)))
    assert wire.in_room(session_id) == {owner}
    await wire.sockets.user_uttered(eavesdropper, said("hello?"))
    assert wire.events("eio-x", REFUSED_EVENT)[-1]["error"]["code"] == "no_session"
    assert [message.sender_id for message in wire.received] == [session_id]


def test_socket_io_packets_nested_past_the_limit_are_refused_before_decoding() -> None:
    assert DepthLimitedJson.loads('["user_uttered", {"message": "hi"}]')[1]["message"] == "hi"
    with pytest.raises(ValueError, match="nested deeper"):
        DepthLimitedJson.loads("[" * 100_000 + "]" * 100_000)
