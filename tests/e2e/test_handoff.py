"""A customer on socket.io is handed to an agent and back, through the real stack."""

from __future__ import annotations

import asyncio
import json
import re
import time

import aiohttp
import pytest
import socketio

from tests.e2e.conftest import Stack, http

pytestmark = pytest.mark.e2e
PACKET_KEYS = {
    "summary",
    "intents",
    "entities",
    "slots",
    "bot_attempts",
    "sentiment_trend",
    "customer",
    "similar_tickets",
    "reason",
}


class Customer:
    """A widget-like socket.io client of Rasa's channel; the server issues its session id."""

    def __init__(
        self, stack: Stack, token: str | None = None, session_id: str | None = None
    ) -> None:
        self.stack = stack
        self.session_id = session_id
        """The session asked for; once connected, the one the server confirmed."""
        self.token = token
        self.sio = socketio.AsyncClient()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.sio.on("bot_uttered", self._received)

    async def _received(self, data: dict) -> None:
        await self.inbox.put((time.monotonic(), data))

    async def __aenter__(self) -> Customer:
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio.on(
            "session_confirm", lambda session: confirmed.done() or confirmed.set_result(session)
        )
        await self.sio.connect(
            self.stack.settings.rasa_url, socketio_path="/socket.io", transports=["websocket"]
        )
        await self.sio.emit(
            "session_request", {"session_id": self.session_id, "customer_token": self.token}
        )
        self.session_id = await asyncio.wait_for(confirmed, 10)
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.sio.disconnect()

    async def say(self, text: str) -> None:
        metadata = {"customer_token": self.token} if self.token else {}
        await self.sio.emit("user_uttered", {"message": text, "metadata": metadata})

    async def next_message(self, timeout: float = 20) -> tuple[float, dict]:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def ask(self, text: str) -> list[dict]:
        """Say something and collect the answers until the bot goes quiet."""
        await self.say(text)
        answers = [(await self.next_message())[1]]
        while True:
            try:
                answers.append(await asyncio.wait_for(self.inbox.get(), 1.5))
            except asyncio.TimeoutError:
                return answers


def open_handoff(stack: Stack, conversation_id: str) -> dict:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return next(h for h in handoffs if h["conversation_id"] == conversation_id)


def login(stack: Stack, username: str, password: str) -> str:
    reply = stack.api("POST", "/api/v1/auth/login", {"username": username, "password": password})
    return reply.body["token"]


async def test_customer_agent_round_trip(stack: Stack) -> None:
    token = stack.api("POST", "/api/v1/customers/2/widget-token").body["token"]
    stack.api(
        "POST", "/api/v1/staff", {"username": "ana", "password": "ana-password-1", "role": "agent"}
    )
    stack.api(
        "POST", "/api/v1/staff", {"username": "ben", "password": "ben-password-1", "role": "agent"}
    )
    ana = login(stack, "ana", "ana-password-1")
    ben = login(stack, "ben", "ben-password-1")
    base = stack.settings.console_url

    async with (
        Customer(stack, token) as customer,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {ana}"}) as agent,
    ):
        await customer.ask("my card payment was declined at the supermarket")
        [queued] = await customer.ask("I want to talk to a person")
        assert "in the queue" in queued["text"]

        handoff = open_handoff(stack, customer.session_id)
        packet = handoff["packet"]
        assert set(packet) == PACKET_KEYS
        assert packet["reason"] == "customer_request"
        assert packet["summary"]
        assert [i["intent"] for i in packet["intents"]] == [
            "declined_card_payment",
            "ask_for_human",
        ]
        assert all(0 < i["confidence"] <= 1 for i in packet["intents"])
        assert packet["bot_attempts"][0]["intent"] == "declined_card_payment"
        assert packet["sentiment_trend"]["trend"] in {"improving", "worsening", "stable"}
        assert packet["customer"]["id"] == 2
        assert packet["similar_tickets"] and all(t["resolution"] for t in packet["similar_tickets"])
        assert handoff["category"] == "declined_card_payment"

        live = await agent.ws_connect(f"{base}/api/v1/ws")
        claim = await agent.post(f"{base}/api/v1/handoffs/{handoff['id']}/claim")
        assert claim.status == 200
        second = http("POST", f"{base}/api/v1/handoffs/{handoff['id']}/claim", b"", ben)
        assert (second.status, second.body["error"]["code"]) == (409, "conflict")
        intruder = http(
            "POST",
            f"{base}/api/v1/handoffs/{handoff['id']}/messages",
            json.dumps({"text": "hi"}).encode(),
            ben,
        )
        assert (intruder.status, intruder.body["error"]["code"]) == (409, "conflict")

        sent_at = time.monotonic()
        reply = await agent.post(
            f"{base}/api/v1/handoffs/{handoff['id']}/messages",
            json={"text": "Hello, I'm Ana. Let me look at that payment."},
        )
        assert reply.status == 201 and (await reply.json())["delivered"] is True
        received_at, message = await customer.next_message(5)
        assert {key: message[key] for key in ("text", "sender", "agent")} == {
            "text": "Hello, I'm Ana. Let me look at that payment.",
            "sender": "agent",
            "agent": "ana",
        }
        assert isinstance(message["message_id"], int) and message["seq"] > 0
        assert received_at - sent_at < 1.0

        await customer.say("thanks, it was at Tesco around noon")
        while True:
            event = await asyncio.wait_for(live.receive_json(), 10)
            if event["type"] == "customer_message":
                break
        assert event["message"]["text"] == "thanks, it was at Tesco around noon"
        assert event["message"]["handoff_id"] == handoff["id"]
        with pytest.raises(asyncio.TimeoutError):
            await customer.next_message(2)  # the bot stays quiet while a person holds it

        resolved = await agent.post(
            f"{base}/api/v1/handoffs/{handoff['id']}/resolve",
            json={
                "resolution": "Removed a merchant block on Tesco; the payment went through.",
                "return_to_bot": True,
            },
        )
        body = await resolved.json()
        assert resolved.status == 200 and body["bot_resumed"] and body["indexed"]
        _, csat_prompt = await customer.next_message(10)
        assert "quick_replies" in csat_prompt, csat_prompt
        assert [button["title"] for button in csat_prompt["quick_replies"]] == list("12345")
        [thanks] = await customer.ask(csat_prompt["quick_replies"][3]["payload"])
        assert "Thank you for your rating" in thanks["text"]
        await live.close()

    similar = stack.api("GET", "/api/v1/tickets/similar?q=merchant%20block%20at%20Tesco&k=3")
    assert similar.body["tickets"][0]["ticket_id"] == handoff["id"]
    assert "tesco" in similar.body["tickets"][0]["matched_terms"]
    rated = stack.api("GET", "/api/v1/handoffs?status=resolved").body["handoffs"]
    assert next(h for h in rated if h["id"] == handoff["id"])["csat"] == 4

    stored = stack.api("GET", f"/api/v1/conversations/{customer.session_id}").body
    senders = [(m["sender"], m["text"]) for m in stored["messages"]]
    assert ("agent", "Hello, I'm Ana. Let me look at that payment.") in senders
    assert senders.index(("agent", "Hello, I'm Ana. Let me look at that payment.")) < senders.index(
        ("customer", "thanks, it was at Tesco around noon")
    )
    assert stored["status"] == "bot"


def test_two_misunderstandings_in_a_row_go_to_a_person(stack: Stack) -> None:
    first = stack.say("e2e-fallback-twice", "zorp quantum flibber")
    assert "rephrase" in first[0]["text"]
    second = stack.say("e2e-fallback-twice", "xkcd plumbus fnord")
    assert "in the queue" in second[0]["text"]
    handoff = open_handoff(stack, "e2e-fallback-twice")
    assert handoff["packet"]["reason"] == "repeated_fallback"
    # The bot is paused: the channel answers with the customer's place in the queue.
    [waiting] = stack.say("e2e-fallback-twice", "hello?")
    wait = r"number \d+ in the queue; the expected wait is about \d+ minutes"
    assert re.search(wait, waiting["text"])


def test_a_frustrated_customer_is_handed_over_first(stack: Stack) -> None:
    replies = stack.say("e2e-frustrated", "this is ridiculous, I'm fed up with your bank")
    assert "in the queue" in replies[0]["text"]
    handoff = open_handoff(stack, "e2e-frustrated")
    assert (handoff["packet"]["reason"], handoff["priority"]) == ("frustration", 1)


def test_agents_cannot_post_to_a_conversation_that_is_not_handed_off(stack: Stack) -> None:
    missing = stack.api("POST", "/api/v1/handoffs/999999/messages", {"text": "hello"})
    assert (missing.status, missing.body["error"]["code"]) == (404, "not_found")
    bad = stack.api("POST", "/api/v1/handoffs/999999/resolve", {"resolution": ""})
    assert (bad.status, bad.body["error"]["code"]) == (400, "invalid_field")
