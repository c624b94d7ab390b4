"""What staff see after a resolved handoff, on the real stack: the rating trigger is not a
customer message, a pressed rating button is stored as its label, and a second handoff's
packet is about what came after the first one, in plain third person and without "worsening"
for a polite request."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.helpers import eventually

pytestmark = pytest.mark.e2e

RATING_PRESS = '/csat_score{"csat_score": "5"}'


def live_handoff(stack: Stack, conversation: str) -> dict:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return next(h for h in handoffs if h["conversation_id"] == conversation)


def test_a_second_handoff_shows_staff_only_what_came_after_the_first(stack: Stack) -> None:
    conversation = f"e2e-staff-{uuid.uuid4().hex[:8]}"
    token = stack.api("POST", "/api/v1/customers/3/widget-token").body["token"]
    stack.say(conversation, "where is my new card?", token)
    stack.say(conversation, "I want to talk to a person", token)
    first = live_handoff(stack, conversation)
    assert stack.api("POST", f"/api/v1/handoffs/{first['id']}/claim").status == 200
    resolved = stack.api(
        "POST",
        f"/api/v1/handoffs/{first['id']}/resolve",
        {"resolution": "The card ships tomorrow.", "return_to_bot": True},
    )
    assert resolved.status == 200 and resolved.body["bot_resumed"], resolved.body
    stack.say(conversation, RATING_PRESS, token)

    stack.say(conversation, "I moved house and need to change my address", token)
    stack.say(conversation, "can I speak to an agent please", token)
    second = live_handoff(stack, conversation)
    assert second["id"] != first["id"]
    packet = second["packet"]
    assert "card" not in packet["summary"].lower(), packet["summary"]
    assert "address" in packet["summary"].lower(), packet["summary"]
    assert "can the customer" not in packet["summary"].lower(), packet["summary"]
    intents = [i["intent"] for i in packet["intents"]]
    assert "give_feedback" not in intents
    assert "give_feedback" not in [a["intent"] for a in packet["bot_attempts"]]
    assert packet["sentiment_trend"]["trend"] != "worsening", packet["sentiment_trend"]

    def customer_said() -> list[str]:
        messages = stack.api("GET", f"/api/v1/conversations/{conversation}").body["messages"]
        said = [m["text"] for m in messages if m["sender"] == "customer"]
        assert "can I speak to an agent please" in said, said
        return said

    said = eventually(customer_said)
    assert not any(text.startswith("EXTERNAL") for text in said), said
    assert RATING_PRESS not in said
    assert "5" in said
