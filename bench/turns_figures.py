"""The pure arithmetic of bench.turns: a turn's record, percentiles, error kinds, turn-position
buckets, medians over rounds, and the resident memory read from /proc.

Kept apart from the client and the servers so the tests can check it without starting anything.
"""

from __future__ import annotations

import math
import os
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIMEOUT = "timeout"
CONNECTION = "connection"


@dataclass
class Sample:
    """One customer message: when it was sent (seconds into the run), how long its answer took,
    and what came back. `status` is the HTTP status (socket.io: 200, or the refusal's status)
    or `timeout` / `connection` when no answer came."""

    conversation: str
    position: int
    text: str
    sent_at: float
    seconds: float
    status: int | str
    replies: int

    @property
    def answered(self) -> bool:
        return self.status == 200


def error_kind(status: int | str) -> str | None:
    """None for an answered turn, else the kind of error the report counts it under."""
    if status == 200:
        return None
    if status in (TIMEOUT, CONNECTION):
        return str(status)
    if status == 429:
        return "429"
    if isinstance(status, int) and status >= 500:
        return "5xx"
    return "other"


def errors_by_kind(samples: Iterable[Sample]) -> dict[str, int]:
    counts = Counter(kind for s in samples if (kind := error_kind(s.status)) is not None)
    return dict(sorted(counts.items()))


def percentiles(milliseconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (linear interpolation, numpy's default); NaN when there is nothing."""
    if not milliseconds:
        return {"p50_ms": math.nan, "p95_ms": math.nan, "p99_ms": math.nan}
    p50, p95, p99 = np.percentile(np.asarray(milliseconds, dtype=float), [50, 95, 99])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


def load_figures(samples: Sequence[Sample], window_s: float) -> dict[str, float | int]:
    """Messages answered, throughput over the measured window, latency of answered turns."""
    answered = [s for s in samples if s.answered]
    figures: dict[str, float | int] = {
        "sent": len(samples),
        "answered": len(answered),
        "answered_without_reply": sum(1 for s in answered if s.replies == 0),
        "errors": len(samples) - len(answered),
        "window_s": round(window_s, 2),
        "messages_per_s": len(answered) / window_s if window_s > 0 else math.nan,
    }
    figures.update(percentiles([s.seconds * 1000 for s in answered]))
    return figures


def position_buckets(turns: int) -> list[tuple[str, int, int]]:
    """(label, first, last) turn positions, 1-based, for a conversation of `turns` turns.

    The start (1-10), turn 5 (3-7), turns 50, 100 and 150 (each ±2) when the conversation is
    long enough for them to stay clear of the end, and the last eleven turns (190-200 of 200).
    """
    buckets = [("1-10", 1, min(10, turns)), ("5 (3-7)", 3, min(7, turns))]
    last_first = max(1, turns - 10)
    for middle in (50, 100, 150):
        if middle + 2 < last_first:
            buckets.append((f"{middle} ({middle - 2}-{middle + 2})", middle - 2, middle + 2))
    buckets.append((f"{last_first}-{turns}", last_first, turns))
    return buckets


def by_position(samples: Sequence[Sample], turns: int) -> list[dict[str, float | int | str]]:
    """The median latency of the answered turns in each position bucket."""
    rows: list[dict[str, float | int | str]] = []
    for label, first, last in position_buckets(turns):
        ms = [s.seconds * 1000 for s in samples if s.answered and first <= s.position <= last]
        median = statistics.median(ms) if ms else math.nan
        rows.append(
            {"bucket": label, "first": first, "last": last, "n": len(ms), "median_ms": median}
        )
    return rows


def last_to_fifth(rows: Sequence[Mapping[str, float | int | str]]) -> float:
    """The last bucket's median over the turn-5 bucket's (how much slower a long tracker is)."""
    fifth = next(float(r["median_ms"]) for r in rows if str(r["bucket"]).startswith("5 "))
    last = float(rows[-1]["median_ms"])
    return last / fifth if fifth and not math.isnan(fifth) else math.nan


def ratio(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def median_over(rounds: Sequence[Mapping[str, float | int]], key: str) -> float:
    values = [float(r[key]) for r in rounds if not math.isnan(float(r[key]))]
    return statistics.median(values) if values else math.nan


def vm_rss_kb(status_text: str) -> int:
    """The VmRSS line of a /proc/PID/status text, in kB (0 for a zombie, which has none)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parent_of(stat_text: str) -> int:
    """The parent pid in a /proc/PID/stat text (the name in parentheses may hold spaces)."""
    return int(stat_text.rpartition(")")[2].split()[1])


def process_tree(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """`pid` and all its descendants that are alive now."""
    parents: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents.setdefault(parent_of((entry / "stat").read_text()), []).append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(parents.get(current, []))
    return tree


def tree_rss_mb(pid: int, proc: Path = Path("/proc")) -> float:
    """Resident memory of `pid` and its descendants, summed, in MB (0 when it is gone)."""
    total = 0
    for member in process_tree(pid, proc):
        try:
            total += vm_rss_kb((proc / str(member) / "status").read_text())
        except OSError:
            continue
    return total / 1024


def service_pids(log_text: str) -> dict[str, int]:
    """The services' pids from the launcher's `BENCH-PIDS name=pid ...` line (bench.product)."""
    for line in log_text.splitlines():
        if line.startswith("BENCH-PIDS "):
            return {name: int(pid) for name, pid in (item.split("=") for item in line.split()[1:])}
    return {}


def self_check() -> bool:
    """Whether /proc reads work here (not on macOS): memory is then reported as n/a."""
    return os.path.exists(f"/proc/{os.getpid()}/status")
