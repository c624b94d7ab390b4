"""The web widget on the wire, and the agent's side of a handoff, for the delivery-fault tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import socketio

from tests.e2e.conftest import Reply
from tests.faults.harness import Stack

WIDGET_CONNECT_S = 10
HANDOFF_S = 30


class Widget:
    """What the web widget does on the wire: joins its session with the last `seq` it
    showed, and shows an agent's message once by its id."""

    def __init__(self, stack: Stack, session_id: str | None, last_seq: float | None) -> None:
        self.stack = stack
        self.session_id = session_id
        self.last_seq = last_seq
        self.shown: list[dict] = []
        self.seen_ids: set[int] = set()
        self.received: list[dict] = []
        self.sio = socketio.AsyncClient()
        self.sio.on("bot_uttered", self._received)
        self.sio.on("user_echo", self._advance)

    async def _advance(self, data: dict) -> None:
        if isinstance(data.get("seq"), int | float):
            self.last_seq = max(self.last_seq or 0.0, data["seq"])

    async def _received(self, data: dict) -> None:
        self.received.append(data)
        await self._advance(data)
        if data.get("message_id") is not None:
            if data["message_id"] in self.seen_ids:
                return
            self.seen_ids.add(data["message_id"])
        self.shown.append(data)

    async def __aenter__(self) -> Widget:
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio.on("session_confirm", lambda s: confirmed.done() or confirmed.set_result(s))
        await self.sio.connect(
            self.stack.settings.rasa_url, socketio_path="/socket.io", transports=["websocket"]
        )
        await self.sio.emit(
            "session_request", {"session_id": self.session_id, "last_seq": self.last_seq}
        )
        self.session_id = await asyncio.wait_for(confirmed, WIDGET_CONNECT_S)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.sio.disconnect()

    async def say(self, text: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "metadata": {}})

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.shown]


def offers_buttons(message: dict) -> bool:
    """Whether the widget shows buttons under this message: live ones carry `quick_replies`,
    replayed ones the stored `buttons` (widget.js takes either)."""
    return bool(message.get("quick_replies") or message.get("buttons"))


async def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """`check()`'s first truthy value, polled every 0.25 s for up to `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.25)


def handoff_of(stack: Stack, conversation_id: str) -> dict | None:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return next((h for h in handoffs if h["conversation_id"] == conversation_id), None)


async def handed_off(stack: Stack, widget: Widget) -> dict:
    """The widget asks for a person; the handoff, claimed by the signed-in admin."""
    await widget.say("I want to talk to a person")
    await until(lambda: any("queue" in t for t in widget.texts()), HANDOFF_S, "the queue notice")
    handoff = await until(lambda: handoff_of(stack, widget.session_id), HANDOFF_S, "the handoff")
    assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
    return handoff


def agent_reply(stack: Stack, handoff: dict, text: str) -> Reply:
    return stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/messages", {"text": text})


def conversation(stack: Stack, conversation_id: str) -> dict:
    return stack.api("GET", f"/api/v1/conversations/{conversation_id}").body
