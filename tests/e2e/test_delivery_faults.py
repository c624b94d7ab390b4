"""The console's calls into Rasa survive Rasa being down, and a widget that was away gets
what it missed: real Rasa, action server and console of this module's own, Rasa stopped
and started again in the middle."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio

from bot.endpoints import write_endpoints
from bot.runner import service_commands, start_services, stop_services, wait_healthy
from bot.settings import PROJECT_ROOT, load_settings
from bot.setup import prepare_store
from bot.training import ensure_model
from tests.e2e.conftest import Stack, http
from tests.e2e.helpers import fresh_env

pytestmark = pytest.mark.e2e
RASA_START_S = 300
SETTLE_S = 120
"""Bound for what the console's worker does once Rasa is back (its retries are <= 30 s apart)."""


class RestartableStack(Stack):
    """A stack whose Rasa server can be stopped and started again."""

    env: dict[str, str]
    model: Any
    endpoints: Any

    def stop_rasa(self) -> None:
        rasa = self.processes["rasa"]
        os.killpg(rasa.pid, signal.SIGTERM)
        rasa.wait(30)

    def start_rasa(self) -> None:
        command = service_commands(self.model, self.endpoints)["rasa"]
        env = {**os.environ, **self.env}
        self.processes["rasa"] = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + RASA_START_S
        while time.monotonic() < deadline:
            assert self.processes["rasa"].poll() is None, "Rasa exited while starting"
            try:
                with urllib.request.urlopen(f"{self.settings.rasa_url}/", timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        raise AssertionError("Rasa did not start again in time")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableStack]:
    var_dir = tmp_path_factory.mktemp("delivery-faults")
    env = fresh_env(var_dir)
    settings = load_settings(env)
    engine, _ = prepare_store(settings)
    engine.dispose()
    endpoints = write_endpoints(settings, var_dir / "endpoints.yml")
    model = ensure_model()
    processes = start_services(model, endpoints, env)
    try:
        wait_healthy(settings, processes, timeout=RASA_START_S)
        login = http(
            "POST",
            f"{settings.console_url}/api/v1/auth/login",
            json.dumps({"username": "admin", "password": env["CRM_ADMIN_PASSWORD"]}).encode(),
        )
        built = RestartableStack(settings, login.body["token"], processes)
        built.env, built.model, built.endpoints = env, model, endpoints
        yield built
    finally:
        stop_services(processes)


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
        self.session_id = await asyncio.wait_for(confirmed, 10)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.sio.disconnect()

    async def say(self, text: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "metadata": {}})

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.shown]


async def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
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
    await widget.say("I want to talk to a person")
    await eventually(lambda: any("queue" in t for t in widget.texts()), 30, "the queue notice")
    handoff = await eventually(lambda: handoff_of(stack, widget.session_id), 30, "the handoff")
    assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
    return handoff


def reply(stack: Stack, handoff: dict, text: str) -> Any:
    return stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/messages", {"text": text})


def conversation(stack: Stack, conversation_id: str) -> dict:
    return stack.api("GET", f"/api/v1/conversations/{conversation_id}").body


async def test_replies_and_resume_wait_for_rasa_and_the_widget_gets_what_it_missed(
    stack: RestartableStack,
) -> None:
    async with Widget(stack, None, None) as widget:
        handoff = await handed_off(stack, widget)
        live = reply(stack, handoff, "Hi, Ana here")
        assert live.status == 201 and live.body["delivery"]["status"] == "delivered", live.body
        await eventually(lambda: "Hi, Ana here" in widget.texts(), 10, "the live reply")
        session_id, last_seq = widget.session_id, widget.last_seq

    # Away from the chat (Rasa up): the reply is delivered to Rasa, no widget hears it.
    away = reply(stack, handoff, "Still there?")
    assert away.status == 201, away.body
    async with Widget(stack, session_id, last_seq) as back:
        assert back.session_id == session_id
        await eventually(lambda: "Still there?" in back.texts(), 10, "the replayed reply")
        assert back.texts() == ["Still there?"], "only what it missed, once"
        assert back.received[0]["replayed"] is True
        last_seq = back.last_seq

    # Rasa down: the reply and the resolve are recorded, pending; nothing is lost or doubled.
    stack.stop_rasa()
    down = reply(stack, handoff, "Your card is unblocked")
    assert down.status == 202, down.body
    assert down.body["delivery"]["status"] == "pending"
    resolved = stack.api(
        "POST", f"/api/v1/handoffs/{handoff['id']}/resolve", {"resolution": "Unblocked the card"}
    )
    assert resolved.status == 200 and resolved.body["bot_resumed"] is False, resolved.body
    assert [(d["kind"], d["status"]) for d in resolved.body["deliveries"]] == [
        ("resume", "pending"),
        ("rating_prompt", "pending"),
    ]
    stored = conversation(stack, session_id)
    assert stored["status"] == "handoff", "the bot has not taken it back while Rasa is down"
    assert [(d["kind"], d["status"]) for d in stored["deliveries"]] == [
        ("agent_message", "pending"),
        ("resume", "pending"),
        ("rating_prompt", "pending"),
    ]

    stack.start_rasa()
    async with Widget(stack, session_id, last_seq) as back:
        await eventually(
            lambda: any(m.get("quick_replies") for m in back.shown), SETTLE_S, "the rating prompt"
        )
        await asyncio.sleep(2)  # a late duplicate would show by now
        assert back.texts().count("Your card is unblocked") == 1, back.received
        assert back.texts().index("Your card is unblocked") < len(back.texts()) - 1
    stored = conversation(stack, session_id)
    assert stored["status"] == "bot"
    assert stored["deliveries"] == []
    texts = [m["text"] for m in stored["messages"]]
    assert texts.count("Your card is unblocked") == 1


async def test_return_to_bot_false_leaves_the_bot_out(stack: RestartableStack) -> None:
    async with Widget(stack, None, None) as widget:
        handoff = await handed_off(stack, widget)
        resolved = stack.api(
            "POST",
            f"/api/v1/handoffs/{handoff['id']}/resolve",
            {"resolution": "Closed by phone", "return_to_bot": False},
        )
        assert resolved.status == 200, resolved.body
        assert (resolved.body["bot_resumed"], resolved.body["deliveries"]) == (False, [])
        shown = len(widget.shown)
        await widget.say("hello?")
        await asyncio.sleep(4)
        assert not any(m.get("quick_replies") for m in widget.shown[shown:]), "no rating prompt"
        assert conversation(stack, widget.session_id)["status"] == "closed"
