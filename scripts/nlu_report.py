"""Renders Rasa's NLU cross-validation results as docs/nlu-cross-validation.md.

Usage: python scripts/nlu_report.py RESULTS_DIR FOLDS > docs/nlu-cross-validation.md
(`make nlu-report` runs the cross-validation and this script.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rasa

SUMMARY_KEYS = ("accuracy", "micro avg", "macro avg", "weighted avg")


def render(results: Path, folds: int) -> str:
    report = json.loads((results / "intent_report.json").read_text())
    summary = {key: report.pop(key) for key in SUMMARY_KEYS if key in report}
    examples = sum(row["support"] for row in report.values())
    lines = [
        "# NLU cross-validation",
        "",
        f"`rasa test nlu --cross-validation --folds {folds}` on `data/nlu` with `config.yml`"
        f" (Rasa {rasa.__version__}; {examples} examples, {len(report)} intents). Produced by"
        " `make nlu-report`; each example is scored by the model of the fold that held it out.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {summary['accuracy']:.3f} |",
        f"| macro F1 | {summary['macro avg']['f1-score']:.3f} |",
        f"| weighted F1 | {summary['weighted avg']['f1-score']:.3f} |",
        "",
        "## Per intent (weakest first)",
        "",
        "| intent | precision | recall | F1 | examples | most often confused with |",
        "|---|---|---|---|---|---|",
    ]
    for intent, row in sorted(report.items(), key=lambda item: item[1]["f1-score"]):
        confused = ", ".join(
            f"{name} ({count})" for name, count in list(row.get("confused_with", {}).items())[:2]
        )
        lines.append(
            f"| {intent} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1-score']:.2f}"
            f" | {row['support']} | {confused} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(Path(sys.argv[1]), int(sys.argv[2])))
