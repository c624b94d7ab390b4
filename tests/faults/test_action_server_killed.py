"""The action server is killed mid-conversation: the customer is told, then it goes on."""

from __future__ import annotations

import uuid

import pytest

from bot.rasa_plugins.action_failure import APOLOGY
from tests.faults.harness import Stack, eventually

pytestmark = pytest.mark.e2e
CARD_QUESTION = "where is my new card? it hasn't arrived"
"""Answered by `action_card_status` on the action server (for a guest: sign in first)."""


def test_a_killed_action_server_gets_an_apology_and_its_restart_a_normal_answer(
    sqlite_stack: Stack,
) -> None:
    stack = sqlite_stack
    sender = f"faults-actions-{uuid.uuid4().hex[:8]}"
    expected: list[tuple[str, str]] = []

    def turn(text: str) -> list[str]:
        replies = [reply["text"] for reply in stack.say(sender, text)]
        expected.extend([("customer", text)] + [("bot", reply) for reply in replies])
        return replies

    assert turn("how do I change my PIN?")
    stack.kill("actions")

    assert turn(CARD_QUESTION) == [APOLOGY]
    assert turn("can I pay with apple pay?"), "a static answer needs no action server"

    stack.start("actions")
    stack.wait_actions()
    after_restart = turn(CARD_QUESTION)
    assert after_restart and APOLOGY not in after_restart
    assert "sign in" in after_restart[-1]

    eventually(lambda: _assert_equal(stack.stored(sender), expected), timeout=30)


def _assert_equal(stored: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    assert stored == expected
