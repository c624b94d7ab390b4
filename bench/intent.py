"""Intent benchmark on BANKING77: the project's classifier against DIET and a plain baseline.

    .venv/bin/python -m bench.intent --data ../shared/datasets/banking77 --diet-epochs 3 --repeats 3

Trains on `train.csv` and scores on `test.csv`; nothing is tuned on the test split (the
fallback threshold is chosen on a held-out fifth of the training split). Writes
`docs/bench/intent.md` and `var/bench/intent.json`. The Rasa pipelines are in
`bench.intent_rasa`, the report in `bench.intent_report`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from tqdm import tqdm

from bench.common import ROOT, p50_p95_ms, read_banking77, write_outputs
from bench.intent_metrics import (
    FALLBACK_INTENT,
    RASA_AMBIGUITY_THRESHOLD,
    RASA_FALLBACK_THRESHOLD,
    expected_calibration_error,
    scores,
    with_fallback,
)
from bench.intent_rasa import run_rasa_pipelines
from bench.intent_report import markdown
from nlp.intent import IntentClassifier, choose_fallback_threshold


def timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def choose_threshold(train_texts: list[str], train_labels: list[str]) -> dict[str, Any]:
    """Fit on 4/5 of TRAIN; choose the fallback threshold and check calibration on the rest."""
    fit_texts, held_texts, fit_labels, held_labels = train_test_split(
        train_texts, train_labels, test_size=0.2, stratify=train_labels, random_state=0
    )
    model = IntentClassifier().fit(fit_texts, fit_labels)
    probabilities = model.predict_proba(held_texts)
    raw = softmax(model.decision_function(held_texts), axis=1)
    correct = model.classes_[probabilities.argmax(axis=1)] == np.asarray(held_labels)
    chosen = choose_fallback_threshold(probabilities.max(axis=1), correct)
    handled = {}
    for ambiguity in (0.0, RASA_AMBIGUITY_THRESHOLD):
        predicted = with_fallback(probabilities, model.classes_, chosen.threshold, ambiguity)
        is_fallback = np.asarray(predicted) == FALLBACK_INTENT
        handled[str(ambiguity)] = float(np.mean(np.where(is_fallback, ~correct, correct)))
    return {
        "held_out_size": len(held_texts),
        "held_out_accuracy": float(correct.mean()),
        "ece_calibrated": expected_calibration_error(probabilities, model.classes_, held_labels),
        "ece_uncalibrated_softmax": expected_calibration_error(raw, model.classes_, held_labels),
        "scale": model.scale_,
        "threshold": chosen.threshold,
        "handled_rate": chosen.handled_rate,
        "fallback_rate": chosen.fallback_rate,
        "accuracy_answered": chosen.accuracy_answered,
        "handled_rate_by_ambiguity_threshold": handled,
    }


def component_latency(model: IntentClassifier, texts: list[str]) -> dict[str, float]:
    """Warm single-message calls of the Rasa component's process(), as the server makes them."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from nlp.rasa_components import SpacyTfidfIntentClassifier

    with tempfile.TemporaryDirectory() as storage_dir:
        component = SpacyTfidfIntentClassifier(
            SpacyTfidfIntentClassifier.get_default_config(),
            "intent_classifier",
            LocalModelStorage(Path(storage_dir)),
            Resource("intent_classifier"),
            model,
        )
        for text in texts[:50]:
            component.process([Message(data={"text": text})])
        durations = []
        for text in tqdm(texts, desc="component latency", leave=False):
            message = Message(data={"text": text})
            start = time.perf_counter()
            component.process([message])
            durations.append(time.perf_counter() - start)
    return p50_p95_ms(np.asarray(durations) * 1000.0)


def run_fast_models(
    train: tuple[list[str], list[str]], test: tuple[list[str], list[str]], threshold: float
) -> dict[str, Any]:
    """One repeat of the estimator and the baseline: fit on TRAIN, score on TEST."""
    model, fit_seconds = timed(lambda: IntentClassifier().fit(*train))
    probabilities = model.predict_proba(test[0])
    ours = {
        "fit_seconds": fit_seconds,
        **scores(test[1], model.classes_[probabilities.argmax(axis=1)]),
        "with_rasa_fallback": scores(
            test[1],
            with_fallback(
                probabilities, model.classes_, RASA_FALLBACK_THRESHOLD, RASA_AMBIGUITY_THRESHOLD
            ),
        ),
        "with_chosen_threshold": scores(
            test[1], with_fallback(probabilities, model.classes_, threshold)
        ),
        "fallback_rate_chosen_threshold": float(np.mean(probabilities.max(axis=1) < threshold)),
        "test_ece": expected_calibration_error(probabilities, model.classes_, test[1]),
        **component_latency(model, test[0]),
    }
    baseline_model = make_pipeline(TfidfVectorizer(), LinearSVC())
    _, baseline_seconds = timed(lambda: baseline_model.fit(*train))
    baseline = {"fit_seconds": baseline_seconds, **scores(test[1], baseline_model.predict(test[0]))}
    return {"ours": ours, "baseline": baseline}


def median(runs: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in keys:
            value = value[key]
        values.append(value)
    return float(np.median(values))


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    runs = result["repeats"]
    ours = {
        key: median(runs, "ours", key)
        for key in ("fit_seconds", "accuracy", "macro_f1", "p50_ms", "p95_ms", "test_ece")
    }
    ours["accuracy_rasa_fallback"] = median(runs, "ours", "with_rasa_fallback", "accuracy")
    ours["macro_f1_rasa_fallback"] = median(runs, "ours", "with_rasa_fallback", "macro_f1")
    ours["accuracy_chosen_threshold"] = median(runs, "ours", "with_chosen_threshold", "accuracy")
    baseline = {
        key: median(runs, "baseline", key) for key in ("fit_seconds", "accuracy", "macro_f1")
    }
    summary: dict[str, Any] = {"ours": ours, "baseline": baseline}
    rasa = result.get("rasa")
    if rasa:
        diet, pipeline = rasa["diet"], rasa["spacy_tfidf"]
        extrapolated = diet.get("extrapolated_train_seconds_100_epochs")
        summary["speedup"] = {
            "rasa_train_vs_diet_measured": diet["train_seconds"] / pipeline["train_seconds"],
            "fit_vs_diet_measured": diet["train_seconds"] / ours["fit_seconds"],
        }
        if extrapolated:
            summary["speedup"]["rasa_train_vs_diet_100"] = extrapolated / pipeline["train_seconds"]
            summary["speedup"]["fit_vs_diet_100"] = extrapolated / ours["fit_seconds"]
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets/banking77")
    parser.add_argument("--diet-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-rasa", action="store_true", help="estimators only, no rasa train")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/bench/intent.md")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/intent.json")
    args = parser.parse_args(argv)
    command = "python -m bench.intent " + " ".join(sys.argv[1:] if argv is None else argv)

    train, test = read_banking77(args.data, "train"), read_banking77(args.data, "test")
    result: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}",
        "load_average_at_start": os.getloadavg()[0],
        "train_size": len(train[0]),
        "test_size": len(test[0]),
        "diet_epochs": args.diet_epochs,
    }
    print("choosing the fallback threshold on held-out TRAIN ...", file=sys.stderr, flush=True)
    result["threshold"] = choose_threshold(*train)
    result["repeats"] = [
        run_fast_models(train, test, result["threshold"]["threshold"])
        for _ in tqdm(range(args.repeats), desc="fast models")
    ]
    if not args.skip_rasa:
        result["rasa"] = run_rasa_pipelines(train, test, args.diet_epochs)
    result["load_average_at_end"] = os.getloadavg()[0]
    result["summary"] = summarise(result)
    write_outputs(result, args.json, markdown(result, command), args.markdown)


if __name__ == "__main__":
    main()
