"""What a pressed button reads as: its title under the bot's newest message, else its intent's."""

from __future__ import annotations

from bot.buttons import offered_titles, pressed_label

RATING = [{"title": "😍 5", "payload": '/csat_score{"score": 5}'}]
PERSON = [{"title": "Talk to a person", "payload": "/ask_for_human"}]
BLOCK = [{"title": "Yes, block it", "payload": "/affirm"}]
PERSON_IN_SPANISH = [{"title": "Hablar con una persona", "payload": "/ask_for_human"}]


def test_the_offered_buttons_name_their_payloads() -> None:
    offered = offered_titles([*RATING, *PERSON_IN_SPANISH])
    assert pressed_label("/ask_for_human", offered) == "Hablar con una persona"
    assert pressed_label('/csat_score{"score": 5}', offered) == "😍 5"


def test_buttons_without_a_title_or_payload_are_no_offer() -> None:
    assert offered_titles([{"payload": "/affirm"}, {"title": "Yes"}, {}]) == {}


def test_a_payload_nobody_offered_reads_as_its_intents_title() -> None:
    assert pressed_label("/ask_for_human", {}) == "Talk to a person"
    assert pressed_label("/get_statement", {}) == "Get a statement"
    # Under another question, a typed "/affirm" is a plain yes, not consent to block a card.
    assert pressed_label("/affirm", offered_titles(PERSON)) == "Yes"
    assert pressed_label("/affirm", offered_titles(BLOCK)) == "Yes, block it"


def test_what_a_title_would_hide_or_cannot_name_stays_as_typed() -> None:
    assert pressed_label('/csat_score{"score": 5}', {}) == '/csat_score{"score": 5}'
    assert pressed_label("/no_such_intent", {}) == "/no_such_intent"
    assert pressed_label("/ask_for_human please", {}) == "/ask_for_human please"
    assert pressed_label("hello", offered_titles(PERSON)) == "hello"
