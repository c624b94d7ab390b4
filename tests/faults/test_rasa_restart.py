"""Rasa restarted: conversations go on from their saved state, a paused handoff stays paused."""

from __future__ import annotations

import signal
import uuid

import pytest

from tests.faults.harness import Stack, eventually

pytestmark = pytest.mark.e2e
RESUME_S = 30


def open_handoff(stack: Stack, conversation_id: str) -> dict:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return next(h for h in handoffs if h["conversation_id"] == conversation_id)


def test_after_a_restart_a_form_goes_on_and_a_handoff_stays_paused_until_resolved(
    sqlite_stack: Stack,
) -> None:
    stack = sqlite_stack
    suffix = uuid.uuid4().hex[:8]
    handed_off, in_form = f"faults-paused-{suffix}", f"faults-form-{suffix}"

    [queued] = stack.say(handed_off, "I want to talk to a person")
    assert "in the queue" in queued["text"]
    [ask_digits] = stack.say(in_form, "I lost my card")
    assert "last four digits" in ask_digits["text"]

    stack.kill("rasa", signal.SIGTERM)
    stack.start("rasa")
    stack.wait_rasa()

    [notice] = stack.say(handed_off, "how do I change my PIN?")
    assert "in the queue" in notice["text"], "still paused: only the queue notice, no bot answer"
    passed_on = [reply["text"] for reply in stack.say(in_form, "it ends in 4321")]
    assert any("ending in 4321" in line for line in passed_on), "the form waited for the digits"

    handoff = open_handoff(stack, handed_off)
    assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
    assert stack.say(handed_off, "still waiting for someone") == [], "the agent answers now"
    resolved = stack.api(
        "POST",
        f"/api/v1/handoffs/{handoff['id']}/resolve",
        {"resolution": "Answered the customer's question by phone.", "return_to_bot": True},
    )
    assert resolved.status == 200, resolved.body

    def resumed() -> None:
        status = stack.api("GET", f"/api/v1/conversations/{handed_off}").body["status"]
        assert status == "bot"

    eventually(resumed, timeout=RESUME_S)
    back = stack.say(handed_off, "how do I change my PIN?")
    assert back and not any("in the queue" in reply["text"] for reply in back), back

    def stored_once_in_order() -> None:
        lines = [text for sender, text in stack.stored(handed_off) if sender == "customer"]
        assert lines == [
            "I want to talk to a person",
            "how do I change my PIN?",
            "still waiting for someone",
            "how do I change my PIN?",
        ]

    eventually(stored_once_in_order, timeout=RESUME_S)
