"""A handoff resolved with `return_to_bot: false` leaves the bot out (the console makes no
call to Rasa). The deliveries that wait for Rasa while it is down are in test_rasa_restart.py,
which stops Rasa once for all the tests that need it."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.harness import Stack
from tests.faults.widget import Widget, conversation, handed_off, offers_buttons

pytestmark = pytest.mark.e2e
QUIET_S = 4
"""How long the widget listens for a rating prompt that must not come."""


async def test_return_to_bot_false_leaves_the_bot_out(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    async with Widget(stack, None, None) as widget:
        handoff = await handed_off(stack, widget)
        resolved = stack.api(
            "POST",
            f"/api/v1/handoffs/{handoff['id']}/resolve",
            {"resolution": "Closed by phone", "return_to_bot": False},
        )
        assert resolved.status == 200, resolved.body
        assert (resolved.body["bot_resumed"], resolved.body["deliveries"]) == (False, [])
        shown = len(widget.shown)
        await widget.say("hello?")
        await asyncio.sleep(QUIET_S)
        assert not any(offers_buttons(m) for m in widget.shown[shown:]), "no rating prompt"
        assert conversation(stack, widget.session_id)["status"] == "closed"
