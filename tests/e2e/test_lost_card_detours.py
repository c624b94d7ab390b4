"""Lost and compromised cards through the real stack: every detour in the lost-card form, what
the customer reads, and what the CRM holds afterwards (issue 9, cases 1, 3, 4 and 5)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def said(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def cards(stack: Stack, customer_id: int) -> dict[int, dict]:
    profile = stack.api("GET", f"/api/v1/customers/{customer_id}").body
    return {card["id"]: card for card in profile["cards"]}


def blockable(stack: Stack, customer_id: int) -> list[str]:
    """The customer's unblocked cards whose digits name only one of their cards."""
    held = list(cards(stack, customer_id).values())
    digits = [card["last_four"] for card in held]
    return [
        card["last_four"]
        for card in held
        if card["status"] != "blocked" and digits.count(card["last_four"]) == 1
    ]


def customer_with(stack: Stack, count: int, skip: set[int]) -> tuple[int, list[str]]:
    return next(
        (customer_id, found)
        for customer_id in range(3, 60)
        if customer_id not in skip and len(found := blockable(stack, customer_id)) >= count
    )


def card_id(held: dict[int, dict], digits: str) -> int:
    return next(card_id for card_id, card in held.items() if card["last_four"] == digits)


def open_handoffs(stack: Stack, conversation_id: str) -> list[dict]:
    handoffs = stack.api("GET", "/api/v1/handoffs?status=open").body["handoffs"]
    return [h for h in handoffs if h["conversation_id"] == conversation_id]


class Chat:
    """One signed-in customer's REST conversation: the token goes with every message."""

    def __init__(self, stack: Stack, sender: str, customer_id: int | None) -> None:
        self.stack, self.sender = stack, sender
        self.token = (
            stack.api("POST", f"/api/v1/customers/{customer_id}/widget-token").body["token"]
            if customer_id
            else None
        )

    def __call__(self, text: str) -> str:
        return said(self.stack.say(self.sender, text, self.token))


def test_the_form_ends_before_a_handoff_and_a_later_yes_blocks_nothing(stack: Stack) -> None:
    customer_id, [digits, *_] = customer_with(stack, 1, skip=set())
    before = cards(stack, customer_id)
    say = Chat(stack, "e2e-lost-card-handback", customer_id)
    assert "last four digits" in say("I lost my card")
    assert f"Shall I block the card ending in {digits}" in say(digits)
    assert "answer yes" in say("hmm")
    assert "in the queue" in say("I want to talk to a person")
    [handoff] = open_handoffs(stack, "e2e-lost-card-handback")
    assert stack.api("POST", f"/api/v1/handoffs/{handoff['id']}/claim").status == 200
    resolved = stack.api(
        "POST",
        f"/api/v1/handoffs/{handoff['id']}/resolve",
        {"resolution": "Customer found the card.", "return_to_bot": True},
    )
    assert resolved.status == 200
    for stray in ("yes", "yes", "ok"):
        assert "block" not in say(stray).lower()
    assert cards(stack, customer_id) == before


def test_every_cancel_phrase_and_a_side_question_then_a_corrected_block(stack: Stack) -> None:
    customer_id, [first, second, *_] = customer_with(stack, 2, skip={3})
    before = cards(stack, customer_id)
    say = Chat(stack, "e2e-lost-card-detours", customer_id)

    assert "Sorry to hear that" in say("I lost my card")
    side = say("how do I change my PIN?")
    assert "Change PIN" in side and "last four digits" in side and "Sorry" not in side
    assert "haven't blocked anything" in say("stop")
    for cancel in ("forget it", "cancel"):
        say("I lost my card")
        assert "haven't blocked anything" in say(cancel)
    say("my card was stolen")
    say(first)
    assert "haven't blocked anything" in say("I don't want to block it anymore")
    assert cards(stack, customer_id) == before, "nothing blocked without a yes"

    say("I lost my card")
    assert f"ending in {first}" in say(first)
    assert f"Shall I block the card ending in {second}" in say(f"no, {second}")
    done = say("yes")
    assert f"the card ending in {second} is now blocked" in done

    after = cards(stack, customer_id)
    assert after[card_id(before, second)]["status"] == "blocked"
    assert after[card_id(before, first)] == before[card_id(before, first)]
    [replacement] = [c for c in after.values() if c["id"] not in before]
    assert f"ending in {replacement['last_four']}" in done
    if replacement["kind"] == "physical":
        assert replacement["status"] == "ordered" and replacement["expected_delivery"]
        where = say("where is my card?")
        assert f"ending in {replacement['last_four']} has been ordered" in where


def test_failed_answers_offer_a_person_and_fury_is_honoured(stack: Stack) -> None:
    customer_id, _ = customer_with(stack, 1, skip={3, 4})
    before = cards(stack, customer_id)
    say = Chat(stack, "e2e-lost-card-fury", customer_id)
    say("I lost my card")
    assert "last four digits" in say("hmm")
    offered = stack.say("e2e-lost-card-fury", "umm", say.token)
    assert "person" in said(offered)
    assert any(b["payload"] == "/ask_for_human" for r in offered for b in r.get("buttons", []))
    assert "in the queue" in say("this is useless, I am absolutely furious with you")
    [handoff] = open_handoffs(stack, "e2e-lost-card-fury")
    assert handoff["priority"] == 1
    assert cards(stack, customer_id) == before


@pytest.mark.parametrize(
    ("sender", "report", "digits"),
    [
        ("e2e-anonymous-lost", "my card was stolen", "4321"),
        ("e2e-anonymous-compromised", "I think my card is compromised", "9876"),
    ],
)
def test_a_signed_out_report_always_reaches_a_person(
    stack: Stack, sender: str, report: str, digits: str
) -> None:
    say = Chat(stack, sender, None)
    asked = say(report)
    assert "last four digits" in asked and "permanent" not in asked
    answer = say(digits)
    assert "not signed in" in answer and "in the queue" in answer
    assert "permanent" not in answer
    [handoff] = open_handoffs(stack, sender)
    assert handoff["priority"] == 1 and handoff["customer_id"] is None
    assert digits in handoff["text"]
    assert handoff["packet"]["slots"]["card_last_four"] == digits
