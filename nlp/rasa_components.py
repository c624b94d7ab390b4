"""Rasa adapters for the NLP layer: thin `GraphComponent`s around the estimators in `nlp/`.

In `config.yml`: `- name: nlp.rasa_components.SpacyTfidfIntentClassifier`. The classifier
reads each message's text itself, so it needs no Rasa featurizer before it.
"""

from __future__ import annotations

import logging
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier as RasaIntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from nlp.intent import IntentClassifier

logger = logging.getLogger(__name__)

MODEL_FILE = "intent_classifier.joblib"
# Rasa's answer for a message it cannot classify (no text, or no trained model).
NO_INTENT: dict[str, Any] = {"name": None, "confidence": 0.0}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SpacyTfidfIntentClassifier(RasaIntentClassifier, GraphComponent):
    """Rasa intent classifier backed by `nlp.intent.IntentClassifier`."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "spacy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "word_ngram_range": [1, 2],
            "char_ngram_range": [1, 4],
            "C": 1.0,
            "multi_class": "ovr",
            "calibration_folds": 3,
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentClassifier | None = None,
    ) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self.model = model
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyTfidfIntentClassifier:
        return cls(config, execution_context.node_name, model_storage, resource)

    def _estimator(self) -> IntentClassifier:
        return IntentClassifier(
            word_ngram_range=tuple(self.config["word_ngram_range"]),
            char_ngram_range=tuple(self.config["char_ngram_range"]),
            C=self.config["C"],
            multi_class=self.config["multi_class"],
            calibration_folds=self.config["calibration_folds"],
        )

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        intents = {e.get(INTENT) for e in examples}
        if len(intents) < 2:
            logger.debug(
                f"Cannot train '{self.__class__.__name__}': it needs examples of at least two "
                f"intents and got {len(intents)}. Skipping training of the classifier."
            )
            return self._resource
        self.model = self._estimator().fit(
            [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples]
        )
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets `intent` and a ranking sorted by confidence, capped at `ranking_length`."""
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        for message in messages:
            message.set(INTENT, dict(NO_INTENT), add_to_output=True)
            message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if self.model is None or not with_text:
            return messages
        probabilities = self.model.predict_proba([m.get(TEXT) for m in with_text])
        ranking_length = self.config[RANKING_LENGTH]
        for message, row in zip(with_text, probabilities, strict=True):
            order = row.argsort()[::-1]
            if ranking_length > 0:
                order = order[:ranking_length]
            ranking = [
                {"name": str(self.model.classes_[i]), "confidence": float(row[i])} for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self.model, model_dir / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyTfidfIntentClassifier:
        try:
            with model_storage.read_from(resource) as model_dir:
                model = joblib.load(model_dir / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.debug(
                f"No trained '{cls.__name__}' in resource '{resource.name}'; "
                f"using an untrained one."
            )
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, execution_context.node_name, model_storage, resource, model)
