"""Rasa adapters for the NLP layer: thin `GraphComponent`s around the estimators in `nlp/`.

In `config.yml`: `- name: nlp.rasa_components.SemanticIntentClassifier`. The classifier
reads each message's text itself, so it needs no Rasa featurizer before it. Only the fitted
vectorisers, SVM and settings go into the Rasa model: the sentence encoders come from the
installed model packages through `nlp.encoder`, loaded once per process. The SVM is fit on
the encoders' embeddings, so the model records their id and is refused by encoders with
another one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier as RasaIntentClassifier
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from threadpoolctl import threadpool_limits

import nlp.intent
from nlp.encoder import encoder_id, shared_encoder, shared_universal_encoder
from nlp.intent import IntentClassifier

logger = logging.getLogger(__name__)

MODEL_FILE = "intent_classifier.joblib"
# {"encoder_id": ...}: the sentence encoder whose embeddings the SVM was fit on.
ENCODER_FILE = "encoder.json"
# Rasa's answer for a message it cannot classify (no text, or no trained model).
NO_INTENT: dict[str, Any] = {"name": None, "confidence": 0.0}


class EncoderMismatchError(RasaException):
    """The trained classifier was fit on another sentence encoder's embeddings."""


def _recorded_encoder(record: str | None) -> str | None:
    """The encoder id in a model's ENCODER_FILE; None for models from before it was written."""
    try:
        recorded = json.loads(record)["encoder_id"] if record else None
    except (ValueError, KeyError, TypeError):
        return None
    return recorded if isinstance(recorded, str) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SemanticIntentClassifier(RasaIntentClassifier, GraphComponent):
    """Rasa intent classifier backed by `nlp.intent.IntentClassifier`."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "onnxruntime", "tokenizers"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = IntentClassifier().get_params()
        return {
            "word_ngram_range": list(defaults["word_ngram_range"]),
            "char_ngram_range": list(defaults["char_ngram_range"]),
            "C": defaults["C"],
            "multi_class": defaults["multi_class"],
            "embedding_weight": defaults["embedding_weight"],
            "universal_weight": defaults["universal_weight"],
            "lemmas": defaults["lemmas"],
            "calibration_folds": defaults["calibration_folds"],
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """The estimator's source and, when it uses embeddings, the encoder's id: Rasa's
        training cache must not hand back a pickle that an older `nlp/intent.py` wrote (it fails
        only when the first message is parsed), nor an SVM fit on another encoder's embeddings."""
        addon = hashlib.sha256(Path(nlp.intent.__file__).read_bytes()).hexdigest()
        settings = {**cls.get_default_config(), **config}
        if settings["embedding_weight"] or settings["universal_weight"]:
            addon += f"-encoder-{encoder_id()}"
        return addon

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        model: IntentClassifier | None = None,
        encoder: str | None = None,
    ) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self.model = model
        # The id of the sentence encoder `model` was fit with (`nlp.encoder.encoder_id()`).
        self.encoder_id = encoder
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SemanticIntentClassifier:
        return cls(config, execution_context.node_name, model_storage, resource)

    def _estimator(self) -> IntentClassifier:
        return IntentClassifier(
            word_ngram_range=tuple(self.config["word_ngram_range"]),
            char_ngram_range=tuple(self.config["char_ngram_range"]),
            C=self.config["C"],
            multi_class=self.config["multi_class"],
            embedding_weight=self.config["embedding_weight"],
            universal_weight=self.config["universal_weight"],
            lemmas=self.config["lemmas"],
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
        self.encoder_id = encoder_id()
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
            (model_dir / ENCODER_FILE).write_text(json.dumps({"encoder_id": self.encoder_id}))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SemanticIntentClassifier:
        # Rasa parses one message at a time, so a second BLAS thread has nothing to share: after
        # each tiny product it spins beside onnxruntime, which doubled a parse's CPU time and
        # took its p95 from 4.9 to 9.8 ms on two cores. One thread for the whole process.
        threadpool_limits(1, user_api="blas")
        try:
            with model_storage.read_from(resource) as model_dir:
                model = joblib.load(model_dir / MODEL_FILE)
                encoder_file = model_dir / ENCODER_FILE
                encoder_record = encoder_file.read_text() if encoder_file.is_file() else None
        except (ValueError, FileNotFoundError):
            logger.debug(
                f"No trained '{cls.__name__}' in resource '{resource.name}'; "
                f"using an untrained one."
            )
            return cls.create(config, model_storage, resource, execution_context)
        trained_with = _recorded_encoder(encoder_record)
        if model.uses_encoders():
            current = encoder_id()
            if trained_with != current:
                raise EncoderMismatchError(
                    f"The intent classifier in resource '{resource.name}' was trained on the "
                    f"embeddings of sentence encoder {trained_with or '(unrecorded)'}, but this "
                    f"installation's encoders are {current} (their code, model weights or "
                    f"onnxruntime changed). Its predictions would be wrong: retrain the model "
                    f"with `crm train`."
                )
            # Loaded with the Rasa model, not on the first customer's message.
            if model.embedding_weight:
                shared_encoder()
            if model.universal_weight:
                shared_universal_encoder()
        return cls(
            config, execution_context.node_name, model_storage, resource, model, trained_with
        )
