"""No silent turn, and no handoff a customer did not need, through the real stack.

What the customer sees for card digits out of the blue, emoji, another language, mild
annoyance and a second greeting; that none of these opens a handoff in the CRM; and that a
customer waiting in the queue is answered with their place and the expected wait.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_handoff import Customer

pytestmark = pytest.mark.e2e
WAIT = re.compile(r"number (\d+) in the queue; the expected wait is about \d+ minutes")


def handoffs_of(stack: Stack, conversation_id: str) -> list[dict]:
    """Every handoff of the conversation, whatever its status."""
    return [
        handoff
        for status in ("open", "claimed", "resolved")
        for handoff in stack.api("GET", f"/api/v1/handoffs?status={status}").body["handoffs"]
        if handoff["conversation_id"] == conversation_id
    ]


def answer(stack: Stack, sender: str, text: str) -> str:
    """The bot's reply to one message; never nothing."""
    replies = stack.say(sender, text)
    assert replies, f"no reply to {text!r}"
    return " ".join(reply.get("text", "") for reply in replies)


def test_card_digits_out_of_the_blue_get_an_answer(stack: Stack) -> None:
    sender = "e2e-digits"
    for text in ("1234", "my card number ends with 5991"):
        reply = answer(stack, sender, text)
        assert "block a lost or stolen card" in reply
    assert handoffs_of(stack, sender) == []


def test_emoji_are_acknowledged_not_handed_over(stack: Stack) -> None:
    sender = "e2e-emoji"
    answer(stack, sender, "what exchange rate do you use for euros?")
    assert "anything else" in answer(stack, sender, "👍")
    assert "welcome" in answer(stack, sender, "🙏")
    assert "anything else" in answer(stack, sender, "👍")
    assert handoffs_of(stack, sender) == []


def test_another_language_is_answered_in_that_language(stack: Stack) -> None:
    sender = "e2e-languages"
    assert "rephrase" in answer(stack, sender, "zorp quantum flibber")
    spanish = stack.say(sender, "hola, he perdido mi tarjeta y no sé qué hacer")
    assert "inglés" in spanish[0]["text"]
    assert spanish[0]["buttons"][0]["payload"] == "/ask_for_human"
    chinese = answer(stack, sender, "我的银行卡丢了，怎么办？")
    assert "英文" in chinese and "人工客服" in chinese
    assert handoffs_of(stack, sender) == []
    # The offered person is one press away.
    assert "in the queue" in answer(stack, sender, "/ask_for_human")
    assert [h["packet"]["reason"] for h in handoffs_of(stack, sender)] == ["customer_request"]


def test_mild_annoyance_is_heard_not_escalated(stack: Stack) -> None:
    sender = "e2e-mild"
    answer(stack, sender, "my transfer has been pending since yesterday")
    for text in ("this is a bit annoying", "this is taking long"):
        reply = answer(stack, sender, text)
        assert "in the queue" not in reply
        assert "connect you with a person" in reply
    assert handoffs_of(stack, sender) == []


def test_a_second_greeting_is_not_a_second_introduction(stack: Stack) -> None:
    sender = "e2e-hello-again"
    assert "I'm the Northwind Bank assistant" in answer(stack, sender, "hello")
    answer(stack, sender, "how long does it take to get a card delivered?")
    again = answer(stack, sender, "hello again")
    assert "Hello again" in again and "I'm the Northwind Bank assistant" not in again


def test_a_queued_customer_who_keeps_writing_hears_their_place(stack: Stack) -> None:
    sender = "e2e-queued-writer"
    queued = answer(stack, sender, "I want to talk to a person")
    assert "in the queue" in queued
    for text in ("hello?", "is anyone there?", "👍"):
        [notice] = stack.say(sender, text)
        place = WAIT.search(notice["text"])
        assert place is not None, notice
        assert int(place.group(1)) >= 1
    [handoff] = handoffs_of(stack, sender)
    assert handoff["status"] == "open"


async def test_the_widget_channel_acknowledges_a_queued_customer_too(stack: Stack) -> None:
    token = stack.api("POST", "/api/v1/customers/3/widget-token").body["token"]
    async with Customer(stack, token) as customer:
        [queued] = await customer.ask("can I talk to a person please")
        assert "in the queue" in queued["text"]
        [notice] = await customer.ask("hello? still waiting")
        assert WAIT.search(notice["text"]), notice
        [handoff] = handoffs_of(stack, customer.session_id)
        assert handoff["status"] == "open"
