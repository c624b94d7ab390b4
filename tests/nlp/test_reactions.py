"""Emoji-only messages read as reactions; anything with words is left to the classifier."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlp.rasa_language import OtherLanguageClassifier, ReactionClassifier
from nlp.reactions import bare_number, only_hesitation, punctuation_only, reaction


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
        ("👋", "greet"),
        ("👋🏽", "greet"),
        ("👋😊", "greet"),
        ("🙋‍♀️", "greet"),
        ("👋🙏", "thanks"),
        ("👋😤", "frustrated"),
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


def test_a_wave_is_a_greeting() -> None:
    """A first "👋" got "anything else?" (an acknowledgement) instead of a greeting."""
    [wave] = ReactionClassifier({}).process([parsed("👋", "acknowledge")])
    assert wave.get("intent") == {"name": "greet", "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", True),
        ("42", True),
        (" 1234 ", True),
        ("#7421", True),
        ("1 234", True),
        ("4.5", True),
        ("5!", True),
        ("4/5", False),
        ("10/10", False),
        ("5 stars", False),
        ("five", False),
        ("card 1234", False),
        ("£50", False),
        ("", False),
    ],
)
def test_a_bare_number_is_only_digits(text: str, expected: bool) -> None:
    assert bare_number(text) is expected


@pytest.mark.parametrize("text", ["5", "42", "3", "1234", "100"])
def test_a_bare_number_is_a_number_given_never_a_rating(text: str) -> None:
    """The intent model read "5" as csat_score at 0.9: with no rating question that got the
    rating reply. A number alone is `inform`; only the question that asked says what for."""
    [number] = ReactionClassifier({}).process([parsed(text, "csat_score")])
    assert number.get("intent") == {"name": "inform", "confidence": 1.0}


def test_a_worded_rating_is_left_to_the_classifier() -> None:
    [worded] = ReactionClassifier({}).process([parsed("I'd give it a 4", "csat_score")])
    assert worded.get("intent")["name"] == "csat_score"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("quiero hablar con una persona", "es"),
        ("¿puedo hablar con alguien, por favor?", "es"),
        ("je veux parler à un humain", "fr"),
        ("je voudrais parler à un conseiller s'il vous plaît", "fr"),
        ("ich möchte mit einem Menschen sprechen", "de"),
        ("verbinden Sie mich bitte mit einem Mitarbeiter", "de"),
        ("vorrei parlare con un operatore", "it"),
        ("quero falar com uma pessoa", "pt"),
        ("ik wil met een medewerker praten", "nl"),
        ("我要转人工", "zh"),
        ("我想和人工客服说话", "zh"),
        ("я хочу поговорить с оператором", "ru"),
        ("オペレーターと話したいです", "ja"),
        ("상담원 연결해 주세요", "ko"),
    ],
)
def test_asking_for_a_person_in_another_language_is_asking_for_a_person(
    text: str, language: str
) -> None:
    """Handed over as in English, with the language, so the handoff is worded in it."""
    [message] = OtherLanguageClassifier({}).process([parsed(text)])
    assert message.get("intent")["name"] == "ask_for_human"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("language", language)]


@pytest.mark.parametrize(
    "text",
    [
        "he perdido mi tarjeta y no sé qué hacer",
        "esto es ridículo, nadie me ayuda",
        "mon virement n'est toujours pas arrivé",
        "wann kommt meine neue Karte an?",
        "我的银行卡丢了",
    ],
)
def test_other_requests_in_another_language_stay_other_language(text: str) -> None:
    [message] = OtherLanguageClassifier({}).process([parsed(text)])
    assert message.get("intent")["name"] == "other_language"


@pytest.mark.parametrize("read_as", ["out_of_scope", "ask_for_human", "bot_challenge"])
def test_a_request_for_a_person_in_another_language_whatever_the_model_read(read_as: str) -> None:
    [message] = OtherLanguageClassifier({}).process([parsed("je veux parler à un humain", read_as)])
    assert message.get("intent")["name"] == "ask_for_human"
    assert [e["value"] for e in message.get("entities")] == ["fr"]


def test_english_the_model_read_keeps_its_intent_even_if_langid_disagrees() -> None:
    """ "order me a pizza" looks Italian to langid, but has no Italian words of ours."""
    [message] = OtherLanguageClassifier({}).process([parsed("order me a pizza", "out_of_scope")])
    assert message.get("intent")["name"] == "out_of_scope"
    assert not message.get("entities")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("?", True),
        ("??", True),
        ("...", True),
        ("?!", True),
        (" ¿? ", True),
        ("-", True),
        ("ok?", False),
        ("5?", False),
        ("👍?", False),
        ("", False),
        ("  ", False),
    ],
)
def test_punctuation_only(text: str, expected: bool) -> None:
    assert punctuation_only(text) is expected


@pytest.mark.parametrize("text", ["?", "...", "?!", "!!!"])
def test_punctuation_alone_is_a_misunderstanding_not_a_yes(text: str) -> None:
    """ "?" was read as `affirm` (0.83) and answered "Is there anything else…"."""
    [message] = ReactionClassifier({}).process([parsed(text, "affirm")])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "read_as"),
    [("hmm", "affirm"), ("Hmmm...", "affirm"), ("erm", "deny"), ("wait", "stop")]
    + [("hang on, let me check", "stop"), ("one moment please", "stop")],
)
def test_a_hesitation_alone_is_no_answer_never_a_yes_or_a_stop(text: str, read_as: str) -> None:
    """In the lost card form "hmm" read as `affirm` blocked the card, "wait" as `stop` ended
    the report."""
    assert only_hesitation(text)
    [message] = ReactionClassifier({}).process([parsed(text, read_as)])
    assert message.get("intent") == {"name": "acknowledge", "confidence": 1.0}


@pytest.mark.parametrize(
    "text",
    ["wait, it was stolen not lost and I think someone used it abroad", "hold on 4821", "ok"],
)
def test_more_than_a_hesitation_is_left_to_the_classifier(text: str) -> None:
    assert not only_hesitation(text)
    [message] = ReactionClassifier({}).process([parsed(text, "stop")])
    assert message.get("intent")["name"] == "stop"


def test_a_question_mark_after_words_is_left_to_the_classifier() -> None:
    [message] = ReactionClassifier({}).process([parsed("really?", "affirm")])
    assert message.get("intent")["name"] == "affirm"


@pytest.mark.parametrize("text", ["qwpeoir zxmcnv", "lkjhg poiuy", "asdf jkl"])
@pytest.mark.parametrize("read_as", ["other_language", "nlu_fallback"])
def test_gibberish_is_a_misunderstanding_not_another_language(text: str, read_as: str) -> None:
    """Answered "Sorry, I can only chat in English", it never reached "ask twice, then a
    person": now it is `nlu_fallback` (please rephrase), with no language entity."""
    [message] = OtherLanguageClassifier({}).process([parsed(text, read_as)])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert not message.get("entities")


def test_gibberish_the_classifier_read_keeps_its_intent() -> None:
    """Only a reading of another language is undone: "thx" read as thanks is thanks."""
    [message] = OtherLanguageClassifier({}).process([parsed("thx", "thanks")])
    assert message.get("intent")["name"] == "thanks"


@pytest.mark.parametrize("text", ["hola", "danke", "merci beaucoup"])
def test_a_short_greeting_in_another_language_stays_another_language(text: str) -> None:
    [message] = OtherLanguageClassifier({}).process([parsed(text, "other_language")])
    assert message.get("intent")["name"] == "other_language"
