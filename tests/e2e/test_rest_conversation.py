"""A customer talks to the real Rasa server over REST; every exchange lands in the CRM store."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.conftest import Reply, Stack
from tests.e2e.helpers import eventually

pytestmark = pytest.mark.e2e


def rasa_message_events(stack: Stack, sender: str) -> list[tuple[str, str]]:
    """User and bot events in Rasa's own tracker store, the ground truth for the CRM copy."""
    database = make_url(stack.settings.tracker_url).database
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT type_name, data FROM events"
            " WHERE sender_id = ? AND type_name IN ('user', 'bot') ORDER BY id",
            (sender,),
        ).fetchall()
    return [
        ("customer" if kind == "user" else "bot", json.loads(data)["text"]) for kind, data in rows
    ]


def stored_once_complete(stack: Stack, conversation: str, count: int) -> Reply:
    """The conversation as the console reads it, once its first `count` messages are stored
    (Rasa's outbox writes them shortly after the replies)."""

    def complete() -> Reply:
        reply = stack.api("GET", f"/api/v1/conversations/{conversation}")
        assert reply.status == 200 and len(reply.body["messages"]) >= count, reply.status
        return reply

    return eventually(complete)


def test_a_ten_turn_conversation_is_stored_in_order(stack: Stack) -> None:
    customer_token = stack.api("POST", "/api/v1/customers/1/widget-token").body["token"]
    profile = stack.api("GET", "/api/v1/customers/1").body
    card = next(c for c in profile["cards"] if c["status"] != "blocked")
    turns = [
        ("hello there", "greet"),
        ("where is my new card? it hasn't arrived", "card_arrival"),
        ("I lost my card", "lost_or_stolen_card"),
        (f"it ends in {card['last_four']}", "inform"),
        ("yes", "affirm"),
        ("how do I change my PIN?", "change_pin"),
        ("can I pay with apple pay?", "apple_pay_or_google_pay"),
        # Not "I want to close my account": its churn cue scores 0.45 frustration, which hands
        # customer 1's high-value segment to a person (their strategy's threshold) and pauses
        # the bot mid-test; the strategies have their own tests.
        ("what exchange rate do you use?", "exchange_rate"),
        ("thank you", "thanks"),
        ("goodbye", "goodbye"),
    ]
    expected = []
    for text, _ in turns:
        replies = stack.say("e2e-ten-turns", text, customer_token)
        assert replies, f"the bot answered nothing to {text!r}"
        expected.append(("customer", text))
        expected.extend(("bot", reply["text"]) for reply in replies)

    conversation = stored_once_complete(stack, "e2e-ten-turns", len(expected))

    assert conversation.status == 200
    stored = conversation.body["messages"]
    assert [(m["sender"], m["text"]) for m in stored] == expected
    customer_messages = [m for m in stored if m["sender"] == "customer"]
    assert [m["intent"] for m in customer_messages] == [intent for _, intent in turns]
    assert all(0 < m["confidence"] <= 1 for m in customer_messages)
    assert all(m["channel"] == "rest" for m in customer_messages)
    assert conversation.body["customer_id"] == 1
    assert any("is now blocked" in text for sender, text in expected if sender == "bot")
    blocked = next(
        c for c in stack.api("GET", "/api/v1/customers/1").body["cards"] if c["id"] == card["id"]
    )
    assert blocked["status"] == "blocked"
    assert rasa_message_events(stack, "e2e-ten-turns") == expected, "each event stored once"


def test_an_anonymous_customer_gets_answers_and_is_not_linked(stack: Stack) -> None:
    forged = "eyJjdXN0b21lcl9pZCI6MX0.forged.signature"
    body = {"sender": "e2e-anonymous", "message": "where is my card?"}
    refused = stack.post_webhook(
        json.dumps({**body, "metadata": {"customer_token": forged}}).encode()
    )
    assert (refused.status, refused.body["error"]["code"]) == (401, "invalid_customer_token")
    assert stack.api("GET", "/api/v1/conversations/e2e-anonymous").status == 404
    replies = stack.say("e2e-anonymous", "where is my card?")
    assert "sign in" in replies[-1]["text"]
    stored = stored_once_complete(stack, "e2e-anonymous", 1 + len(replies))
    assert stored.body["customer_id"] is None


def test_bad_input_gets_clear_errors_and_loses_nothing(stack: Stack) -> None:
    replies = stack.say("e2e-bad-input", "hello")
    before = stored_once_complete(stack, "e2e-bad-input", 1 + len(replies)).body

    cases = [
        (json.dumps({"sender": "e2e-bad-input", "message": ""}).encode(), 400, "empty_message"),
        (
            json.dumps({"sender": "e2e-bad-input", "message": "x" * 20_000}).encode(),
            413,
            "message_too_long",
        ),
        (b'{"sender": "e2e-bad-input", "message": ', 400, "invalid_json"),
        (
            json.dumps({"sender": "e2e-bad-input", "message": ["hi"]}).encode(),
            400,
            "invalid_message",
        ),
        (json.dumps({"sender": 42, "message": "hi"}).encode(), 400, "invalid_sender"),
        (b'{"sender": "e2e-bad-input", "message": "\xff\xfe"}', 400, "invalid_utf8"),
    ]
    for body, status, code in cases:
        reply = stack.post_webhook(body)
        assert (reply.status, reply.body["error"]["code"]) == (status, code), body[:60]

    for path, status in [
        ("/api/v1/conversations/no-such-conversation", 404),
        ("/api/v1/conversations?limit=-1", 400),
        ("/api/v1/customers/not-a-number", 404),
    ]:
        reply = stack.api("GET", path)
        assert reply.status == status and reply.body["error"]["message"], path

    after = stack.api("GET", "/api/v1/conversations/e2e-bad-input").body
    assert after == before
    thanked = stack.say("e2e-bad-input", "thanks")
    assert thanked, "the bot still answers afterwards"
    count = len(before["messages"]) + 1 + len(thanked)
    messages = stored_once_complete(stack, "e2e-bad-input", count).body["messages"]
    assert messages[: len(before["messages"])] == before["messages"]
    assert [m["text"] for m in messages if m["sender"] == "customer"] == ["hello", "thanks"]


def test_health_reports_every_component(stack: Stack) -> None:
    reply = stack.api("GET", "/healthz")
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert reply.body["components"] == {
        "db": "ok",
        "rasa": "ok",
        "actions": "ok",
        "outbox": "ok",
    }
    assert reply.body["outbox"]["dead"] == 0


def test_personal_data_never_reaches_either_store(stack: Stack) -> None:
    secret_text = "my card 4111 1111 1111 1111 was stolen, write to jane.doe@example.com"
    stack.say("e2e-pii", secret_text)
    stored = stored_once_complete(stack, "e2e-pii", 1).body["messages"][0]
    assert stored["text"] == "my card [CARD ending 1111] was stolen, write to [EMAIL]"
    assert stored["intent"] == "lost_or_stolen_card"
    database = make_url(stack.settings.tracker_url).database
    with sqlite3.connect(database) as connection:
        tracker_rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = 'e2e-pii'"
        ).fetchall()
    assert tracker_rows
    assert not any("4111" in data or "jane.doe" in data for (data,) in tracker_rows)
