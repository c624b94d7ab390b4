"""Answers an exploratory test found misread, through the real stack: a card that is already
blocked, hesitation in the lost-card form, ratings given as "7" or as stars, products the bot
does not sell, statements, and a pressed "Talk to a person" in the agent's summary."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_lost_card_detours import Chat, blockable, customer_with, open_handoffs
from tests.e2e.test_ratings import bot_ratings

pytestmark = pytest.mark.e2e


def test_hesitation_is_waited_for_and_a_blocked_card_is_said_to_be_blocked(stack: Stack) -> None:
    customer_id, (digits, *_) = customer_with(stack, 1, skip=set())
    chat = Chat(stack, "e2e-explore-blocked", customer_id)
    assert "last four digits" in chat("I lost my card")
    for text in ("wait", "hang on, let me check", "one moment"):
        reply = chat(text)
        assert reply.startswith("Take your time.") and "not getting this right" not in reply
    assert f"Shall I block the card ending in {digits}" in chat(digits)
    assert "is now blocked" in chat("yes")
    assert digits not in blockable(stack, customer_id)

    assert "last four digits" in chat("I lost my card")
    reply = chat(digits)
    assert f"The card ending in {digits} is already blocked, so nobody can use it." in reply
    assert "Please check the digits" not in reply and "last four digits" not in reply
    assert "last four digits" in chat("I lost my card")
    reply = chat(f"can you unblock {digits}?")
    assert "Blocking can't be undone" in reply and "Please check the digits" not in reply


def test_a_number_off_the_scale_gets_the_scale_and_stars_are_a_rating(stack: Stack) -> None:
    sender = "e2e-explore-ratings"
    token = stack.api("POST", "/api/v1/customers/2/widget-token").body["token"]
    stack.say(sender, "I want to leave some feedback", token)
    off_scale = stack.say(sender, "7", token)
    assert off_scale[0]["text"] == "Ratings go from 1 (poor) to 5 (excellent)."
    assert "Thank you for your rating" in stack.say(sender, "⭐⭐⭐⭐", token)[0]["text"]
    assert bot_ratings(stack, sender) == [4]


def test_other_products_and_statements_get_their_answer_and_the_summary_shows_the_button(
    stack: Stack,
) -> None:
    """Phrasings that are not in data/nlu: a mortgage rate was an exchange rate, pet insurance
    another language, a statement the fee list; the button's payload showed in the summary."""
    chat = Chat(stack, "e2e-explore-products", 2)
    for question in ("what are your mortgage rates", "do you do pet insurance"):
        reply = chat(question)
        assert "mortgages, loans, credit, savings" in reply, (question, reply)
    assert "Account → Statements" in chat("I need a bank statement for my landlord")
    assert "in the queue" in chat("/ask_for_human")
    [handoff] = open_handoffs(stack, "e2e-explore-products")
    summary = handoff["packet"]["summary"]
    assert "/ask_for_human" not in summary and "Talk to a person" in summary, summary
