"""What the benchmarks share: the repository root, intent data sets, the machine, the outputs."""

from __future__ import annotations

import csv
import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def read_intent_csv(data: Path, split: str) -> tuple[list[str], list[str]]:
    """Texts and intents of a `text,category` data set's `<split>.csv` (BANKING77, HWU64).

    The intent column may also be called `intent`. Rows without text or intent are errors:
    a silently shorter test set would change every figure.
    """
    path = Path(data) / f"{split}.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts, labels = [], []
    for number, row in enumerate(rows, start=2):
        text, label = row.get("text"), row.get("category") or row.get("intent")
        if not text or not label:
            raise ValueError(f"{path}:{number}: a row needs `text` and `category` (or `intent`)")
        texts.append(text)
        labels.append(label)
    return texts, labels


def read_banking77(data: Path, split: str) -> tuple[list[str], list[str]]:
    """Texts and intents of BANKING77's `<split>.csv` (the intent column is `category`)."""
    return read_intent_csv(data, split)


def cpu_model() -> str:
    """The CPU's model name, for the machine line of a report."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def p50_p95_ms(milliseconds: Sequence[float] | np.ndarray) -> dict[str, float]:
    return {
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
    }


def write_outputs(result: dict[str, Any], json_path: Path, markdown: str, md_path: Path) -> None:
    """The figures as JSON and the report section as Markdown (also printed)."""
    for path, text in ((json_path, json.dumps(result, indent=2) + "\n"), (md_path, markdown)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    sys.stdout.write(markdown)
