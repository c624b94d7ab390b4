"""Out-of-scope detection on intents the model never saw.

For each seed a quarter of the data set's intents is held out: the classifier is trained on
the other intents' TRAIN messages only, then every TEST message is classified. A held-out
intent's message should go to fallback; an in-scope message should be kept (answered). The
curve is both rates over the fallback threshold; the operating points are the threshold
`config.yml` ships (with its ambiguity_threshold) and the one chosen on the validation fifth
of TRAIN (nothing here looks at TEST to choose anything).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.intent_metrics import held_out_intents, oos_auroc, oos_curve, oos_point

# The table's thresholds; the chart uses the finer grid.
TABLE_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
CHART_THRESHOLDS = tuple(np.round(np.linspace(0.0, 0.99, 100), 2))


def top_two(probabilities: np.ndarray) -> list[list[float]]:
    """Each row's second and first highest probability, as `falls_back` reads them."""
    return np.round(np.sort(probabilities, axis=1)[:, -2:], 6).tolist()


def rescore_point(run: dict[str, Any], threshold: float, ambiguity: float) -> dict[str, float]:
    """An operating point of a stored run, from its saved top-two probabilities."""
    return oos_point(
        np.asarray(run["in_scope_top_two"]),
        np.asarray(run["in_scope_correct"], dtype=bool),
        np.asarray(run["out_of_scope_top_two"]),
        threshold,
        ambiguity,
    )


def one_seed(
    make_model: Callable[[], Any],
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    seed: int,
    points: dict[str, tuple[float, float]],
) -> dict[str, Any]:
    """Train without a seeded quarter of the intents; score TEST's in- and out-of-scope halves."""
    held = held_out_intents(train[1], seed)
    unseen = set(held)
    keep = [i for i, label in enumerate(train[1]) if label not in unseen]
    model = make_model().fit([train[0][i] for i in keep], [train[1][i] for i in keep])
    is_unseen = np.array([label in unseen for label in test[1]])
    probabilities = model.predict_proba(test[0])
    in_scope, out_of_scope = probabilities[~is_unseen], probabilities[is_unseen]
    truth = np.asarray(test[1])[~is_unseen]
    correct = model.classes_[in_scope.argmax(axis=1)] == truth
    grid = sorted(set(TABLE_THRESHOLDS) | set(CHART_THRESHOLDS))
    return {
        "seed": seed,
        "held_out_intents": held,
        "in_scope_test": int((~is_unseen).sum()),
        "out_of_scope_test": int(is_unseen.sum()),
        "in_scope_accuracy": float(correct.mean()),
        "auroc": oos_auroc(in_scope, out_of_scope),
        "curve": oos_curve(in_scope, correct, out_of_scope, grid),
        # Enough to recompute any operating point later (`python -m bench.intent --rescore`).
        "in_scope_top_two": top_two(in_scope),
        "in_scope_correct": correct.astype(int).tolist(),
        "out_of_scope_top_two": top_two(out_of_scope),
        "points": {
            name: oos_point(in_scope, correct, out_of_scope, threshold, ambiguity)
            for name, (threshold, ambiguity) in points.items()
        },
    }


def median_over_seeds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every rate over the seeds, per threshold and per operating point."""
    rates = ("in_scope_kept", "in_scope_kept_correct", "out_of_scope_fallback")

    def med(rows: Sequence[dict[str, float]]) -> dict[str, float]:
        out = {key: float(np.median([row[key] for row in rows])) for key in rates}
        out["threshold"] = rows[0]["threshold"]
        out["ambiguity"] = rows[0]["ambiguity"]
        return out

    return {
        "seeds": [run["seed"] for run in runs],
        "in_scope_accuracy": float(np.median([run["in_scope_accuracy"] for run in runs])),
        "auroc": float(np.median([run["auroc"] for run in runs])),
        "curve": [med(rows) for rows in zip(*(run["curve"] for run in runs), strict=True)],
        "points": {name: med([run["points"][name] for run in runs]) for name in runs[0]["points"]},
    }


def run_oos(
    makers: dict[str, Callable[[], Any]],
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    seeds: Sequence[int],
    points: dict[str, dict[str, tuple[float, float]]],
    desc: str,
) -> dict[str, Any]:
    """`one_seed` for every system and seed; `points[system]` names its operating points."""
    result: dict[str, Any] = {}
    jobs = [(system, seed) for seed in seeds for system in makers]
    runs: dict[str, list[dict[str, Any]]] = {system: [] for system in makers}
    for system, seed in tqdm(jobs, desc=desc, leave=False):
        runs[system].append(one_seed(makers[system], train, test, seed, points[system]))
    for system, system_runs in runs.items():
        result[system] = {"runs": system_runs, "median": median_over_seeds(system_runs)}
    return result


def chart(
    datasets: dict[str, dict[str, Any]],
    path: Path,
    labels: dict[str, str],
    titles: dict[str, str] | None = None,
) -> bool:
    """In-scope kept against out-of-scope caught, per data set; False if matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    titles = titles or {}
    with_oos = {name: d for name, d in datasets.items() if d.get("oos")}
    if not with_oos:
        return False
    fig, axes = plt.subplots(1, len(with_oos), figsize=(5.5 * len(with_oos), 4.6), squeeze=False)
    markers = {"shipped": "o", "validation": "s"}
    for ax, (name, data) in zip(axes[0], with_oos.items(), strict=True):
        lowest = 1.0
        for system, oos in data["oos"].items():
            med = oos["median"]
            xs = [p["out_of_scope_fallback"] for p in med["curve"]]
            ys = [p["in_scope_kept"] for p in med["curve"]]
            lowest = min(lowest, *ys)
            (line,) = ax.plot(xs, ys, label=labels.get(system, system).replace("`", ""))
            for point_name, point in med["points"].items():
                ax.plot(
                    point["out_of_scope_fallback"],
                    point["in_scope_kept"],
                    markers.get(point_name, "x"),
                    color=line.get_color(),
                    label=f"{system}: {point_name} threshold {point['threshold']:.2f}",
                )
        ax.set_title(
            f"{titles.get(name, name)}: unseen intents (median of {len(med['seeds'])} seeds)"
        )
        ax.set_xlabel("out-of-scope test messages sent to fallback")
        ax.set_ylabel("in-scope test messages kept (answered)")
        ax.set_xlim(0, 1)
        ax.set_ylim(min(0.5, np.floor(lowest * 10) / 10), 1.01)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
