"""A lost card reported in another language, and angry emoji, through the real stack."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def said(replies: list[dict]) -> str:
    return " ".join(reply.get("text") or "" for reply in replies)


def test_a_lost_card_in_spanish_is_an_urgent_handoff(stack: Stack) -> None:
    """The bot answers only in English, but the queue must still put a lost card first."""
    sender = "e2e-foreign-lost-card"
    [answer] = stack.say(sender, "He perdido mi tarjeta")
    assert [button["payload"] for button in answer["buttons"]] == ["/ask_for_human"]
    assert "in the queue" in said(stack.say(sender, "/ask_for_human"))
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    [handoff] = [h for h in handoffs if h["conversation_id"] == sender]
    assert (handoff["priority"], handoff["category"]) == (1, "lost_or_stolen_card")


def test_angry_emoji_are_frustration_not_a_rating(stack: Stack) -> None:
    sender = "e2e-angry-emoji"
    for text in ("😡", "😡😡"):
        answer = said(stack.say(sender, text))
        assert "number" not in answer
        assert "connect you with a person" in answer
    assert "welcome" in said(stack.say(sender, "🙏"))


def test_angry_emoji_in_the_lost_card_form_are_not_failed_answers(stack: Stack) -> None:
    sender = "e2e-angry-emoji-lost-card"
    assert "last four digits" in said(stack.say(sender, "I lost my card"))
    for _ in range(2):
        answer = said(stack.say(sender, "😡😡😡"))
        assert "connect you with a person" in answer
        assert "exactly the last four digits" not in answer
        assert "not getting this right" not in answer
        assert "last four digits" in answer
