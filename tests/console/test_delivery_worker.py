"""The console's calls into Rasa: recorded first, answered 201 or 202, retried by the worker
until a (real HTTP, fake) Rasa takes them, in order, once, from two consoles alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from bot.console.app import init_app
from bot.console.delivery import DeliveryWorker, RetryPolicy
from bot.console.live import LiveFeed
from bot.console.rasa_client import RasaClient
from bot.crm.enums import DeliveryStatus, StaffRole
from bot.crm.store import CRMStore
from bot.settings import KeyPurpose, load_settings
from bot.signing import SIGNATURE_HEADER, verify
from tests.console.helpers import AGENT_PASSWORD, login, open_handoff

FAST = RetryPolicy(base_delay_s=0.0, max_delay_s=0.0, max_attempts=3, poll_s=0.05)


class FakeRasa:
    """Records the console's calls as Rasa would receive them; `up` False answers 503."""

    def __init__(self, agent_key: str) -> None:
        self.agent_key = agent_key
        self.up = True
        self.calls: list[tuple[str, object]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/socketio/agent_message", self.agent_message)
        app.router.add_post("/conversations/{id}/tracker/events", self.events)
        app.router.add_post("/conversations/{id}/trigger_intent", self.trigger)
        return app

    async def agent_message(self, request: web.Request) -> web.Response:
        body = await request.read()
        assert verify(self.agent_key, body, request.headers[SIGNATURE_HEADER])
        return self._answer("agent_message", json.loads(body), {"delivered": True})

    async def events(self, request: web.Request) -> web.Response:
        body = await request.json()
        return self._answer("resume", (request.match_info["id"], body), {})

    async def trigger(self, request: web.Request) -> web.Response:
        body = await request.json()
        return self._answer("trigger_intent", (request.match_info["id"], body["name"]), {})

    def _answer(self, kind: str, seen: object, reply: dict) -> web.Response:
        if not self.up:
            return web.json_response({"error": "down"}, status=503)
        self.calls.append((kind, seen))
        return web.json_response(reply)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]


@pytest.fixture
def settings(tmp_path):
    base = load_settings(
        {
            "CRM_VAR_DIR": str(tmp_path),
            "CRM_SECRET_KEY": "test-secret",
            "CRM_JOB_SCHEDULE": "off",
        }
    )
    return replace(base, rasa_port=1, action_port=2)


@pytest.fixture
async def rasa(aiohttp_server, settings) -> tuple[FakeRasa, object]:
    fake = FakeRasa(settings.key_for(KeyPurpose.AGENT_MESSAGE))
    server = await aiohttp_server(fake.app())
    return fake, replace(settings, rasa_port=server.port)


@pytest.fixture
async def rasa_client(rasa):
    _, settings = rasa
    async with aiohttp.ClientSession() as http:
        yield RasaClient(http, settings)


def worker_over(store: CRMStore, client: RasaClient, events: list) -> DeliveryWorker:
    live = LiveFeed(store)

    async def publish(event: dict) -> None:
        events.append(event)

    live.publish = publish
    return DeliveryWorker(store, client, live, FAST)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def claimed_handoff(client, store: CRMStore) -> tuple[int, dict[str, str]]:
    handoff_id = open_handoff(store)
    agent = await login(client, "agent", AGENT_PASSWORD)
    assert (await client.post(f"/api/v1/handoffs/{handoff_id}/claim", headers=agent)).status == 200
    return handoff_id, agent


async def test_with_rasa_down_a_reply_is_stored_once_and_pending(
    aiohttp_client, settings, console_store
) -> None:
    client = await aiohttp_client(await init_app(settings, console_store))
    handoff_id, agent = await claimed_handoff(client, console_store)
    reply = await client.post(
        f"/api/v1/handoffs/{handoff_id}/messages", json={"text": "On it"}, headers=agent
    )
    body = await reply.json()
    assert reply.status == 202, body
    assert body["delivered"] is False
    assert body["delivery"]["status"] == "pending" and body["delivery"]["attempts"] == 1
    assert body["delivery"]["message_id"] == body["message"]["id"]
    assert body["delivery"]["last_error"].startswith("Rasa is not reachable")
    stored = await (await client.get("/api/v1/conversations/conv-1", headers=agent)).json()
    assert [m["text"] for m in stored["messages"]].count("On it") == 1
    assert [(d["kind"], d["status"]) for d in stored["deliveries"]] == [
        ("agent_message", "pending")
    ]

    resolved = await client.post(
        f"/api/v1/handoffs/{handoff_id}/resolve", json={"resolution": "done"}, headers=agent
    )
    body = await resolved.json()
    assert resolved.status == 200 and body["bot_resumed"] is False
    assert [(d["kind"], d["status"]) for d in body["deliveries"]] == [
        ("resume", "pending"),
        ("rating_prompt", "pending"),
    ]
    stored = await (await client.get("/api/v1/conversations/conv-1", headers=agent)).json()
    assert stored["status"] == "handoff", "the bot has not taken the conversation back yet"


async def test_with_rasa_up_a_reply_is_delivered_and_resolve_resumes(
    aiohttp_client, rasa, console_store
) -> None:
    fake, settings = rasa
    client = await aiohttp_client(await init_app(settings, console_store))
    handoff_id, agent = await claimed_handoff(client, console_store)
    reply = await client.post(
        f"/api/v1/handoffs/{handoff_id}/messages",
        json={"text": "Call me on 07700 900123"},
        headers=agent,
    )
    body = await reply.json()
    assert reply.status == 201 and body["delivered"] is True
    assert body["delivery"]["status"] == "delivered"
    [(kind, sent)] = fake.calls
    assert sent["text"] == "Call me on 07700 900123", "the customer reads what the agent wrote"
    assert sent["message_id"] == body["message"]["id"] and sent["agent"] == "agent"
    assert body["message"]["text"] != sent["text"], "the CRM keeps it redacted"

    resolved = await client.post(
        f"/api/v1/handoffs/{handoff_id}/resolve", json={"resolution": "done"}, headers=agent
    )
    body = await resolved.json()
    assert body["bot_resumed"] is True
    assert [d["status"] for d in body["deliveries"]] == ["delivered", "delivered"]
    assert fake.kinds() == ["agent_message", "resume", "trigger_intent"]
    assert fake.calls[-1][1] == ("conv-1", "give_feedback")
    assert console_store.conversations.get("conv-1")["status"] == "bot"


async def test_return_to_bot_false_calls_rasa_for_nothing(
    aiohttp_client, rasa, console_store
) -> None:
    fake, settings = rasa
    client = await aiohttp_client(await init_app(settings, console_store))
    handoff_id, agent = await claimed_handoff(client, console_store)
    resolved = await client.post(
        f"/api/v1/handoffs/{handoff_id}/resolve",
        json={"resolution": "done", "return_to_bot": False},
        headers=agent,
    )
    body = await resolved.json()
    assert (body["bot_resumed"], body["deliveries"]) == (False, [])
    await asyncio.sleep(0.3)
    assert fake.calls == []
    assert console_store.conversations.get("conv-1")["status"] == "closed"


async def test_the_worker_delivers_what_waited_in_order_once_rasa_is_back(
    rasa, rasa_client, console_store
) -> None:
    fake, _ = rasa
    ticket = open_handoff(console_store)
    agent = console_store.staff.authenticate("agent", AGENT_PASSWORD).id
    console_store.handoffs.claim(ticket, agent)
    for text in ("one", "two", "three"):
        console_store.handoffs.record_agent_message(ticket, agent, text)
    console_store.handoffs.resolve(ticket, agent, "done", return_to_bot=True)
    events: list[dict] = []
    worker = worker_over(console_store, rasa_client, events)
    fake.up = False
    await worker.run_once()
    assert fake.calls == [] and console_store.conversations.get("conv-1")["status"] == "handoff"

    fake.up = True
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: len(fake.calls) == 5)
        await eventually(lambda: console_store.deliveries.unsettled("conv-1") == [])
    finally:
        task.cancel()
    assert fake.kinds() == ["agent_message"] * 3 + ["resume", "trigger_intent"]
    assert [seen["text"] for _, seen in fake.calls[:3]] == ["one", "two", "three"]
    assert console_store.conversations.get("conv-1")["status"] == "bot"
    statuses = [(e["delivery"]["kind"], e["delivery"]["status"]) for e in events]
    assert statuses.count(("resume", "delivered")) == 1
    assert ("agent_message", "pending") in statuses, "the failed first try was published"


async def test_the_worker_gives_up_after_its_attempts_and_says_so(
    rasa, rasa_client, console_store
) -> None:
    fake, _ = rasa
    fake.up = False
    ticket = open_handoff(console_store)
    agent = console_store.staff.authenticate("agent", AGENT_PASSWORD).id
    console_store.handoffs.claim(ticket, agent)
    console_store.handoffs.resolve(ticket, agent, "done", return_to_bot=True)
    events: list[dict] = []
    worker = worker_over(console_store, rasa_client, events)
    for _ in range(FAST.max_attempts):
        await worker.run_once()
    resume, prompt = console_store.deliveries.of_ticket(ticket)
    assert (resume["status"], resume["attempts"]) == (DeliveryStatus.FAILED, 3)
    assert prompt["status"] == DeliveryStatus.FAILED, "no rating prompt without the bot"
    assert console_store.conversations.get("conv-1")["status"] == "handoff"
    assert [e["delivery"]["status"] for e in events][-2:] == ["failed", "failed"]
    fake.up = True
    assert await worker.run_once() == 0 and fake.calls == []


async def test_two_consoles_deliver_each_call_exactly_once(
    rasa, rasa_client, console_store
) -> None:
    fake, _ = rasa
    agent = console_store.staff.authenticate("agent", AGENT_PASSWORD).id
    expected = []
    for index in range(6):
        conversation = f"conv-w{index}"
        ticket = open_handoff(console_store, conversation)
        console_store.handoffs.claim(ticket, agent)
        for text in ("a", "b"):
            console_store.handoffs.record_agent_message(ticket, agent, f"{conversation}-{text}")
            expected.append(f"{conversation}-{text}")
    first = worker_over(console_store, rasa_client, [])
    second = worker_over(console_store, rasa_client, [])
    tasks = [asyncio.create_task(worker.run()) for worker in (first, second)]
    try:
        await eventually(lambda: len(fake.calls) >= len(expected))
        await asyncio.sleep(0.3)
    finally:
        for task in tasks:
            task.cancel()
    sent = [seen["text"] for _, seen in fake.calls]
    assert sorted(sent) == sorted(expected), "each once"
    for index in range(6):
        mine = [text for text in sent if text.startswith(f"conv-w{index}-")]
        assert mine == [f"conv-w{index}-a", f"conv-w{index}-b"], "in order per conversation"


async def test_a_first_try_held_by_another_waits_for_its_outcome(
    rasa, rasa_client, console_store
) -> None:
    """The worker's poll (or another console) may hold the delivery the agent's request
    wanted to try: the agent hears the outcome of that try, not "pending"."""
    handoff_id = open_handoff(console_store)
    agent = console_store.staff.create("held-agent", "held-agent-password", StaffRole.AGENT)
    console_store.handoffs.claim(handoff_id, agent.id)
    message = console_store.handoffs.record_agent_message(handoff_id, agent.id, "On it")
    pending = console_store.deliveries.of_message(message["id"])
    assert console_store.deliveries.claim(pending["id"], "other-console", 30) is not None

    async def the_other_delivers() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(console_store.deliveries.delivered, pending["id"], "other-console")

    other = asyncio.create_task(the_other_delivers())
    outcome = await worker_over(console_store, rasa_client, []).attempt_now(pending)
    await other
    assert outcome["status"] == DeliveryStatus.DELIVERED
    assert rasa[0].calls == [], "this request did not send it a second time"
