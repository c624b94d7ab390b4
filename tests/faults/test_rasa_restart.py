"""Rasa stopped and started again, once for every test here (loading a model takes a minute):

- conversations go on from their saved state, a paused handoff stays paused until resolved;
- the console's calls into Rasa survive Rasa being down, and a widget that was away gets
  what it missed.

Each scenario sets up its conversations before the stop (checked as it goes), the console's
calls are made while Rasa is down, and each test checks what happened after the start.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import Reply
from tests.faults.harness import Stack, eventually
from tests.faults.widget import (
    Widget,
    agent_reply,
    conversation,
    handed_off,
    offers_buttons,
    until,
)

pytestmark = pytest.mark.e2e
RESUME_S = 30
SETTLE_S = 120
"""Bound for what the console's worker does once Rasa is back (its retries are <= 30 s apart)."""
LIVE_S = 10


def open_handoff(stack: Stack, conversation_id: str) -> dict:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return next(h for h in handoffs if h["conversation_id"] == conversation_id)


@dataclass
class AwayWidget:
    """The delivery scenario before the stop: a claimed handoff and where the widget was."""

    handoff: dict
    session_id: str
    last_seq: float | None


async def widget_then_away(stack: Stack) -> AwayWidget:
    """With Rasa up: a live reply reaches the widget; one sent while it was away is replayed
    to it when it comes back, once."""
    async with Widget(stack, None, None) as widget:
        handoff = await handed_off(stack, widget)
        live = agent_reply(stack, handoff, "Hi, Ana here")
        assert live.status == 201 and live.body["delivery"]["status"] == "delivered", live.body
        await until(lambda: "Hi, Ana here" in widget.texts(), LIVE_S, "the live reply")
        session_id, last_seq = widget.session_id, widget.last_seq

    # Away from the chat (Rasa up): the reply is delivered to Rasa, no widget hears it.
    away = agent_reply(stack, handoff, "Still there?")
    assert away.status == 201, away.body
    async with Widget(stack, session_id, last_seq) as back:
        assert back.session_id == session_id
        await until(lambda: "Still there?" in back.texts(), LIVE_S, "the replayed reply")
        assert back.texts() == ["Still there?"], "only what it missed, once"
        assert back.received[0]["replayed"] is True
        return AwayWidget(handoff, session_id, back.last_seq)


@dataclass
class Restarted:
    """What each scenario left before the stop, and what the console answered while down."""

    paused: str
    in_form: str
    away: AwayWidget
    reply_while_down: Reply
    resolve_while_down: Reply
    stored_while_down: dict


@pytest.fixture(scope="module")
def restarted(sqlite_stack: Stack) -> Iterator[Restarted]:
    stack = sqlite_stack
    suffix = uuid.uuid4().hex[:8]
    paused, in_form = f"faults-paused-{suffix}", f"faults-form-{suffix}"

    [queued] = stack.say(paused, "I want to talk to a person")
    assert "in the queue" in queued["text"]
    [ask_digits] = stack.say(in_form, "I lost my card")
    assert "last four digits" in ask_digits["text"]
    away = asyncio.run(widget_then_away(stack))

    stack.kill("rasa", signal.SIGTERM)
    try:
        # Rasa down: the reply and the resolve are recorded, pending; nothing is lost or doubled.
        handoff_id = away.handoff["id"]
        down = agent_reply(stack, away.handoff, "Your card is unblocked")
        resolved = stack.api(
            "POST", f"/api/v1/handoffs/{handoff_id}/resolve", {"resolution": "Unblocked the card"}
        )
        stored = conversation(stack, away.session_id)
    finally:
        stack.start("rasa")
        stack.wait_rasa()
    yield Restarted(paused, in_form, away, down, resolved, stored)


def test_after_a_restart_a_form_goes_on_and_a_handoff_stays_paused_until_resolved(
    sqlite_stack: Stack, restarted: Restarted
) -> None:
    stack = sqlite_stack
    handed_off_id, in_form = restarted.paused, restarted.in_form

    [notice] = stack.say(handed_off_id, "how do I change my PIN?")
    assert "in the queue" in notice["text"], "still paused: only the queue notice, no bot answer"
    passed_on = [reply["text"] for reply in stack.say(in_form, "it ends in 4321")]
    assert any("ending in 4321" in line for line in passed_on), "the form waited for the digits"

    handoff = open_handoff(stack, handed_off_id)
    assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
    assert stack.say(handed_off_id, "still waiting for someone") == [], "the agent answers now"
    resolved = stack.api(
        "POST",
        f"/api/v1/handoffs/{handoff['id']}/resolve",
        {"resolution": "Answered the customer's question by phone.", "return_to_bot": True},
    )
    assert resolved.status == 200, resolved.body

    def resumed() -> None:
        status = stack.api("GET", f"/api/v1/conversations/{handed_off_id}").body["status"]
        assert status == "bot"

    eventually(resumed, timeout=RESUME_S)
    back = stack.say(handed_off_id, "how do I change my PIN?")
    assert back and not any("in the queue" in reply["text"] for reply in back), back

    def stored_once_in_order() -> None:
        lines = [text for sender, text in stack.stored(handed_off_id) if sender == "customer"]
        assert lines == [
            "I want to talk to a person",
            "how do I change my PIN?",
            "still waiting for someone",
            "how do I change my PIN?",
        ]

    eventually(stored_once_in_order, timeout=RESUME_S)


async def test_replies_and_resume_wait_for_rasa_and_the_widget_gets_what_it_missed(
    sqlite_stack: Stack, restarted: Restarted
) -> None:
    stack = sqlite_stack
    down, resolved = restarted.reply_while_down, restarted.resolve_while_down
    assert down.status == 202, down.body
    assert down.body["delivery"]["status"] == "pending"
    assert resolved.status == 200 and resolved.body["bot_resumed"] is False, resolved.body
    assert [(d["kind"], d["status"]) for d in resolved.body["deliveries"]] == [
        ("resume", "pending"),
        ("rating_prompt", "pending"),
    ]
    stored = restarted.stored_while_down
    assert stored["status"] == "handoff", "the bot has not taken it back while Rasa is down"
    assert [(d["kind"], d["status"]) for d in stored["deliveries"]] == [
        ("agent_message", "pending"),
        ("resume", "pending"),
        ("rating_prompt", "pending"),
    ]

    # Rasa is back: the widget gets the reply once, then the rating prompt.
    away = restarted.away
    async with Widget(stack, away.session_id, away.last_seq) as back:
        await until(
            lambda: any(offers_buttons(m) for m in back.shown), SETTLE_S, "the rating prompt"
        )
        await asyncio.sleep(2)  # a late duplicate would show by now
        assert back.texts().count("Your card is unblocked") == 1, back.received
        assert back.texts().index("Your card is unblocked") < len(back.texts()) - 1
    stored = conversation(stack, away.session_id)
    assert stored["status"] == "bot"
    assert stored["deliveries"] == []
    texts = [m["text"] for m in stored["messages"]]
    assert texts.count("Your card is unblocked") == 1
