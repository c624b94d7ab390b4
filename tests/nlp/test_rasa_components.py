"""The Rasa adapter: training, persist/load through Rasa's model storage, and processing."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training import fingerprinting
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from threadpoolctl import threadpool_info, threadpool_limits

import nlp.rasa_components
from nlp.encoder import encoder_id
from nlp.intent import IntentClassifier
from nlp.rasa_components import (
    ENCODER_FILE,
    MODEL_FILE,
    EncoderMismatchError,
    SemanticIntentClassifier,
)
from tests.nlp.test_intent import EXAMPLES

QUERIES = ["has my card arrived", "my card got stolen", "top up failing again", "hello"]


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


@pytest.fixture
def resource() -> Resource:
    return Resource("intent_classifier")


@pytest.fixture
def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="intent_classifier")


@pytest.fixture
def training_data() -> TrainingData:
    return TrainingData(
        [
            Message(data={"text": text, "intent": intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )


def _create(storage, resource, context, **config) -> SemanticIntentClassifier:
    return SemanticIntentClassifier.create(
        {**SemanticIntentClassifier.get_default_config(), **config}, storage, resource, context
    )


def _messages(texts: list[str]) -> list[Message]:
    return [Message(data={"text": text}) for text in texts]


def test_process_sets_intent_and_sorted_capped_ranking(
    storage, resource, context, training_data
) -> None:
    classifier = _create(storage, resource, context, ranking_length=2)
    classifier.train(training_data)
    messages = classifier.process(_messages(QUERIES))
    predicted = [m.get("intent")["name"] for m in messages[:3]]
    assert predicted == ["card_arrival", "lost_or_stolen_card", "top_up_failed"]
    for message in messages:
        intent, ranking = message.get("intent"), message.get("intent_ranking")
        assert len(ranking) == 2
        assert ranking[0] == intent
        confidences = [entry["confidence"] for entry in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert {entry["name"] for entry in ranking} <= set(EXAMPLES)
        assert "intent" in message.as_dict(only_output_properties=True)


def test_persist_and_load_round_trip_predicts_the_same(
    storage, resource, context, training_data
) -> None:
    trained = _create(storage, resource, context)
    trained.train(training_data)
    loaded = SemanticIntentClassifier.load(
        SemanticIntentClassifier.get_default_config(), storage, resource, context
    )
    assert loaded.model is not trained.model
    expected = trained.process(_messages(QUERIES))
    actual = loaded.process(_messages(QUERIES))
    for before, after in zip(expected, actual, strict=True):
        assert after.get("intent") == before.get("intent")
        assert after.get("intent_ranking") == before.get("intent_ranking")


def test_missing_resource_loads_an_untrained_classifier(storage, context) -> None:
    loaded = SemanticIntentClassifier.load(
        SemanticIntentClassifier.get_default_config(), storage, Resource("never_trained"), context
    )
    assert loaded.model is None
    [message] = loaded.process(_messages(["where is my card"]))
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    assert message.get("intent_ranking") == []


def test_training_without_enough_intents_is_skipped(storage, resource, context) -> None:
    classifier = _create(storage, resource, context)
    only_greetings = TrainingData(
        [Message(data={"text": "hi", "intent": "greet"}), Message(data={"text": "hello"})]
    )
    assert classifier.train(only_greetings) == resource
    assert classifier.model is None
    with pytest.raises(ValueError), storage.read_from(resource):
        pass


def test_messages_without_text_get_no_intent(storage, resource, context, training_data) -> None:
    classifier = _create(storage, resource, context)
    classifier.train(training_data)
    no_text = Message(data={"intent": "greet"})
    blank = Message(data={"text": "   "})
    with_text = Message(data={"text": "my card was stolen"})
    classifier.process([no_text, blank, with_text])
    assert no_text.get("intent") == {"name": None, "confidence": 0.0}
    assert blank.get("intent_ranking") == []
    assert with_text.get("intent")["name"] == "lost_or_stolen_card"


def test_training_ignores_examples_without_intent(
    storage, resource, context, training_data
) -> None:
    classifier = _create(storage, resource, context)
    data = copy.deepcopy(training_data)
    data = data.merge(TrainingData([Message(data={"text": "an unlabelled line"})]))
    classifier.train(data)
    assert set(classifier.model.classes_) == set(EXAMPLES)


def test_defaults_follow_the_estimator_and_the_encoder_is_not_persisted(
    storage, resource, context, training_data
) -> None:
    config = SemanticIntentClassifier.get_default_config()
    estimator = IntentClassifier()
    assert config["embedding_weight"] == estimator.embedding_weight > 0
    assert tuple(config["char_ngram_range"]) == estimator.char_ngram_range
    classifier = _create(storage, resource, context)
    classifier.train(training_data)
    assert classifier.model.embedding_weight == config["embedding_weight"]
    with storage.read_from(resource) as model_dir:
        # TF-IDF vocabularies and the SVM only: the 90 MB model stays in its package.
        assert (model_dir / MODEL_FILE).stat().st_size < 1_000_000


def test_previous_classifier_is_one_config_away(storage, resource, context, training_data) -> None:
    previous = {
        "embedding_weight": 0,
        "universal_weight": 0,
        "lemmas": True,
        "char_ngram_range": [1, 4],
        "C": 1.0,
    }
    classifier = _create(storage, resource, context, **previous)
    classifier.train(training_data)
    params = classifier.model.get_params()
    assert (params["embedding_weight"], params["lemmas"], params["C"]) == (0, True, 1.0)
    assert params["char_ngram_range"] == (1, 4)
    [message] = classifier.process(_messages(["my card was stolen"]))
    assert message.get("intent")["name"] == "lost_or_stolen_card"


def test_loading_for_parsing_keeps_blas_to_one_thread(
    storage, resource, context, training_data
) -> None:
    _create(storage, resource, context).train(training_data)
    with threadpool_limits(2, user_api="blas"):
        SemanticIntentClassifier.load({}, storage, resource, context)
        assert {
            pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"
        } == {1}


def test_fingerprint_changes_with_the_encoder_when_embeddings_are_used(monkeypatch) -> None:
    default = SemanticIntentClassifier.get_default_config()
    without = {**default, "embedding_weight": 0, "universal_weight": 0}
    universal_only = {**default, "embedding_weight": 0}
    before = SemanticIntentClassifier.fingerprint_addon(default)
    before_without = SemanticIntentClassifier.fingerprint_addon(without)
    assert encoder_id() in before
    assert encoder_id() in SemanticIntentClassifier.fingerprint_addon(universal_only)
    monkeypatch.setattr(nlp.rasa_components, "encoder_id", lambda: "another-encoder")
    assert SemanticIntentClassifier.fingerprint_addon(default) != before
    assert SemanticIntentClassifier.fingerprint_addon({}) != before
    assert SemanticIntentClassifier.fingerprint_addon(without) == before_without


def test_model_made_with_another_encoder_is_refused(
    storage, resource, context, training_data, monkeypatch
) -> None:
    trained = _create(storage, resource, context)
    trained.train(training_data)
    assert trained.encoder_id == encoder_id()
    loaded = SemanticIntentClassifier.load({}, storage, resource, context)
    assert loaded.encoder_id == encoder_id()
    monkeypatch.setattr(nlp.rasa_components, "encoder_id", lambda: "another-encoder")
    with pytest.raises(EncoderMismatchError, match="crm train") as refused:
        SemanticIntentClassifier.load({}, storage, resource, context)
    assert encoder_id() in str(refused.value) and "another-encoder" in str(refused.value)


def test_model_with_only_the_universal_embedding_is_refused_by_another_encoder(
    storage, resource, context, training_data, monkeypatch
) -> None:
    _create(storage, resource, context, embedding_weight=0).train(training_data)
    monkeypatch.setattr(nlp.rasa_components, "encoder_id", lambda: "another-encoder")
    with pytest.raises(EncoderMismatchError, match="crm train"):
        SemanticIntentClassifier.load({}, storage, resource, context)


def test_model_without_a_recorded_encoder_is_refused(
    storage, resource, context, training_data
) -> None:
    _create(storage, resource, context).train(training_data)
    with storage.write_to(resource) as model_dir:
        (model_dir / ENCODER_FILE).unlink()  # as persisted before the encoder was recorded
    with pytest.raises(EncoderMismatchError, match=r"\(unrecorded\).*crm train"):
        SemanticIntentClassifier.load({}, storage, resource, context)


def test_model_without_embeddings_loads_whatever_the_encoder(
    storage, resource, context, training_data, monkeypatch
) -> None:
    _create(storage, resource, context, embedding_weight=0, universal_weight=0).train(training_data)
    monkeypatch.setattr(nlp.rasa_components, "encoder_id", lambda: "another-encoder")
    loaded = SemanticIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process(_messages(["my card was stolen"]))
    assert message.get("intent")["name"] == "lost_or_stolen_card"


def test_rasa_can_fingerprint_the_component_and_import_what_it_requires() -> None:
    """Rasa reads each required package's version by distribution name when fingerprinting,
    and imports it by module name when validating: a name either cannot find fails every
    `rasa train`."""
    config = SemanticIntentClassifier.get_default_config()
    first = fingerprinting.calculate_fingerprint_key(SemanticIntentClassifier, config, {})
    changed = {**config, "universal_weight": 0}
    assert fingerprinting.calculate_fingerprint_key(SemanticIntentClassifier, changed, {}) != first
    for package in SemanticIntentClassifier.required_packages():
        importlib.import_module(package)
