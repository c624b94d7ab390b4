"""A card loss reported in another language is urgent and a lost-card ticket."""

from __future__ import annotations

from actions.handoff_rules import main_category, priority, topic
from actions.intents import NLU_FALLBACK
from bot.crm.enums import HandoffReason
from nlp.summarize import Turn

GENERAL = frozenset({"greet", "other_language", "ask_for_human", NLU_FALLBACK})
SPANISH = ({"entity": "language", "value": "es"},)


def foreign(text: str, intent: str = "other_language") -> Turn:
    return Turn("customer", text, intent, SPANISH)


def test_a_foreign_lost_card_goes_first_as_a_lost_card() -> None:
    turns = [
        foreign("He perdido mi tarjeta"),
        Turn("bot", "Lo siento, solo puedo atenderte en inglés."),
        Turn("customer", "Hablar con una persona", "ask_for_human"),
    ]
    assert {priority(reason, turns) for reason in HandoffReason} == {1}
    assert main_category(turns, GENERAL) == "lost_or_stolen_card"


def test_the_language_entity_counts_even_when_frustration_took_the_intent() -> None:
    assert topic(foreign("¡Me robaron la tarjeta!", "frustrated")) == "lost_or_stolen_card"


def test_other_foreign_messages_keep_their_intent_and_priority() -> None:
    turns = [foreign("¿Cuál es mi saldo?"), Turn("customer", "/ask_for_human", "ask_for_human")]
    assert priority(HandoffReason.CUSTOMER_REQUEST, turns) == 3
    assert main_category(turns, GENERAL) is None


def test_only_a_foreign_message_is_read_with_the_lexicon() -> None:
    """English is the intent model's to read; the lexicon does not second-guess it."""
    assert topic(Turn("customer", "tarjeta perdida", "greet")) == "greet"
    assert topic(Turn("bot", "tarjeta perdida", None, SPANISH)) is None
