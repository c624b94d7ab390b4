"""The frustration detector inside a Rasa pipeline: sentiment always, intent override at need."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlp.rasa_sentiment import FrustrationDetector


def parsed(text: str, intent: str = "card_arrival") -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": 0.9}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": 0.9}], add_to_output=True)
    return message


def test_calm_messages_keep_their_intent_and_gain_a_sentiment() -> None:
    [message] = FrustrationDetector({"threshold": 0.55, "intent": "frustrated"}).process(
        [parsed("where is my card?")]
    )
    assert message.get("intent")["name"] == "card_arrival"
    assert message.get("sentiment")["label"] == "neutral"
    assert "sentiment" in message.as_dict(only_output_properties=True)


def test_strong_frustration_becomes_the_intent() -> None:
    [message] = FrustrationDetector({"threshold": 0.55, "intent": "frustrated"}).process(
        [parsed("worst bank ever, useless")]
    )
    intent = message.get("intent")
    assert intent["name"] == "frustrated"
    assert intent["confidence"] == message.get("sentiment")["frustration"] >= 0.55
    assert [r["name"] for r in message.get("intent_ranking")] == ["frustrated", "card_arrival"]


def test_the_threshold_decides() -> None:
    lenient = FrustrationDetector({"threshold": 0.99, "intent": "frustrated"})
    [message] = lenient.process([parsed("worst bank ever, useless")])
    assert message.get("intent")["name"] == "card_arrival"


def test_messages_without_text_are_left_alone() -> None:
    [message] = FrustrationDetector({"threshold": 0.55, "intent": "frustrated"}).process(
        [Message(data={"intent": {"name": "affirm", "confidence": 1.0}})]
    )
    assert message.get("sentiment") is None


def test_mild_annoyance_in_an_unread_message_is_answered_as_annoyance() -> None:
    """Not a misunderstanding; whether it hands over is actions.handoff_rules' decision."""
    detector = FrustrationDetector({"threshold": 0.55, "intent": "frustrated"})
    [unread, understood] = detector.process(
        [parsed("this is a bit annoying", "nlu_fallback"), parsed("this is a bit annoying")]
    )
    assert unread.get("intent")["name"] == "frustrated"
    assert unread.get("intent")["confidence"] < 0.55
    assert understood.get("intent")["name"] == "card_arrival"


def test_calm_unread_messages_stay_unread() -> None:
    detector = FrustrationDetector({"threshold": 0.55, "intent": "frustrated"})
    [message] = detector.process([parsed("blorp the wizzle", "nlu_fallback")])
    assert message.get("intent")["name"] == "nlu_fallback"


def signed_in(text: str, intent: str = "card_arrival", customer: int = 7) -> Message:
    message = parsed(text, intent)
    message.set("metadata", {"crm_customer": {"id": customer, "sig": "s"}})
    return message


def at_risk_threshold(metadata) -> float | None:
    """Customer 7's segment hands over at the first sign of frustration; 8's more patiently."""
    thresholds = {7: 0.2, 8: 0.8}
    return thresholds.get((metadata.get("crm_customer") or {}).get("id"))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ugh", "nlu_fallback"),
        ("I am not happy", "nlu_fallback"),
        ("my card payment was declined again, this is a bit annoying", "declined_card_payment"),
        ("this is a bit annoying", "card_arrival"),
    ],
)
def test_a_customers_lower_threshold_makes_mild_frustration_the_intent(
    text: str, intent: str
) -> None:
    detector = FrustrationDetector({"threshold": 0.55}, customer_threshold=at_risk_threshold)
    [theirs, anonymous] = detector.process([signed_in(text, intent), parsed(text, intent)])
    assert theirs.get("intent")["name"] == "frustrated"
    assert 0.2 <= theirs.get("intent")["confidence"] < 0.55
    assert theirs.get("intent_ranking")[1]["name"] == intent
    assert anonymous.get("intent")["name"] == intent, "without a claim: the stock thresholds"


def test_a_customer_threshold_only_ever_lowers_the_stock_one() -> None:
    detector = FrustrationDetector({"threshold": 0.55}, customer_threshold=at_risk_threshold)
    [patient, unknown, calm] = detector.process(
        [
            signed_in("worst bank ever, useless", customer=8),
            signed_in("this is a bit annoying", customer=9),
            signed_in("where is my card?"),
        ]
    )
    assert patient.get("intent")["name"] == "frustrated", "0.8 does not raise 0.55"
    assert unknown.get("intent")["name"] == "card_arrival", "no strategy: the stock 0.55"
    assert calm.get("intent")["name"] == "card_arrival"


def test_asking_for_a_person_stays_a_request_under_a_lower_threshold() -> None:
    detector = FrustrationDetector({"threshold": 0.55}, customer_threshold=at_risk_threshold)
    [message] = detector.process([signed_in("I want to speak to a person", "ask_for_human")])
    assert message.get("sentiment")["frustration"] >= 0.2
    assert message.get("intent")["name"] == "ask_for_human"


def test_the_lookup_class_is_named_in_the_config() -> None:
    detector = FrustrationDetector(
        {"customer_threshold": "tests.nlp.test_rasa_sentiment.FixedThreshold"}
    )
    [message] = detector.process([signed_in("ugh", "greet")])
    assert isinstance(detector.customer_threshold, FixedThreshold)
    assert message.get("intent")["name"] == "frustrated"


class FixedThreshold:
    def __call__(self, metadata) -> float | None:
        return 0.2 if metadata else None


def nlu(
    *texts: str, read_as: str = "nlu_fallback", signed_in_as: int | None = None
) -> list[Message]:
    """The rule components in config.yml's order, after a classifier that read `read_as`;
    `signed_in_as` a customer whose segment hands over early (see `at_risk_threshold`)."""
    from nlp.rasa_language import OtherLanguageClassifier, ReactionClassifier

    messages = [
        parsed(text, read_as) if signed_in_as is None else signed_in(text, read_as, signed_in_as)
        for text in texts
    ]
    for component in (
        ReactionClassifier({}),
        OtherLanguageClassifier({}),
        FrustrationDetector(
            {"threshold": 0.55, "intent": "frustrated"}, customer_threshold=at_risk_threshold
        ),
    ):
        messages = component.process(messages)
    return messages


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("esto es ridículo, nadie me ayuda", "es"),
        ("c'est inacceptable, personne ne répond", "fr"),
        ("das ist lächerlich, niemand hilft mir", "de"),
        ("è assurdo, nessuno mi risponde", "it"),
        ("isto é ridículo, ninguém me ajuda", "pt"),
        ("太离谱了，没人帮我", "zh"),
    ],
)
def test_frustration_in_another_language_is_frustration_with_its_language(
    text: str, language: str
) -> None:
    """It used to be only `other_language`: the language named, the annoyance not heard.
    Now it is `frustrated` as in English, and keeps the language for the reply."""
    [message] = nlu(text)
    assert message.get("intent")["name"] == "frustrated"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("language", language)]


@pytest.mark.parametrize("read_as", ["out_of_scope", "frustrated", "card_arrival"])
def test_whatever_the_english_model_read_into_foreign_frustration(read_as: str) -> None:
    """The intent model read "esto es ridículo, nadie me ayuda" as out of scope (0.60): it
    cannot have learnt Spanish words of frustration, so its reading does not count."""
    [message] = nlu("esto es ridículo, nadie me ayuda", read_as=read_as)
    assert message.get("intent")["name"] == "frustrated"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("language", "es")]


def test_short_frustration_in_another_language_is_frustration_too() -> None:
    """Too short for langid to be sure it is Spanish: frustration all the same."""
    [harto] = nlu("estoy harto")
    assert harto.get("intent")["name"] == "frustrated"


def test_a_calm_message_in_another_language_stays_other_language() -> None:
    [message] = nlu("he perdido mi tarjeta y no sé qué hacer")
    assert message.get("intent")["name"] == "other_language"


def test_an_angry_emoji_beside_short_english_is_annoyance_not_a_language() -> None:
    """ "😤 seriously?" was answered in Korean."""
    [message] = nlu("😤 seriously?")
    assert message.get("intent")["name"] == "frustrated"
    assert not message.get("entities")
    assert message.get("language") == "en"


def test_a_negative_opinion_nobody_asked_for_is_not_a_misunderstanding() -> None:
    """ "not great" unread is mild annoyance, answered as such."""
    [message] = nlu("not great")
    assert message.get("intent")["name"] == "frustrated"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("estoy harto de este banco", "es"),
        ("c'est nul, ça ne marche jamais", "fr"),
        ("estoy harto", "es"),
    ],
)
@pytest.mark.parametrize("read_as", ["nlu_fallback", "out_of_scope", "card_arrival"])
@pytest.mark.parametrize("signed_in_as", [None, 7])
def test_frustration_langid_is_unsure_of_still_carries_its_language(
    text: str, language: str, read_as: str, signed_in_as: int | None
) -> None:
    """langid is below its confidence for these ("estoy harto de este banco" 0.77), so no
    `language` entity was set and the handoff or apology was worded in English; their words
    of frustration name the language."""
    [message] = nlu(text, read_as=read_as, signed_in_as=signed_in_as)
    assert message.get("intent")["name"] == "frustrated"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("language", language)]
    assert message.get("language") == language


@pytest.mark.parametrize("text", ["nobody helps me", "still nothing", "I need a person"])
def test_english_frustration_or_requests_get_no_foreign_language(text: str) -> None:
    for message in nlu(text) + nlu(text, read_as="out_of_scope", signed_in_as=7):
        assert not message.get("entities")
        assert message.get("language") == "en"


@pytest.mark.parametrize("text", ["qwpeoir zxmcnv", "lkjhg poiuy", "asdf jkl", "?"])
def test_gibberish_and_punctuation_stay_misunderstandings(text: str) -> None:
    [message] = nlu(text, read_as="other_language")
    assert message.get("intent")["name"] == "nlu_fallback"
    assert not message.get("entities")
