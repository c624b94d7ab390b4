"""Where the Rasa server's event loop spends a turn: py-spy samples of its main thread.

Rasa serves every conversation on one event loop (the main thread); anything slow done on it
delays every customer at once. `sampling(pid)` runs `py-spy record` (raw, collapsed stacks)
on the server while the block runs; `breakdown` sorts the main thread's busy samples into
the parts of a turn. py-spy is not a project dependency: give its path (`pip install
--target DIR py-spy` puts it in DIR/bin).
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE_HZ = 100
STOP_TIMEOUT_S = 60
MAIN_THREAD = "_run_module_as_main"
PARTS = (
    ("event broker publish", "publish (bot/rasa_plugins/broker.py"),
    ("tracker store save", "save_tracker (rasa/core/processor.py"),
    ("tracker store load", "fetch_tracker_and_update_session"),
    ("NLU parse", "parse_message"),
    ("policies", "predict_next_with_tracker_if_should"),
)
"""(part, a frame only that part's stacks hold); the first match wins, in this order."""


@contextmanager
def sampling(py_spy: Path, pid: int, out: Path) -> Iterator[Path]:
    """py-spy records `pid` until the block ends; the raw samples are then in `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [str(py_spy), "record", "--pid", str(pid), "--rate", str(RATE_HZ)]
    command += ["--format", "raw", "--nonblocking", "--output", str(out)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield out
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()


def breakdown(raw: Path) -> dict[str, float]:
    """Each part's share (%) of the main thread's busy samples, and the samples counted."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack.startswith(MAIN_THREAD):
            continue
        part = next((name for name, frame in PARTS if frame in stack), "other")
        counts[part] += int(number)
    total = sum(counts.values())
    shares = {name: round(100 * counts[name] / total, 1) if total else 0.0 for name, _ in PARTS}
    shares["other"] = round(100 * counts["other"] / total, 1) if total else 0.0
    shares["busy_samples"] = float(total)
    return shares
