"""The frustration detector inside a Rasa pipeline: sentiment always, intent override at need."""

from __future__ import annotations

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
