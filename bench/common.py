"""What the benchmarks share: the repository root, BANKING77, the machine, the outputs."""

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


def read_banking77(data: Path, split: str) -> tuple[list[str], list[str]]:
    """Texts and intents of BANKING77's `<split>.csv` (the intent column is `category`)."""
    with open(data / f"{split}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r.get("category") or r["intent"] for r in rows]


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
