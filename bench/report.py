"""Assembles docs/benchmarks.md from the sections each benchmark writes to docs/bench/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "intent",
    "similar",
    "inbox_groups",
    "summaries",
    "pii",
    "pii_unseen",
    "pii_sets",
    "segments",
    "segment_scale",
    "risk",
    "analytics",
    "turn_latency",
    "soak",
    "turns_before",
    "turns",
    "turns_workers",
    "graph_runner",
    "turn_cost",
)
HEADER = """# Benchmarks

Every figure below comes from a command in `bench/`, with its baselines measured in the same
run. The machine is a shared 2-core box: timings are medians of repeated runs, and ratios
against the same-run baseline are what to compare. Benchmarks are not tests: `make test`
asserts no timings. `make bench` runs them all and rewrites this file; each section names
its own command.
"""


def assemble() -> str:
    parts = [HEADER]
    for name in SECTIONS:
        section = ROOT / "docs" / "bench" / f"{name}.md"
        body = section.read_text().strip() if section.exists() else "_not run yet_"
        parts.append(body)
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "benchmarks.md").write_text(assemble())
