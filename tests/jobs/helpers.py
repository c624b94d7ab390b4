"""Tiny jobs for the framework's tests, registered by each test (never in bot.jobs.registry)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.jobs.base import JobContext, JobResult
from bot.jobs.registry import JOBS

GATE_TIMEOUT_S = 60.0
TEST_JOBS = {
    "quick": "tests.jobs.helpers:QuickJob",
    "broken": "tests.jobs.helpers:BrokenJob",
    "gate": "tests.jobs.helpers:GateJob",
    "interrupted": "tests.jobs.helpers:InterruptedJob",
    "reaped": "tests.jobs.helpers:ReapedJob",
}


class QuickJob:
    name = "quick"
    description = "Counts three items and reports numpy figures."

    def run(self, context: JobContext) -> JobResult:
        items = list(context.progress(range(3), total=3, desc="quick", unit="item"))
        figures = {"score": np.float64(0.75), "missing": float("nan"), "sizes": np.arange(2)}
        return JobResult(rows={"items": len(items)}, figures=figures)


class BrokenJob:
    name = "broken"
    description = "Always fails."

    def run(self, context: JobContext) -> JobResult:
        raise ValueError("boom: the test job failed")


class InterruptedJob:
    name = "interrupted"
    description = "Stopped as if by Ctrl-C."

    def run(self, context: JobContext) -> JobResult:
        raise KeyboardInterrupt


class ReapedJob:
    """Reaps its own run after the first item (as a reaper seeing a stale heartbeat would),
    waits for the runner's heartbeat to notice, then asks for the next item."""

    name = "reaped"
    description = "Is reaped while it works."

    def run(self, context: JobContext) -> JobResult:
        done = 0
        for _ in context.progress(range(3), total=3, desc="reaped", unit="item"):
            done += 1
            if done == 1:
                wait_for(lambda: self._reap(context), what="the heartbeat to notice the reaping")
        return JobResult(rows={"items": done})

    def _reap(self, context: JobContext) -> bool:
        """Reap as a reaper seeing a stale heartbeat would. A beat that lands between the
        reaper's cutoff and its UPDATE keeps the run alive (that is the point), so try again
        until one reaping wins."""
        context.store.jobs.reap(timedelta(0), job=self.name)
        return context.abandoned.is_set()


def gate_released(var_dir: Path) -> Path:
    return var_dir / "gate-released"


class GateJob:
    """Marks that it started, then holds its run open until the test releases the gate."""

    name = "gate"
    description = "Waits for the test to release it."

    def run(self, context: JobContext) -> JobResult:
        var_dir = context.settings.var_dir
        (var_dir / f"gate-started-{context.run_id}").touch()
        deadline = time.monotonic() + GATE_TIMEOUT_S
        while not gate_released(var_dir).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never released the gate")
            time.sleep(0.02)
        return JobResult(rows={"waited": 1})


def started_gates(var_dir: Path) -> list[Path]:
    return sorted(var_dir.glob("gate-started-*"))


def wait_for(condition, timeout: float = 60.0, what: str = "the condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def only_test_jobs() -> Iterator[None]:
    """Only `reindex` and the test jobs in the registry (so no other lane's job is imported),
    edited in place since modules hold the dict itself; its order is restored after."""
    kept = dict(JOBS)
    JOBS.clear()
    JOBS["reindex"] = kept["reindex"]
    JOBS.update(TEST_JOBS)
    try:
        yield
    finally:
        JOBS.clear()
        JOBS.update(kept)
