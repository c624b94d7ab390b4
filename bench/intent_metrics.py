"""How the intent benchmark scores a model: accuracy, macro-F1, calibration, Rasa's fallback."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

FALLBACK_INTENT = "nlu_fallback"
RASA_FALLBACK_THRESHOLD = 0.3
RASA_AMBIGUITY_THRESHOLD = 0.1


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1 over the true intents: a fallback only ever costs recall."""
    labels = sorted(set(truth))
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro")),
    }


def with_fallback(
    probabilities: np.ndarray, classes: np.ndarray, threshold: float, ambiguity: float = 0.0
) -> list[str]:
    """What Rasa's FallbackClassifier makes of the ranking: low or ambiguous goes to fallback."""
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    falls_back = (top_two[:, 1] < threshold) | (top_two[:, 1] - top_two[:, 0] < ambiguity)
    best = classes[probabilities.argmax(axis=1)]
    return [FALLBACK_INTENT if fb else str(name) for fb, name in zip(falls_back, best, strict=True)]


def expected_calibration_error(
    probabilities: np.ndarray, classes: np.ndarray, truth: Sequence[str], bins: int = 15
) -> float:
    """ECE: how far the top confidence is from the accuracy, averaged over 15 equal bins."""
    confidence = probabilities.max(axis=1)
    correct = classes[probabilities.argmax(axis=1)] == np.asarray(truth)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)
