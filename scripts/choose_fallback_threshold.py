"""Chooses the FallbackClassifier threshold for this bot on held-out folds of its own NLU data.

Usage: python scripts/choose_fallback_threshold.py   (prints the threshold and what it does)
"""

from __future__ import annotations

import numpy as np
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.model_selection import StratifiedKFold

from bot.settings import PROJECT_ROOT
from nlp.intent import IntentClassifier, choose_fallback_threshold

FOLDS = 5


def main() -> None:
    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    texts = np.array([m.get("text") for m in data.intent_examples], dtype=object)
    labels = np.array([m.get("intent") for m in data.intent_examples], dtype=object)
    confidences, correct = [], []
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    for train, held_out in folds.split(texts, labels):
        model = IntentClassifier().fit(list(texts[train]), list(labels[train]))
        probabilities = model.predict_proba(list(texts[held_out]))
        predicted = model.classes_[probabilities.argmax(axis=1)]
        confidences.extend(probabilities.max(axis=1))
        correct.extend(predicted == labels[held_out])
    print(f"held-out accuracy over {FOLDS} folds: {np.mean(correct):.3f} ({len(correct)} examples)")
    print(choose_fallback_threshold(confidences, correct))


if __name__ == "__main__":
    main()
