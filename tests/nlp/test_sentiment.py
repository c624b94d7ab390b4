from __future__ import annotations

import pytest

from nlp.card_loss import fold
from nlp.sentiment import (
    FRUSTRATED_AT,
    SentimentScore,
    _foreign_kind,
    _foreign_person_request,
    asks_for_person,
    cue_language,
    score,
    score_conversation,
    trend,
)

STRONG = 0.55
"""The FrustrationDetector's threshold (config.yml): one message this frustrated hands over."""

FRUSTRATED = "This is ridiculous, third time I'm asking and my card STILL DOES NOT WORK!!!"
CALM = "When will my new card arrive?"
HAPPY = "Great, thank you so much, that fixed it!"


def mood(s: SentimentScore) -> float:
    return s.compound - s.frustration


def test_frustrated_calm_and_happy_are_ordered() -> None:
    frustrated, calm, happy = score(FRUSTRATED), score(CALM), score(HAPPY)
    assert frustrated.frustration > calm.frustration >= happy.frustration
    assert mood(frustrated) < mood(calm) < mood(happy)
    assert (frustrated.label, calm.label, happy.label) == ("negative", "neutral", "positive")


@pytest.mark.parametrize(
    "text",
    [
        "This is the third time I am asking about my card",
        "I want to speak to a human",
        "I will close my account if this is not fixed",
        "I still have not received my card",
        "Where is my money? I asked you yesterday already",
    ],
)
def test_cues_that_vader_reads_as_neutral_make_a_message_negative(text: str) -> None:
    result = score(text)
    assert result.compound > -0.05  # VADER alone would not flag it
    assert result.frustration >= FRUSTRATED_AT
    assert result.label == "negative"


def test_shouting_and_exclamation_marks_add_frustration() -> None:
    plain = score("why is my card blocked")
    shouted = score("WHY IS MY CARD BLOCKED!!!")
    assert shouted.frustration > plain.frustration


def test_acronyms_are_not_shouting() -> None:
    assert score("Can I change the PIN of my ATM card via SMS?").frustration == 0.0


def test_still_wanting_something_is_not_a_complaint() -> None:
    assert score("I still want the blue card").frustration < FRUSTRATED_AT


def test_asking_the_same_thing_again_is_frustration() -> None:
    first = "Where is my card? It has not been delivered."
    again = "where is my card?? it has not been delivered"
    alone = score(again)
    repeated = score(again, history=[first])
    assert repeated.frustration > alone.frustration
    assert score_conversation([first, again])[1].frustration == repeated.frustration


def test_a_different_question_is_not_a_repeat() -> None:
    assert (
        score("I want to close my savings account", history=["I want to pay my bill"]).frustration
        == score("I want to close my savings account").frustration
    )


@pytest.mark.parametrize("text", [FRUSTRATED, CALM, HAPPY, "", "ok", "!!!???", "NO NO NO NO"])
def test_scores_stay_in_range(text: str) -> None:
    result = score(text)
    assert -1.0 <= result.compound <= 1.0
    assert 0.0 <= result.frustration <= 1.0
    assert result.label in {"negative", "neutral", "positive"}


def test_trend_follows_the_conversation() -> None:
    getting_angry = [
        "Hi, my card has not arrived yet",
        "It was ordered two weeks ago",
        "Where is my card? I asked already",
        "This is ridiculous, I want to talk to a human!!",
    ]
    calming_down = [
        "My card is declined everywhere and I am really annoyed",
        "It says declined every time",
        "ok I see, the new card is active now",
        "Great, thank you so much!",
    ]
    steady = ["What is my balance?", "And my IBAN?", "When is the next statement due?"]
    assert trend(score_conversation(getting_angry)) == "worsening"
    assert trend(score_conversation(calming_down)) == "improving"
    assert trend(score_conversation(steady)) == "stable"


def test_trend_needs_two_messages() -> None:
    assert trend([]) == "stable"
    assert trend([score(FRUSTRATED)]) == "stable"


def test_hedged_annoyance_is_mild() -> None:
    assert score("this is a bit annoying").frustration < score("this is annoying").frustration
    assert score("this is a bit annoying").frustration < FRUSTRATED_AT


def test_waiting_is_noticed_but_not_strong() -> None:
    assert 0.0 < score("this is taking long").frustration < FRUSTRATED_AT


@pytest.mark.parametrize(
    "text",
    [
        "how long does a transfer to another bank take",
        "can I top up from another bank account",
        "why hasn't my salary from another bank updated my balance",
    ],
)
def test_a_question_naming_another_bank_is_not_a_threat_to_leave(text: str) -> None:
    assert score(text).frustration == 0.0


@pytest.mark.parametrize(
    "text", ["I'm moving to another bank", "I'll switch to another bank", "switching banks"]
)
def test_going_to_another_bank_is_a_threat_to_leave(text: str) -> None:
    assert score(text).frustration >= 0.45


def test_a_polite_request_for_a_person_is_not_frustration() -> None:
    assert score("can I speak to an agent please").frustration == 0.0
    assert score("I want to speak to a human").frustration >= FRUSTRATED_AT


def test_two_different_words_of_exasperation_weigh_more_than_one() -> None:
    one = score("this is ridiculous").frustration
    two = score("this is ridiculous, I'm fed up").frustration
    assert two > one


# The same complaint in English and in the other languages the assistant answers in: each
# weighs what the English one does (nlp.sentiment.FOREIGN_CUES), give or take a cue.
SAME_COMPLAINT = {
    "this is ridiculous, nobody helps me": [
        "esto es ridículo, nadie me ayuda",
        "c'est ridicule, vraiment n'importe quoi",
        "das ist lächerlich, niemand hilft mir",
        "è ridicolo, nessuno mi aiuta",
        "isto é ridículo, ninguém me ajuda",
        "dit is belachelijk, niemand helpt me",
        "太离谱了，没人帮我",
        "это нелепо, никто мне не помогает",
    ],
    "I'm fed up": [
        "estoy harto",
        "estoy harta de esperar",
        "j'en ai marre",
        "ich habe die Nase voll",
        "sono stufo",
        "estou farto",
        "受够了",
        "もううんざりです",
        "정말 짜증나요",
    ],
    "I'm going to close my account": [
        "voy a cerrar mi cuenta",
        "je vais fermer mon compte",
        "ich werde mein Konto kündigen",
        "passo a un'altra banca",
        "vou mudar de banco",
    ],
}


@pytest.mark.parametrize(
    ("english", "foreign"),
    [(english, line) for english, lines in SAME_COMPLAINT.items() for line in lines],
)
def test_frustration_in_another_language_weighs_what_it_does_in_english(
    english: str, foreign: str
) -> None:
    assert score(foreign).frustration >= FRUSTRATED_AT
    assert abs(score(foreign).frustration - score(english).frustration) <= 0.15
    assert score(foreign).label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "he perdido mi tarjeta",
        "no puedo entrar en la aplicación",
        "ich habe die Karte verloren",
        "die Überweisung ist noch nicht da",
        "je n'ai pas reçu mon virement",
        "il mio bonifico non è arrivato",
        "o meu cartão não funciona",
        "我的银行卡丢了",
    ],
)
def test_a_plain_request_in_another_language_is_calm(text: str) -> None:
    """VADER's English lexicon is not asked: German "die" and Spanish "no" are not negative."""
    result = score(text)
    assert result.frustration < FRUSTRATED_AT
    assert result.compound == 0.0


def test_the_other_languages_cues_never_fire_on_the_english_training_data() -> None:
    """Word boundaries and language-specific words: no English example reads as foreign
    frustration or a foreign request for a person."""
    from tests.nlp.test_language import _nlu_examples

    firing = [
        text
        for text in _nlu_examples()
        if any(
            _foreign_kind(fold(text), kind)
            for kind in ("exasperation", "mild", "repeat", "leaving")
        )
        or _foreign_person_request(fold(text)) is not None
    ]
    assert firing == []


def test_an_angry_emoji_beside_words_adds_frustration() -> None:
    """ "😤 seriously?" is annoyance to answer, not yet a reason to hand over on its own."""
    assert score("😤 seriously?").frustration > score("seriously?").frustration
    assert FRUSTRATED_AT <= score("😤 seriously?").frustration < STRONG
    assert score("🙄 really?").frustration > 0.0
    assert score("thanks 😊").frustration == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "quiero hablar con una persona",
        "je veux parler à un humain",
        "ich möchte mit einem Menschen sprechen",
        "voglio parlare con un operatore",
        "quero falar com um atendente",
        "我要转人工",
        "I want to speak to a human",
    ],
)
def test_asking_for_a_person_is_read_in_any_of_our_languages(text: str) -> None:
    assert asks_for_person(text)
    assert score(text).frustration >= FRUSTRATED_AT


@pytest.mark.parametrize(
    "text",
    [
        "quiero hablar con una persona, por favor",
        "vorrei parlare con un operatore",
        "pourriez-vous me passer un conseiller s'il vous plaît",
    ],
)
def test_a_polite_request_for_a_person_is_not_frustration_in_any_language(text: str) -> None:
    assert asks_for_person(text)
    assert score(text).frustration == 0.0


@pytest.mark.parametrize(
    "text", ["esto es ridículo, nadie me ayuda", "where is my card?", "will a person call me?"]
)
def test_complaints_and_questions_are_not_requests_for_a_person(text: str) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("estoy harto de este banco", "es"),
        ("c'est nul, ça ne marche jamais", "fr"),
        ("das ist lächerlich", "de"),
        ("my card is lost again", None),
        ("I need a person", None),
        ("I want an agent", None),
        ("nobody helps me", None),
    ],
)
def test_words_of_frustration_name_their_language(text: str, language: str | None) -> None:
    """Words for a person are left out: "person" and "agent" are English too."""
    assert cue_language(text) == language
