"""Ratings through the real stack: asked after a resolve or on request, in digits or words,
asked again when off the scale, stored once, and never changed by a digit typed later."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.crm.database import create_crm_engine
from bot.crm.store import CRMStore
from tests.e2e.conftest import Stack
from tests.e2e.test_handoff import Customer, login, open_handoff

pytestmark = pytest.mark.e2e
QUESTION = "How would you rate the help you got today"
THANKS = "Thank you for your rating"
NOT_ASKED = "I see a number"
"""A number nobody asked for, a rating already given included: nothing is stored."""


async def replies(customer: Customer, text: str) -> list[str]:
    """Say something and collect the texts of the answers until the bot goes quiet."""
    await customer.say(text)
    answers = [(await customer.next_message())[1]]
    while True:
        try:
            answers.append((await customer.next_message(1.5))[1])
        except asyncio.TimeoutError:
            return [answer.get("text", "") for answer in answers]


def rating_of(stack: Stack, handoff_id: int) -> int | None:
    resolved = stack.api("GET", "/api/v1/handoffs?status=resolved").body["handoffs"]
    return next(h for h in resolved if h["id"] == handoff_id)["csat"]


def queued(stack: Stack, conversation_id: str) -> bool:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return any(h["conversation_id"] == conversation_id for h in handoffs)


def bot_ratings(stack: Stack, conversation_id: str) -> list[int]:
    store = CRMStore(create_crm_engine(stack.settings.database_url))
    try:
        return [r["score"] for r in store.feedback.bot_ratings(conversation_id)]
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def agent_token(stack: Stack) -> str:
    stack.api(
        "POST",
        "/api/v1/staff",
        {"username": "rita", "password": "rita-password-1", "role": "agent"},
    )
    return login(stack, "rita", "rita-password-1")


async def handed_over_and_back(
    stack: Stack, customer: Customer, agent_token: str
) -> tuple[dict, dict]:
    """The customer asks for a person, an agent claims and resolves: the rating prompt."""
    assert "in the queue" in (await replies(customer, "I want to talk to a person"))[0]
    handoff = open_handoff(stack, customer.session_id)
    base = stack.settings.console_url
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {agent_token}"}) as agent:
        claimed = await agent.post(f"{base}/api/v1/handoffs/{handoff['id']}/claim")
        assert claimed.status == 200
        resolved = await agent.post(
            f"{base}/api/v1/handoffs/{handoff['id']}/resolve",
            json={"resolution": "Explained the fee.", "return_to_bot": True},
        )
        assert resolved.status == 200 and (await resolved.json())["bot_resumed"]
    _, prompt = await customer.next_message(10)
    assert QUESTION in prompt["text"]
    assert [button["title"] for button in prompt["quick_replies"]] == list("12345")
    return handoff, prompt


async def test_a_rating_in_words_is_stored_once_and_later_digits_change_nothing(
    stack: Stack, agent_token: str
) -> None:
    token = stack.api("POST", "/api/v1/customers/2/widget-token").body["token"]
    async with Customer(stack, token) as customer:
        await replies(customer, "why was I charged a fee for my card payment?")
        handoff, _ = await handed_over_and_back(stack, customer, agent_token)

        assert THANKS in (await replies(customer, "it was great"))[0]
        assert rating_of(stack, handoff["id"]) == 5

        right_after = await replies(customer, "4")
        assert NOT_ASKED in right_after[0]
        await replies(customer, "my transfer hasn't reached the recipient")
        assert NOT_ASKED in (await replies(customer, "2"))[0]
        assert rating_of(stack, handoff["id"]) == 5
        assert bot_ratings(stack, customer.session_id) == []
        assert not queued(stack, customer.session_id)


async def test_off_the_scale_and_unclear_answers_are_asked_again_without_a_handoff(
    stack: Stack, agent_token: str
) -> None:
    token = stack.api("POST", "/api/v1/customers/3/widget-token").body["token"]
    async with Customer(stack, token) as customer:
        handoff, _ = await handed_over_and_back(stack, customer, agent_token)
        for off_scale in ("10", "0"):
            reply = await replies(customer, off_scale)
            assert "Ratings go from 1 (poor) to 5 (excellent)." in reply[0]
            assert QUESTION in reply[-1]
        unclear = await replies(customer, "hmm")
        assert "didn't catch a rating" in unclear[0] and QUESTION in unclear[-1]
        assert THANKS in (await replies(customer, "five"))[0]
        assert rating_of(stack, handoff["id"]) == 5

        after = await replies(customer, "zorp quantum flibber")
        assert "rephrase" in after[0]
        assert not queued(stack, customer.session_id)


async def test_a_second_handoff_gets_its_own_rating(stack: Stack, agent_token: str) -> None:
    token = stack.api("POST", "/api/v1/customers/4/widget-token").body["token"]
    async with Customer(stack, token) as customer:
        first, prompt = await handed_over_and_back(stack, customer, agent_token)
        assert THANKS in (await replies(customer, prompt["quick_replies"][3]["payload"]))[0]
        second, _ = await handed_over_and_back(stack, customer, agent_token)
        assert THANKS in (await replies(customer, "terrible"))[0]
        assert (rating_of(stack, first["id"]), rating_of(stack, second["id"])) == (4, 1)


def test_feedback_the_customer_offers_is_stored_for_the_bot(stack: Stack) -> None:
    sender = "e2e-ratings-bot-feedback"
    token = stack.api("POST", "/api/v1/customers/5/widget-token").body["token"]
    asked = stack.say(sender, "I want to leave some feedback", token)
    assert QUESTION in asked[0]["text"]
    assert [button["title"] for button in asked[0]["buttons"]] == list("12345")
    assert THANKS in stack.say(sender, "4", token)[0]["text"]
    assert NOT_ASKED in stack.say(sender, "2", token)[0]["text"]
    assert bot_ratings(stack, sender) == [4]

    again = stack.say(sender, "can I rate this chat", token)
    assert QUESTION in again[0]["text"]
    assert "skip the rating" in stack.say(sender, "no thanks", token)[0]["text"]
    assert bot_ratings(stack, sender) == [4]
