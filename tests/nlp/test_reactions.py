"""Emoji-only messages read as reactions; anything with words is left to the classifier."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlp.rasa_language import OtherLanguageClassifier, ReactionClassifier
from nlp.reactions import reaction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👍", "acknowledge"),
        ("👍👍", "acknowledge"),
        ("👌🏻", "acknowledge"),
        ("🙂", "acknowledge"),
        ("✅", "acknowledge"),
        ("🙏", "thanks"),
        ("❤️", "thanks"),
        ("👍 🙏", "thanks"),
        ("🫠", "acknowledge"),
        ("🇪🇸", "acknowledge"),
        ("👎", "frustrated"),
        ("😡", "frustrated"),
        ("😡😡", "frustrated"),
        ("😡😡😡!!", "frustrated"),
        ("🤬", "frustrated"),
        ("😠 😤", "frustrated"),
        ("💢", "frustrated"),
        ("👍😡", "frustrated"),
        ("so angry 😡", None),
        ("ok 👍", None),
        ("1234", None),
        ("...", None),
        ("", None),
    ],
)
def test_reactions(text: str, expected: str | None) -> None:
    assert reaction(text) == expected


def parsed(text: str, intent: str = "nlu_fallback") -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": 0.4}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": 0.4}], add_to_output=True)
    return message


def test_an_emoji_is_not_a_misunderstanding() -> None:
    thumbs, praying, words = ReactionClassifier({}).process(
        [parsed("👍"), parsed("🙏"), parsed("blorp the wizzle")]
    )
    assert thumbs.get("intent")["name"] == "acknowledge"
    assert praying.get("intent")["name"] == "thanks"
    assert words.get("intent")["name"] == "nlu_fallback"


def test_an_angry_emoji_is_frustration_not_a_rating() -> None:
    """The intent model took "😡" for a rating; whatever it says, an emoji is a reaction."""
    angry, other = ReactionClassifier({}).process(
        [parsed("😡😡", "csat_score"), parsed("🚗", "inform")]
    )
    assert angry.get("intent") == {"name": "frustrated", "confidence": 1.0}
    assert other.get("intent")["name"] == "acknowledge"
    assert [ranked["name"] for ranked in angry.get("intent_ranking")] == [
        "frustrated",
        "csat_score",
    ]


def test_another_language_becomes_an_intent_with_the_language() -> None:
    [spanish, chinese] = OtherLanguageClassifier({}).process(
        [parsed("he perdido mi tarjeta y no sé qué hacer"), parsed("我的银行卡丢了", "greet")]
    )
    for message, language in ((spanish, "es"), (chinese, "zh")):
        assert message.get("intent")["name"] == "other_language"
        [entity] = message.get("entities")
        assert (entity["entity"], entity["value"]) == ("language", language)


def test_latin_script_counts_only_when_the_classifier_could_not_read_it() -> None:
    """ "card lost abroad" looks Spanish to langid, but the intent model understood it."""
    [understood, unread] = OtherLanguageClassifier({}).process(
        [parsed("card lost abroad", "lost_or_stolen_card"), parsed("card lost abroad")]
    )
    assert understood.get("intent")["name"] == "lost_or_stolen_card"
    assert understood.get("language") == "es"
    assert unread.get("intent")["name"] == "other_language"


def test_the_language_is_added_when_the_classifier_already_said_other_language() -> None:
    [message] = OtherLanguageClassifier({}).process(
        [parsed("hola, he perdido mi tarjeta y no sé qué hacer", "other_language")]
    )
    assert [entity["value"] for entity in message.get("entities")] == ["es"]


def test_english_is_left_alone() -> None:
    [message] = OtherLanguageClassifier({}).process([parsed("blorp the wizzle")])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert not message.get("entities")
