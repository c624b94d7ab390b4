"""Rasa adapter for `nlp.sentiment`: scores every message and flags strong frustration.

Each parsed message gets a `sentiment` entry in its parse data. When frustration reaches
the threshold, the intent becomes `frustrated` (confidence = the frustration score), the way
Rasa's FallbackClassifier switches to `nlu_fallback`, so one rule answers frustration whatever
the customer was asking about; so does milder annoyance in a message the classifier could not
read. Whether that hands the customer to a person (strong or sustained frustration) is the
action's decision (actions.handoff_rules). Place it after the FallbackClassifier.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlp.sentiment import score

SENTIMENT = "sentiment"


class RuleComponent(GraphComponent):
    """An NLU component with nothing to train: built from its config, defaults filled in."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RuleComponent:
        return cls(config)


def override_intent(message: Message, intent: str, confidence: float) -> None:
    """Make `intent` the message's intent, ahead of the classifier's ranking."""
    chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = message.get(INTENT_RANKING_KEY) or []
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FrustrationDetector(RuleComponent):
    """Adds sentiment to parse data; strong frustration overrides the intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # 0.55: "worst bank ever, useless" and "I am furious" reach it; a plain complaint
        # ("my card is lost") scores about 0.2.
        # 0.3: a message the classifier could not read that is still plainly annoyed ("a bit
        # annoying", "this is taking long") is answered as such, not as a misunderstanding;
        # actions.handoff_rules decides whether it is strong or sustained enough to hand over.
        return {
            "threshold": 0.55,
            "intent": "frustrated",
            "mild_threshold": 0.3,
            "unread_intent": "nlu_fallback",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.threshold = float(self.config["threshold"])
        self.intent = str(self.config["intent"])
        self.mild_threshold = float(self.config["mild_threshold"])
        self.unread_intent = str(self.config["unread_intent"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            sentiment = score(text)
            message.set(
                SENTIMENT,
                {
                    "compound": sentiment.compound,
                    "frustration": sentiment.frustration,
                    "label": sentiment.label,
                },
                add_to_output=True,
            )
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if current == self.intent:
                continue
            if sentiment.frustration >= self.threshold or (
                current == self.unread_intent and sentiment.frustration >= self.mild_threshold
            ):
                override_intent(message, self.intent, sentiment.frustration)
        return messages
