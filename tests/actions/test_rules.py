"""Handoff and card rules, and where the general intents come from, apart from Rasa."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from actions.card_rules import (
    active_last_fours,
    blockable,
    blocked_in_chat,
    card_digits,
    in_transit,
    overdue,
)
from actions.handoff_rules import (
    PRIORITY_BY_REASON,
    SUBJECT_BY_REASON,
    TICKET_TEXT_CHARS,
    main_category,
    misunderstood_twice,
    priority,
    reason_for,
    request_text,
    ticket_text,
)
from actions.intents import NLU_FALLBACK, general_intents, marked_general
from actions.tracker_view import BotAttempt
from bot.crm.enums import CardStatus, HandoffReason, TicketKind, TicketStatus
from bot.crm.store import CardInfo
from bot.settings import PROJECT_ROOT
from bot.training import domain_intents
from nlp.summarize import Turn

GENERAL = frozenset({"greet", "thanks", NLU_FALLBACK})
NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def customer(text: str, intent: str | None) -> Turn:
    return Turn("customer", text, intent)


def card(last_four: str, status: CardStatus, due_in_days: int | None = None) -> CardInfo:
    due = None if due_in_days is None else NOW + timedelta(days=due_in_days)
    return CardInfo(1, last_four, "visa", "physical", status, None, due)


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("frustrated", HandoffReason.FRUSTRATION),
        (NLU_FALLBACK, HandoffReason.REPEATED_FALLBACK),
        ("ask_for_human", HandoffReason.CUSTOMER_REQUEST),
        (None, HandoffReason.CUSTOMER_REQUEST),
    ],
)
def test_the_triggering_intent_gives_the_reason(intent, reason) -> None:
    assert reason_for(intent) is reason


def test_every_reason_has_a_subject_and_a_priority() -> None:
    assert set(SUBJECT_BY_REASON) == set(PRIORITY_BY_REASON) == set(HandoffReason)


@pytest.mark.parametrize(
    ("intents", "expected"),
    [
        (["greet", NLU_FALLBACK, NLU_FALLBACK], True),
        ([NLU_FALLBACK, "greet", NLU_FALLBACK], False),
        ([NLU_FALLBACK], False),
        ([], False),
    ],
)
def test_only_two_misunderstandings_in_a_row_hand_over(intents, expected) -> None:
    answered = [
        BotAttempt(intent, ("action_fallback",) if intent == NLU_FALLBACK else ("utter_greet",))
        for intent in intents[:-1]
    ]
    assert misunderstood_twice(intents[-1] if intents else None, answered) is expected


def test_card_safety_topics_go_first_whatever_the_reason() -> None:
    calm = [customer("hi", "greet"), Turn("bot", "Hello!")]
    urgent = [*calm, customer("someone used my card", "compromised_card")]
    assert [priority(reason, calm) for reason in HandoffReason] == [3, 1, 2, 2]
    assert {priority(reason, urgent) for reason in HandoffReason} == {1}


def test_the_category_is_the_latest_banking_topic() -> None:
    turns = [
        customer("hi", "greet"),
        customer("my card is late", "card_arrival"),
        Turn("bot", "It is on its way."),
        customer("and a payment I don't know", "card_payment_not_recognised"),
        customer("thanks", "thanks"),
    ]
    assert main_category(turns, GENERAL) == "card_payment_not_recognised"
    assert main_category(turns[:1], GENERAL) is None
    assert main_category([customer("?", None)], GENERAL) is None


def test_similar_tickets_are_searched_with_the_topic_messages_if_any() -> None:
    topic = [customer("hi", "greet"), customer("card late", "card_arrival"), customer("?", None)]
    assert request_text(topic, GENERAL) == "card late ?"
    chat = [customer("hi", "greet"), Turn("bot", "Hello!"), customer("thanks", "thanks")]
    assert request_text(chat, GENERAL) == "hi thanks"
    assert request_text([], GENERAL) == ""


def test_the_ticket_text_keeps_the_latest_words() -> None:
    assert ticket_text(["card declined", "agent"]) == "card declined\nagent"
    long = ticket_text(["x" * TICKET_TEXT_CHARS, "the end"])
    assert len(long) == TICKET_TEXT_CHARS and long.endswith("x\nthe end")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1234", "1234"), ("it ends in 9876 I think", "9876"), ("12345", None), (None, None)],
)
def test_card_digits_are_exactly_four(value, expected) -> None:
    assert card_digits(value) == expected


def test_cards_on_their_way_active_and_blockable() -> None:
    cards = [
        card("1111", CardStatus.ORDERED, 5),
        card("2222", CardStatus.SHIPPED, -1),
        card("3333", CardStatus.ACTIVE),
        card("4444", CardStatus.BLOCKED),
    ]
    assert [c.last_four for c in in_transit(cards)] == ["1111", "2222"]
    assert active_last_fours(cards) == ["3333"]
    assert [overdue(c, NOW) for c in cards] == [False, True, False, False]
    assert [blockable(cards, digits) for digits in ("3333", "4444", "9999")] == [
        True,
        False,
        False,
    ]


def test_lost_card_tickets() -> None:
    blocked = blocked_in_chat("4321", card("8765", CardStatus.ORDERED, 9))
    assert (blocked["kind"], blocked["status"]) == (TicketKind.LOST_CARD, TicketStatus.RESOLVED)
    assert "4321" in blocked["subject"] and "ending in 8765 ordered" in blocked["resolution"]


def test_general_intents_are_the_ones_marked_in_the_nlu_data(tmp_path: Path) -> None:
    (tmp_path / "nlu.yml").write_text(
        "nlu:\n"
        "  - intent: greet\n    metadata:\n      general: true\n    examples: |\n      - hi\n"
        "  - intent: card_arrival\n    examples: |\n      - where is my card\n"
        "  - intent: thanks\n    metadata:\n      general: false\n    examples: |\n      - ta\n"
    )
    (tmp_path / "rules.yml").write_text("rules:\n  - rule: r\n    steps: []\n")
    assert marked_general(tmp_path) == {"greet"}


def test_the_projects_general_intents_are_domain_intents_and_rasas_fallback() -> None:
    general = general_intents()
    assert {"greet", "inform", "frustrated", "csat_score", NLU_FALLBACK} <= general
    assert "card_arrival" not in general and "lost_or_stolen_card" not in general
    assert general - {NLU_FALLBACK} <= domain_intents(PROJECT_ROOT)
