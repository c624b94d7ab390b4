"""Nobody speaks for, or listens to, another customer: against the real stack.

Customer A talks to the bot with their token; a second client then uses A's REST sender
id or A's socket.io session id, with no token, with customer B's token, or with a forged
or expired token. It must get nothing of A's data, must not act for A (no card blocked,
no handoff opened, nothing stored), and must not hear A's conversation. The tokens
themselves must never be stored, in Rasa's tracker store or in the CRM.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.identity import issue_customer_token
from bot.rasa_plugins.socket_sessions import issue_session_id
from bot.settings import KeyPurpose
from tests.e2e.conftest import Stack
from tests.e2e.test_handoff import Customer, open_handoff
from tests.rasa_plugins.tokens import token_issued_ago

pytestmark = pytest.mark.e2e
A, B = 3, 4
UNKNOWN_PAYMENT = "there's a payment I don't recognise"
PAUSE_S = 0.6
"""Between an intruder's attempts, so they stay under the per-conversation rate limit."""
ISSUED_TOKENS: list[str] = []


def widget_token(stack: Stack, customer_id: int) -> str:
    token = stack.api("POST", f"/api/v1/customers/{customer_id}/widget-token").body["token"]
    ISSUED_TOKENS.append(token)
    return token


def forged_token(customer_id: int) -> str:
    token = issue_customer_token("not-the-servers-key", customer_id)
    ISSUED_TOKENS.append(token)
    return token


def expired_token(stack: Stack, customer_id: int) -> str:
    token = token_issued_ago(stack.settings.key_for(KeyPurpose.CUSTOMER_TOKEN), customer_id)
    ISSUED_TOKENS.append(token)
    return token


@contextmanager
def database(stack: Stack) -> Iterator[sqlite3.Connection]:
    """The e2e CRM file, with Rasa's tracker store (`events`, a file of its own) attached."""
    with closing(sqlite3.connect(make_url(stack.settings.database_url).database)) as connection:
        connection.execute(
            "ATTACH DATABASE ? AS tracker", (make_url(stack.settings.tracker_url).database,)
        )
        yield connection


def crm_rows(stack: Stack, conversation_id: str, customer_id: int) -> dict[str, list[Any]]:
    """Everything of the conversation and the customer an intruder could change."""
    queries = {
        "conversation": ("SELECT * FROM conversations WHERE id = ?", conversation_id),
        "messages": (
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id",
            conversation_id,
        ),
        "cards": ("SELECT * FROM cards WHERE customer_id = ? ORDER BY id", customer_id),
        "tickets": ("SELECT * FROM tickets WHERE customer_id = ? ORDER BY id", customer_id),
        "tracker": (
            "SELECT id, type_name FROM events WHERE sender_id = ? ORDER BY id",
            conversation_id,
        ),
    }
    with database(stack) as connection:
        return {
            name: connection.execute(sql, (value,)).fetchall()
            for name, (sql, value) in queries.items()
        }


def secrets_of(stack: Stack, customer_id: int) -> list[str]:
    """What would give A's data away: card digits and the payees of recent card payments."""
    with database(stack) as connection:
        cards = connection.execute(
            "SELECT last_four FROM cards WHERE customer_id = ?", (customer_id,)
        ).fetchall()
        payees = connection.execute(
            "SELECT DISTINCT t.counterparty FROM transactions t JOIN cards c ON t.card_id = c.id"
            " WHERE c.customer_id = ?",
            (customer_id,),
        ).fetchall()
    return [value for (value,) in cards + payees if value]


def eventually(check: Any, timeout: float = 10) -> Any:
    """The first truthy result of `check()`: the CRM copy lands just after the bot answers."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def stored_through(stack: Stack, conversation_id: str, last_reply: str | None) -> bool:
    """Whether the CRM holds the turn that ended with this reply (the outbox is done)."""
    reply = stack.api("GET", f"/api/v1/conversations/{conversation_id}")
    messages = reply.body["messages"] if reply.status == 200 else []
    return bool(messages) and messages[-1]["text"] == last_reply


def customer_texts(stack: Stack, conversation_id: str) -> list[str]:
    reply = stack.api("GET", f"/api/v1/conversations/{conversation_id}")
    if reply.status != 200:
        return []
    return [m["text"] for m in reply.body["messages"] if m["sender"] == "customer"]


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def assert_reveals_nothing(reply: object, secrets: list[str]) -> None:
    shown = json.dumps(reply)
    leaked = [secret for secret in secrets if secret in shown]
    assert not leaked, f"{leaked} leaked in {shown[:200]}"


def test_a_rest_conversation_serves_only_the_customer_it_is_bound_to(stack: Stack) -> None:
    sender = f"e2e-identity-{uuid.uuid4().hex[:8]}"
    a_token = widget_token(stack, A)
    own = stack.say(sender, UNKNOWN_PAYMENT, a_token)
    assert "latest card payments" in texts(own), "A sees their own payments"
    assert stack.api("GET", f"/api/v1/conversations/{sender}").body["customer_id"] == A
    assert eventually(lambda: stored_through(stack, sender, own[-1].get("text")))
    secrets = secrets_of(stack, A)
    card = stack.api("GET", f"/api/v1/customers/{A}").body["cards"][0]
    before = crm_rows(stack, sender, A)

    intruders = [
        (None, 403, "conversation_bound"),
        (widget_token(stack, B), 403, "conversation_bound"),
        (forged_token(A), 401, "invalid_customer_token"),
        (expired_token(stack, A), 401, "invalid_customer_token"),
    ]
    attempts = [
        UNKNOWN_PAYMENT,
        f"I lost my card, it ends in {card['last_four']}, block it",
        "I want to talk to a person",
    ]
    for token, status, code in intruders:
        for text in attempts:
            body: dict[str, Any] = {"sender": sender, "message": text}
            if token is not None:
                body["metadata"] = {"customer_token": token}
            reply = stack.post_webhook(json.dumps(body).encode())
            assert (reply.status, reply.body["error"]["code"]) == (status, code), text
            assert_reveals_nothing(reply.body, secrets)
            time.sleep(PAUSE_S)

    assert crm_rows(stack, sender, A) == before, "nothing stored, no card blocked, no ticket"
    open_handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    assert all(h["conversation_id"] != sender for h in open_handoffs)
    assert stack.say(sender, "thanks", a_token), "A can still talk"


async def test_a_socket_cannot_join_or_write_into_another_customers_session(
    stack: Stack,
) -> None:
    a_token, b_token = widget_token(stack, A), widget_token(stack, B)
    async with Customer(stack, a_token) as owner:
        answered = await owner.ask(UNKNOWN_PAYMENT)
        last = answered[-1] if isinstance(answered[-1], dict) else answered[-1][1]  # (at, data)
        session = owner.session_id
        assert stack.api("GET", f"/api/v1/conversations/{session}").body["customer_id"] == A
        assert eventually(lambda: stored_through(stack, session, last.get("text")))
        asked = [
            (None, session),
            (b_token, session),
            (forged_token(A), session),
            (expired_token(stack, A), session),
            (None, "e2e-made-up-session"),
            (None, issue_session_id("not-the-servers-key")),
        ]
        listeners = [Customer(stack, token, session_id) for token, session_id in asked]
        for listener in listeners:
            await listener.__aenter__()
        try:
            assert all(listener.session_id != session for listener in listeners)
            assert listeners[4].session_id != "e2e-made-up-session"
            before = crm_rows(stack, session, A)

            writer = listeners[0]
            await writer.sio.emit(
                "user_uttered",
                {"message": UNKNOWN_PAYMENT, "session_id": session, "metadata": {}},
            )
            _, general = await writer.next_message()
            _, heard = await writer.next_message()
            assert general["text"] and "£" not in general["text"]
            assert "sign in" in heard["text"], "the writer speaks, anonymously, in its own session"
            assert eventually(lambda: customer_texts(stack, writer.session_id)) == [UNKNOWN_PAYMENT]
            written = stack.api("GET", f"/api/v1/conversations/{writer.session_id}").body
            assert written["customer_id"] is None
            assert crm_rows(stack, session, A) == before

            assert "in the queue" in texts(await owner.ask("I want to talk to a person"))
            handoff = open_handoff(stack, session)
            assert handoff["customer_id"] == A
            assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
            agent_text = "Hello, this is the bank. I can see your payments."
            sent = stack.api(
                "POST", f"/api/v1/handoffs/{handoff['id']}/messages", {"text": agent_text}
            )
            assert sent.status == 201 and sent.body["delivered"] is True
            assert (await owner.next_message(5))[1]["text"] == agent_text
            await asyncio.sleep(2)
            for listener in listeners:
                while not listener.inbox.empty():
                    _, message = listener.inbox.get_nowait()
                    assert message.get("text") != agent_text, listener.token
                    assert_reveals_nothing(message, secrets_of(stack, A))
            done = {"resolution": "Identity test: closed.", "return_to_bot": False}
            assert (
                stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/resolve", done).status == 200
            )
        finally:
            for listener in listeners:
                await listener.__aexit__()


async def test_tokens_are_stored_nowhere(stack: Stack) -> None:
    """Not one token this module sent, accepted or refused, is in either store."""
    sender = f"e2e-identity-{uuid.uuid4().hex[:8]}"
    a_token = widget_token(stack, A)
    assert stack.say(sender, "hello", a_token)
    refused = {"sender": sender, "message": "hi", "metadata": {"customer_token": forged_token(A)}}
    assert stack.post_webhook(json.dumps(refused).encode()).status == 401
    async with Customer(stack, widget_token(stack, B)) as customer:
        await customer.ask("hello")
        assert eventually(lambda: customer_texts(stack, customer.session_id)) == ["hello"]
    with database(stack) as connection:
        tracker = [data for (data,) in connection.execute("SELECT data FROM events")]
        everything = "\n".join(connection.iterdump())
    with closing(sqlite3.connect(make_url(stack.settings.tracker_url).database)) as connection:
        everything += "\n".join(connection.iterdump())
    assert tracker, "Rasa's tracker store is read"
    assert not any("customer_token" in data for data in tracker)
    for token in ISSUED_TOKENS:
        assert token not in everything
        assert token.split(".")[-1] not in everything, "not even the token's signature"
