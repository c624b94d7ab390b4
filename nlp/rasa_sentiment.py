"""Rasa adapter for `nlp.sentiment`: scores every message and flags strong frustration.

Each parsed message gets a `sentiment` entry in its parse data. When frustration reaches
the threshold, the intent becomes `frustrated` (confidence = the frustration score), the way
Rasa's FallbackClassifier switches to `nlu_fallback`, so one rule can hand the customer to a
person whatever they were asking about. Place it after the FallbackClassifier.
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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FrustrationDetector(GraphComponent):
    """Adds sentiment to parse data; strong frustration overrides the intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # 0.55: "worst bank ever, useless" and "I am furious" reach it; a plain complaint
        # ("my card is lost") scores about 0.2.
        return {"threshold": 0.55, "intent": "frustrated"}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config["threshold"])
        self.intent = str(config["intent"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationDetector:
        return cls({**cls.get_default_config(), **config})

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
            if sentiment.frustration >= self.threshold and current != self.intent:
                frustrated = {
                    INTENT_NAME_KEY: self.intent,
                    PREDICTED_CONFIDENCE_KEY: sentiment.frustration,
                }
                ranking = message.get(INTENT_RANKING_KEY) or []
                message.set(INTENT, frustrated, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [frustrated, *ranking], add_to_output=True)
        return messages
