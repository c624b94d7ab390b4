"""Rasa adapter for `nlp.sentiment`: scores every message and flags strong frustration.

Each parsed message gets a `sentiment` entry in its parse data. When frustration reaches
the threshold, the intent becomes `frustrated` (confidence = the frustration score), the way
Rasa's FallbackClassifier switches to `nlu_fallback`, so one rule answers frustration whatever
the customer was asking about; so does milder annoyance in a message the classifier could not
read, or read only as written in another language (nlp.rasa_language): "estoy harto" is
annoyance to answer, not only a language to name. Whether that hands the customer to a
person (strong or sustained frustration) is the action's decision (actions.handoff_rules).
Place it after the FallbackClassifier and nlp.rasa_language's components.

A customer whose segment strategy hands over earlier than the stock threshold (a valuable
customer at risk: at the first sign of frustration) gets that lower threshold here, whatever
the classifier read: a mild complaint about a declined card must reach action_handoff, not
the declined-card answer. The detector learns it through an injected `CustomerThreshold`
named in config.yml (`customer_threshold`), a function of the message metadata the channel
wrote, so nlp/ knows nothing of claims or the CRM. This is the one place every message
passes before the policies choose, and the existing `frustrated` rules (also inside the lost
card and rating forms) then route it as any frustration; a rule sees only the intent, and a
policy of its own would have to out-rank the forms' and rules' predictions. The action still
decides, from the claim it verifies, whether and why it hands over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from rasa.shared.utils.common import class_from_module_path

from nlp.sentiment import score

SENTIMENT = "sentiment"
METADATA = "metadata"
"""Where Rasa's NLUMessageConverter puts the UserMessage's metadata in a parsed Message."""

CustomerThreshold = Callable[[Mapping[str, Any]], float | None]
"""A message's metadata -> its customer's own frustration threshold, or None for the stock one."""


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
    """Adds sentiment to parse data; strong frustration overrides the intent.

    `customer_threshold` (in config: the dotted path of a class whose instances are one) may
    lower the threshold for one message's customer, never raise it; a message whose intent
    already hands over (`person_intents`) keeps it below the stock threshold, so asking for a
    person stays a request.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # 0.55: "worst bank ever, useless" and "I am furious" reach it; a plain complaint
        # ("my card is lost") scores about 0.2.
        # 0.3: a message the classifier could not read (or only saw was in another language)
        # that is still plainly annoyed ("a bit annoying", "this is taking long", "estoy
        # harto") is answered as such, not as a misunderstanding or a language to name;
        # actions.handoff_rules decides whether it is strong or sustained enough to hand over.
        return {
            "threshold": 0.55,
            "intent": "frustrated",
            "mild_threshold": 0.3,
            "unread_intents": ["nlu_fallback", "other_language"],
            "customer_threshold": None,
            "person_intents": ["ask_for_human"],
        }

    def __init__(
        self, config: dict[str, Any], customer_threshold: CustomerThreshold | None = None
    ) -> None:
        super().__init__(config)
        self.threshold = float(self.config["threshold"])
        self.intent = str(self.config["intent"])
        self.mild_threshold = float(self.config["mild_threshold"])
        self.unread_intents = frozenset(self.config["unread_intents"])
        self.person_intents = frozenset(self.config["person_intents"])
        lookup_class = self.config["customer_threshold"]
        if customer_threshold is None and lookup_class:
            customer_threshold = class_from_module_path(lookup_class)()
        self.customer_threshold = customer_threshold

    def threshold_for(self, message: Message) -> float:
        """The stock threshold, or the message's customer's own when that is lower."""
        if self.customer_threshold is None:
            return self.threshold
        own = self.customer_threshold(message.get(METADATA) or {})
        return self.threshold if own is None else min(self.threshold, own)

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
            frustration = sentiment.frustration
            if (
                frustration >= self.threshold
                or (current in self.unread_intents and frustration >= self.mild_threshold)
                or (
                    current not in self.person_intents
                    and frustration >= self.threshold_for(message)
                )
            ):
                override_intent(message, self.intent, frustration)
        return messages
