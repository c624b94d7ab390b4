from __future__ import annotations

import pytest

from nlp.sentiment import FRUSTRATED_AT, SentimentScore, score, score_conversation, trend

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


def test_a_polite_request_for_a_person_is_not_frustration() -> None:
    assert score("can I speak to an agent please").frustration == 0.0
    assert score("I want to speak to a human").frustration >= FRUSTRATED_AT


def test_two_different_words_of_exasperation_weigh_more_than_one() -> None:
    one = score("this is ridiculous").frustration
    two = score("this is ridiculous, I'm fed up").frustration
    assert two > one
