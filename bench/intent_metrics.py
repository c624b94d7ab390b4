"""How the intent benchmark scores a model: accuracy, macro-F1, calibration, Rasa's fallback,
and out-of-scope detection on intents the model never saw."""

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
    fallback = falls_back(probabilities, threshold, ambiguity)
    best = classes[probabilities.argmax(axis=1)]
    return [FALLBACK_INTENT if fb else str(name) for fb, name in zip(fallback, best, strict=True)]


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


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax of raw scores per row: the uncalibrated confidence ECE is compared with."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def held_out_intents(intents: Sequence[str], seed: int, fraction: float = 0.25) -> list[str]:
    """A seeded random `fraction` of the intents (at least one), sorted: the unseen ones."""
    names = sorted(set(intents))
    count = max(1, round(len(names) * fraction))
    if count >= len(names):
        raise ValueError("holding out every intent leaves nothing to train on")
    chosen = np.random.default_rng(seed).choice(len(names), size=count, replace=False)
    return sorted(names[i] for i in chosen)


def falls_back(probabilities: np.ndarray, threshold: float, ambiguity: float = 0.0) -> np.ndarray:
    """Per message, whether Rasa's FallbackClassifier sends it to fallback (as `with_fallback`)."""
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    return (top_two[:, 1] < threshold) | (top_two[:, 1] - top_two[:, 0] < ambiguity)


def oos_point(
    in_scope: np.ndarray,
    in_scope_correct: np.ndarray,
    out_of_scope: np.ndarray,
    threshold: float,
    ambiguity: float = 0.0,
) -> dict[str, float]:
    """One operating point of out-of-scope detection.

    `in_scope` / `out_of_scope` are the probability rows of test messages whose intent the
    model was / was not trained on. Kept: answered (not sent to fallback); kept and correct:
    answered with the true intent; out-of-scope caught: sent to fallback.
    """
    kept = ~falls_back(in_scope, threshold, ambiguity)
    caught = falls_back(out_of_scope, threshold, ambiguity)
    return {
        "threshold": float(threshold),
        "ambiguity": float(ambiguity),
        "in_scope_kept": float(kept.mean()),
        "in_scope_kept_correct": float((kept & np.asarray(in_scope_correct, bool)).mean()),
        "out_of_scope_fallback": float(caught.mean()),
    }


def oos_curve(
    in_scope: np.ndarray,
    in_scope_correct: np.ndarray,
    out_of_scope: np.ndarray,
    thresholds: Sequence[float],
) -> list[dict[str, float]]:
    """`oos_point` over confidence thresholds (no ambiguity rule): the trade-off curve."""
    return [oos_point(in_scope, in_scope_correct, out_of_scope, t) for t in thresholds]


def oos_auroc(in_scope: np.ndarray, out_of_scope: np.ndarray) -> float:
    """How well the top confidence ranks in-scope above out-of-scope messages (0.5: chance)."""
    from sklearn.metrics import roc_auc_score

    confidence = np.concatenate([in_scope.max(axis=1), out_of_scope.max(axis=1)])
    is_in_scope = np.concatenate([np.ones(len(in_scope)), np.zeros(len(out_of_scope))])
    return float(roc_auc_score(is_in_scope, confidence))
