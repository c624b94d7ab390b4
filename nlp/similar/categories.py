"""Category agreement: a classifier over ticket lemmas, trained on the indexed tickets.

A query agrees with a ticket as much as the classifier believes the query belongs to the
ticket's category. The default is the intent classifier's (`nlp.intent`: two sentence encoders
beside word and character TF-IDF), which generalises over paraphrases better than TF-IDF alone
(docs/benchmarks.md, "Similar tickets").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn import config_context
from sklearn.base import ClassifierMixin, clone

from nlp.encoder import encoder_id
from nlp.intent import IntentClassifier
from nlp.similar.records import Ticket


def default_classifier() -> IntentClassifier:
    """The intent classifier on space-joined lemmas, uncalibrated: the index turns its scores
    into probabilities with its own temperature. The classifier's calibration, fitted on the
    indexed tickets, slows the build, and on a handful of tickets it was far too sure of a
    category for a request none of them was about."""
    return IntentClassifier(calibration_folds=0)


def classifier_encoder(classifier: ClassifierMixin | None) -> str | None:
    """The sentence encoder whose embeddings a fitted classifier depends on, if any: its
    scores mean nothing on another encoder's embeddings."""
    if isinstance(classifier, IntentClassifier) and classifier.uses_encoders():
        return encoder_id()
    return None


def fit_classifier(
    template: ClassifierMixin | None,
    tickets: Sequence[Ticket],
    tokens: Sequence[list[str]],
    max_tickets: int,
    random_state: int,
) -> ClassifierMixin | None:
    """A clone of `template` (or `default_classifier()`) fitted on a sample of at most
    `max_tickets` labelled tickets; None when they carry fewer than two categories."""
    labelled = [i for i, t in enumerate(tickets) if t.label is not None]
    if len({tickets[i].label for i in labelled}) < 2:
        return None
    if len(labelled) > max_tickets:
        rng = np.random.default_rng(random_state)
        labelled = sorted(rng.choice(labelled, max_tickets, replace=False))
    model = clone(template if template is not None else default_classifier())
    return model.fit([" ".join(tokens[i]) for i in labelled], [tickets[i].label for i in labelled])


def probabilities(classifier: ClassifierMixin, texts: list[str], temperature: float) -> np.ndarray:
    """Class probabilities in the order of `classifier.classes_`: the softmax of its decision
    scores x `temperature`, or its `predict_proba` when it has no decision scores."""
    with config_context(assume_finite=True):
        if not hasattr(classifier, "decision_function"):
            return classifier.predict_proba(texts)
        scores = classifier.decision_function(texts)
    if scores.ndim == 1:
        scores = np.column_stack([np.zeros_like(scores), scores])
    scores = scores * temperature
    scores -= scores.max(axis=1, keepdims=True)
    proba = np.exp(scores)
    return proba / proba.sum(axis=1, keepdims=True)


def rows_by_label(labels: np.ndarray, n_classes: int, offset: int = 0) -> list[np.ndarray]:
    """For each class, the rows (plus `offset`) that carry it, in order."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_classes + 1))
    return [(order[bounds[c] : bounds[c + 1]] + offset).astype(np.int64) for c in range(n_classes)]
