"""What the English intent model cannot read: emoji-only reactions and other languages.

Both would otherwise fall back to `nlu_fallback`, and two fallbacks in a row hand the
customer to a person. Place these after the FallbackClassifier and before the
FrustrationDetector (which still overrides either when a message is strongly frustrated).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from nlp.language import language_detector
from nlp.rasa_sentiment import RuleComponent, override_intent
from nlp.reactions import reaction

LANGUAGE = "language"
"""Parse-data key with the detector's guess, and the entity that carries a foreign language."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ReactionClassifier(RuleComponent):
    """An emoji-only message becomes `frustrated`, `thanks` or `acknowledge`: never a
    misunderstanding, a rating or card digits, whatever the intent model made of it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": {
                "frustrated": "frustrated",
                "thanks": "thanks",
                "acknowledge": "acknowledge",
            }
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.intents = {**self.get_default_config()["intents"], **self.config["intents"]}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            said = reaction(message.get(TEXT) or "")
            if said is not None:
                override_intent(message, self.intents[said], 1.0)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OtherLanguageClassifier(RuleComponent):
    """A message in another language becomes `other_language`, with a `language` entity.

    A non-Latin script decides on its own; a Latin-script guess counts only for a message the
    classifier could not read (or itself took for another language: data/nlu/general.yml has
    a few examples), because short English is sometimes guessed as Spanish or Italian and a
    message the English model understood is English enough to answer.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent": "other_language", "unread_intent": "nlu_fallback"}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.intent = str(self.config["intent"])
        self.unread_intent = str(self.config["unread_intent"])
        self.detector = language_detector()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            detected = self.detector.detect(text)
            message.set(LANGUAGE, detected.language, add_to_output=True)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            readable = current not in (self.unread_intent, self.intent)
            if not detected.foreign or (detected.latin and readable):
                continue
            override_intent(message, self.intent, detected.probability)
            entity = {
                ENTITY_ATTRIBUTE_TYPE: LANGUAGE,
                ENTITY_ATTRIBUTE_VALUE: detected.language,
                ENTITY_ATTRIBUTE_START: 0,
                ENTITY_ATTRIBUTE_END: len(text),
                EXTRACTOR: type(self).__name__,
            }
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
