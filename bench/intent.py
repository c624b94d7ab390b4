"""Intent benchmark on BANKING77 and HWU64: the product's classifier, today's, and a baseline.

    .venv/bin/python -m bench.intent --data ../shared/datasets/banking77 \\
        --data ../shared/datasets/hwu64 --repeats 3

For each data set (`text,category` CSVs), in the same run: TF-IDF + LinearSVC with defaults,
today's classifier (lemmas, char 1-4, C=1, no embedding) and the product's
(`nlp.intent.IntentClassifier()` defaults); accuracy, macro-F1, training time, calibration
(ECE) and one message's latency through the classifier; then `config.yml`'s NLU pipeline,
with each classifier, trained with `rasa train nlu` and every test message run through
Rasa's `parse`; then out-of-scope detection on a held-out quarter of the intents
(`bench.intent_oos`). Trains on `train.csv`, scores on `test.csv`; anything chosen (the
fallback threshold) is chosen on a held-out fifth of `train.csv`. DIET is optional
(`--diet-epochs N`, slow). Writes `docs/bench/intent.md`, `docs/bench/intent_oos.png` and
`var/bench/intent.json`; a data set not run this time keeps its figures from the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from bench.common import ROOT, cpu_model, p50_p95_ms, read_intent_csv, write_outputs
from bench.intent_metrics import (
    FALLBACK_INTENT,
    expected_calibration_error,
    falls_back,
    scores,
    with_fallback,
)
from bench.intent_oos import chart, median_over_seeds, rescore_point, run_oos, top_two
from bench.intent_rasa import run_rasa_pipelines
from bench.intent_report import TITLES, markdown
from bench.intent_systems import (
    LABELS,
    cached_embeddings,
    confidences,
    fallback_settings,
    make_model,
    nlu_config,
    read_config,
    settings_of,
)
from nlp.intent import choose_fallback_threshold

DATASETS = ROOT.parent / "shared/datasets"
CALIBRATED = ("today", "product")


def timed(fit: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def validation(
    system: str, train: tuple[list[str], list[str]], fallback: dict[str, float]
) -> dict[str, Any]:
    """Fit on 4/5 of TRAIN; choose the fallback threshold and check calibration on the rest."""
    fit_texts, held_texts, fit_labels, held_labels = train_test_split(
        train[0], train[1], test_size=0.2, stratify=train[1], random_state=0
    )
    model = make_model(system).fit(fit_texts, fit_labels)
    conf = confidences(model, held_texts)
    probabilities = conf.calibrated
    correct = conf.classes[probabilities.argmax(axis=1)] == np.asarray(held_labels)
    chosen = choose_fallback_threshold(probabilities.max(axis=1), correct)
    handled = {}
    for name, threshold, ambiguity in (
        ("chosen", chosen.threshold, 0.0),
        ("chosen_with_shipped_ambiguity", chosen.threshold, fallback["ambiguity_threshold"]),
        ("shipped", fallback["threshold"], fallback["ambiguity_threshold"]),
    ):
        predicted = with_fallback(probabilities, conf.classes, threshold, ambiguity)
        is_fallback = np.asarray(predicted) == FALLBACK_INTENT
        handled[name] = float(np.mean(np.where(is_fallback, ~correct, correct)))
    return {
        "held_out_top_two": top_two(probabilities),
        "held_out_correct": correct.astype(int).tolist(),
        "held_out_size": len(held_texts),
        "held_out_accuracy": float(correct.mean()),
        "ece_calibrated": expected_calibration_error(probabilities, conf.classes, held_labels),
        "ece_raw_softmax": expected_calibration_error(conf.raw, conf.classes, held_labels),
        "threshold": chosen.threshold,
        "handled_rate": chosen.handled_rate,
        "fallback_rate": chosen.fallback_rate,
        "accuracy_answered": chosen.accuracy_answered,
        "handled_rate_by_rule": handled,
    }


def shipped_scores(
    stored: dict[str, Any], truth: list[str], fallback: dict[str, float]
) -> dict[str, float]:
    """TEST scores with `config.yml`'s FallbackClassifier, from stored predictions."""
    fb = falls_back(
        np.asarray(stored["top_two"]), fallback["threshold"], fallback["ambiguity_threshold"]
    )
    answered = [FALLBACK_INTENT if f else p for f, p in zip(fb, stored["predicted"], strict=True)]
    return {**scores(truth, answered), "fallback_rate": float(fb.mean())}


def shipped_handled(stored: dict[str, Any], fallback: dict[str, float]) -> float:
    """On the validation fifth: answered right or held back when wrong, at the shipped rule."""
    fb = falls_back(
        np.asarray(stored["held_out_top_two"]),
        fallback["threshold"],
        fallback["ambiguity_threshold"],
    )
    correct = np.asarray(stored["held_out_correct"], dtype=bool)
    return float(np.mean(np.where(fb, ~correct, correct)))


def rescore(datasets: dict[str, Any], fallback: dict[str, float]) -> None:
    """Recompute every figure that depends on `config.yml`'s fallback settings, in place,
    from the stored probabilities: no model is trained again. The Rasa pipelines keep the
    settings they ran with (shown in their config)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for d in datasets.values():
        d["shipped_fallback"] = fallback
        d["rescored"] = now
        truth = read_intent_csv(Path(d["data"]), "test")[1]
        for t in d.get("test", {}).values():
            if "top_two" in t:
                t["with_shipped_fallback"] = shipped_scores(t, truth, fallback)
        for v in d.get("validation", {}).values():
            v["handled_rate_by_rule"]["shipped"] = shipped_handled(v, fallback)
        for oos in (d.get("oos") or {}).values():
            for run in oos["runs"]:
                run["points"]["shipped"] = rescore_point(
                    run, fallback["threshold"], fallback["ambiguity_threshold"]
                )
            oos["median"] = median_over_seeds(oos["runs"])


def warm_encoder() -> dict[str, Any]:
    """Load the shared sentence encoders once, before anything is timed (MiniLM's first use
    may build the int8 ONNX model); how long that took, and MiniLM's thread setting."""
    from nlp.encoder import shared_encoder, shared_universal_encoder

    def load_both() -> None:
        shared_encoder().encode(["warm up"])
        shared_universal_encoder().encode(["warm up"])

    _, seconds = timed(load_both)
    return {
        "load_seconds": seconds,
        "threads_env": os.environ.get("CRM_ENCODER_THREADS", "(unset: the encoder's default)"),
    }


def single_message_latency(model: Any, texts: list[str], repeats: int, desc: str) -> dict:
    """Warm one-message calls (`predict_proba`, or `predict` for the baseline); medians of the
    p50 and p95 over `repeats` passes over the test messages."""
    call = model.predict_proba if hasattr(model, "predict_proba") else model.predict
    passes = []
    # One BLAS thread, as the Rasa component runs (a second one only spins on one message).
    with threadpool_limits(1, user_api="blas"):
        for text in texts[:50]:
            call([text])
        for _ in range(repeats):
            durations = []
            for text in tqdm(texts, desc=desc, leave=False):
                start = time.perf_counter()
                call([text])
                durations.append(time.perf_counter() - start)
            passes.append(p50_p95_ms(np.asarray(durations) * 1000.0))
    return {key: float(np.median([p[key] for p in passes])) for key in ("p50_ms", "p95_ms")}


def test_system(
    system: str,
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    fallback: dict[str, float],
    chosen_threshold: float | None,
    repeats: int,
) -> dict[str, Any]:
    """Fit on all of TRAIN (timed), score TEST, time one message at a time."""
    model, fit_seconds = timed(lambda: make_model(system).fit(*train))
    conf = confidences(model, test[0])
    best = conf.calibrated if conf.calibrated is not None else conf.raw
    result: dict[str, Any] = {
        "settings": settings_of(model),
        "fit_seconds": fit_seconds,
        **scores(test[1], conf.classes[best.argmax(axis=1)]),
        "ece_raw_softmax": expected_calibration_error(conf.raw, conf.classes, test[1]),
    }
    if conf.calibrated is not None:
        probabilities = conf.calibrated
        result["predicted"] = [str(c) for c in conf.classes[probabilities.argmax(axis=1)]]
        result["top_two"] = top_two(probabilities)
        result["ece_calibrated"] = expected_calibration_error(probabilities, conf.classes, test[1])
        result["with_shipped_fallback"] = shipped_scores(result, test[1], fallback)
        if chosen_threshold is not None:
            chosen = with_fallback(probabilities, conf.classes, chosen_threshold)
            result["with_chosen_threshold"] = {
                **scores(test[1], chosen),
                "fallback_rate": float(np.mean(np.asarray(chosen) == FALLBACK_INTENT)),
            }
    result.update(single_message_latency(model, test[0], repeats, f"{system} latency"))
    return result


STAGES = ("validation", "test", "oos", "rasa")


def run_dataset(
    data: Path,
    args: argparse.Namespace,
    config: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every stage in `args.stages` for one data set; the others are kept from `previous`
    (the test and out-of-scope stages need the validation stage's thresholds)."""
    name = data.name
    train, test = read_intent_csv(data, "train"), read_intent_csv(data, "test")
    fallback = fallback_settings(config)
    systems = ["baseline", "today", "product"]
    calibrated = [s for s in systems if s in CALIBRATED]
    stages_run = [stage for stage in STAGES if stage in args.stages]
    result: dict[str, Any] = dict(previous or {})
    result.update(
        {
            "data": str(data),
            "machine": f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}",
            "load_average_at_start": os.getloadavg()[0],
            "train_size": len(train[0]),
            "test_size": len(test[0]),
            "intents": len(set(train[1])),
            "systems": systems,
            "labels": {s: LABELS[s] for s in systems},
            "shipped_fallback": fallback,
            "stages_run": stages_run,
        }
    )
    result.pop("rescored", None)
    if {"test", "oos"} & set(stages_run) and "validation" not in stages_run + list(result):
        raise SystemExit(
            f"{name}: the test and oos stages need the validation stage's thresholds: "
            "run it first (--stages validation) or with them"
        )
    if "product" in systems:
        result["encoder"] = warm_encoder()
    progress = tqdm(total=len(stages_run), desc=name, unit="stage")
    memo: dict[str, np.ndarray] = {}
    for stage in stages_run:
        progress.set_postfix_str(stage)
        if stage == "validation":
            with cached_embeddings(memo):
                result["validation"] = {s: validation(s, train, fallback) for s in calibrated}
        elif stage == "test":
            result["test"] = {
                s: test_system(
                    s,
                    train,
                    test,
                    fallback,
                    result.get("validation", {}).get(s, {}).get("threshold"),
                    args.repeats,
                )
                for s in systems
            }
        elif stage == "oos" and args.oos_seeds > 0:
            points = {
                s: {
                    "shipped": (fallback["threshold"], fallback["ambiguity_threshold"]),
                    "validation": (result["validation"][s]["threshold"], 0.0),
                }
                for s in calibrated
            }
            with cached_embeddings(memo):
                result["oos"] = run_oos(
                    {s: (lambda s=s: make_model(s)) for s in calibrated},
                    train,
                    test,
                    range(args.oos_seeds),
                    points,
                    f"{name} out of scope",
                )
        elif stage == "rasa":
            configs = {
                s: nlu_config(config, s, f"bench-intent-{name}-{s}")
                for s in args.rasa_pipelines
                if s in systems
            }
            result["rasa"] = run_rasa_pipelines(
                train, test, configs, args.diet_epochs, fallback, desc=name
            )
            result["diet_epochs"] = args.diet_epochs
        progress.update()
    progress.close()
    result["load_average_at_end"] = os.getloadavg()[0]
    result["finished"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return result


def previous_datasets(json_path: Path) -> dict[str, Any]:
    """Data sets of an earlier run, kept when this run does not redo them."""
    try:
        previous = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return previous.get("datasets", {}) if isinstance(previous, dict) else {}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a data set directory with train.csv and test.csv (repeatable; default: "
        "BANKING77 and HWU64 in ../shared/datasets)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="latency passes (median)")
    parser.add_argument("--oos-seeds", type=int, default=3, help="0 skips out-of-scope")
    parser.add_argument("--diet-epochs", type=int, default=0, help="0 skips DIET (slow)")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=STAGES,
        default=list(STAGES),
        help="run only these stages; the others keep their figures from --json",
    )
    parser.add_argument(
        "--rasa-pipelines",
        nargs="+",
        choices=("product", "today"),
        default=["product", "today"],
        help="which classifiers to run through config.yml's pipeline",
    )
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="train nothing: redo the figures that depend on config.yml's fallback settings "
        "from the stored JSON, and rewrite the report",
    )
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/bench/intent.md")
    parser.add_argument("--chart", type=Path, default=ROOT / "docs/bench/intent_oos.png")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/intent.json")
    args = parser.parse_args(argv)
    data = args.data or [DATASETS / "banking77", DATASETS / "hwu64"]
    command = "python -m bench.intent " + " ".join(sys.argv[1:] if argv is None else argv)
    config = read_config(args.config)

    datasets = previous_datasets(args.json)
    missing = [path.name for path in data if path.name not in datasets]
    if set(args.stages) != set(STAGES) and missing and not args.rescore:
        # The report needs every stage: found out only after the run, its figures were lost.
        raise SystemExit(
            f"--stages redoes stages of an earlier run, but {args.json} has none for "
            f"{', '.join(missing)}: run all stages once first (no --stages)"
        )
    if args.rescore:
        rescore(datasets, fallback_settings(config))
    else:
        for path in tqdm(data, desc="data sets", unit="set"):
            previous = datasets.get(path.name) if set(args.stages) != set(STAGES) else None
            ran = run_dataset(path, args, config, previous)
            commands = list(previous.get("commands", [previous["command"]])) if previous else []
            datasets[path.name] = {**ran, "command": command, "commands": [*commands, command]}
        if set(args.stages) != set(STAGES):
            # Stages kept from an earlier run may have seen other fallback settings.
            rescore(datasets, fallback_settings(config))
    ordered = {n: datasets[n] for n in TITLES if n in datasets}
    ordered.update({n: d for n, d in datasets.items() if n not in ordered})
    has_chart = chart(ordered, args.chart, LABELS, TITLES)
    result = {"datasets": datasets, "chart": str(args.chart) if has_chart else None}
    # docs/bench/*.md are sections of docs/benchmarks.md (bench/report.py): link from there.
    chart_link = os.path.relpath(args.chart, ROOT / "docs") if has_chart else None
    write_outputs(result, args.json, markdown(result, chart_link), args.markdown)


if __name__ == "__main__":
    main()
