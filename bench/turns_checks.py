"""What the product left behind after bench.turns: its CRM store's copy of the customers'
messages, and the problems its processes logged under load.

The CRM check is separate from the turn figures because it reads the product's store, after the
outbox has had time to deliver; the log check reads any Rasa server's log, the stock one too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.product import Product, compare, stored_messages
from bench.turns_figures import Sample

CRM_WAIT_S = 60.0


def crm_check(product: Product, samples: Sequence[Sample]) -> dict[str, Any]:
    """The bench's answered customer messages against the customer messages the CRM stored,
    polled until all are there or CRM_WAIT_S has passed (the outbox delivers them later)."""
    expected: dict[str, list[tuple[str, str | None]]] = {}
    for s in samples:
        if s.text:
            expected.setdefault(s.conversation, [])
            if s.answered:
                expected[s.conversation].append(("customer", s.text))
    want = sum(len(v) for v in expected.values())
    started_at = time.monotonic()
    while True:
        stored_all = stored_messages(product.database_url, "")
        stored = {c: [m for m in stored_all.get(c, []) if m[0] == "customer"] for c in expected}
        have = sum(len(v) for v in stored.values())
        if have >= want or time.monotonic() - started_at > CRM_WAIT_S:
            break
        time.sleep(2)
    figures: dict[str, Any] = compare(expected, stored)
    figures["sent"] = sum(1 for s in samples if s.text)
    figures["waited_s"] = round(time.monotonic() - started_at, 1)
    return figures


def log_problems(log: Path) -> dict[str, Any]:
    """Tracebacks and ERROR lines in a server's log, the tracebacks grouped by their exception."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    exceptions: Counter[str] = Counter()
    for number, line in enumerate(lines):
        if "Traceback (most recent call last)" not in line:
            continue
        last = next(
            (x for x in lines[number + 1 :] if x and not x[0].isspace() and "Traceback" not in x),
            "?",
        )
        exceptions[last[:120]] += 1
    return {
        "tracebacks": sum(exceptions.values()),
        "error_lines": sum(" ERROR " in line or "[ERROR]" in line for line in lines),
        "exceptions": dict(exceptions.most_common(5)),
    }
