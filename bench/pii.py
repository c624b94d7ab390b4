"""PII benchmark: span precision, recall and F1 per kind, and per-message latency, of
`nlp.pii` against plain regexes and stock Presidio recognizers measured in the same run.

    .venv/bin/python -m bench.pii --cases bench/data/pii_cases.jsonl --repeats 3
    .venv/bin/python -m bench.pii --cases bench/data/pii_unseen.jsonl --repeats 3

`--cases` takes any JSONL of {"text", "split", "spans": [{"kind", "start", "end"}]}. A
predicted span counts when it has the gold span's kind and overlaps it (one-to-one);
exact-boundary figures and "leaks" (gold spans not wholly covered by any redaction) are
reported too. `nlp.pii` is scored on every kind it produces and every kind the set labels:
a kind it does not produce scores recall 0, one the set does not label precision 0. The
project's own set is also re-rendered from fresh seeds of its generator. Results go to
`var/bench/<name>.json` and `docs/bench/<name>.md`, <name> being `pii` for the project's
own set and the file's stem otherwise. Scoring is in `bench.pii_scoring`, the report in
`bench.pii_report`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from bench.common import ROOT, cpu_model, write_outputs
from bench.make_pii_cases import build
from bench.pii_report import markdown
from bench.pii_scoring import MAIN_KINDS, Detector, Span, resolve, score

BASELINE_ORDER = ("EMAIL", "IBAN", "CARD", "PHONE")
TARGET_KINDS = ("CARD", "EMAIL", "PHONE")
RECALL_TARGET, PRECISION_TARGET = 0.98, 0.95
OWN_CASES = Path("bench/data/pii_cases.jsonl")
OWN_FRESH_SEEDS = 20
LONG_MESSAGES, LONG_PARTS = 50, 8

# Deliberately simple: what one writes without validation.
NAIVE_PATTERNS = {
    "EMAIL": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "IBAN": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
    "CARD": re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
    "PHONE": re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?\(?\d{2,5}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?!\w)"
    ),
}


def naive_detector(text: str) -> list[Span]:
    found = [
        Span(kind, *m.span())
        for kind, pattern in NAIVE_PATTERNS.items()
        for m in pattern.finditer(text)
    ]
    return resolve(found, BASELINE_ORDER)


def presidio_stock_detector() -> Detector:
    """Presidio's recognizers with their default settings (e-mail domains checked offline).

    Imported here, after `nlp.pii`, so that the import time reported for it includes spaCy's.
    """
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
    )

    class OfflineEmail(EmailRecognizer):
        suffixes = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        def validate_result(self, pattern_text: str) -> bool:
            return self.suffixes(pattern_text.rpartition("@")[2]).fqdn != ""

    recognizers = {
        "EMAIL": (OfflineEmail(), "EMAIL_ADDRESS"),
        "IBAN": (IbanRecognizer(), "IBAN_CODE"),
        "CARD": (CreditCardRecognizer(), "CREDIT_CARD"),
        "PHONE": (PhoneRecognizer(), "PHONE_NUMBER"),
    }

    def detect(text: str) -> list[Span]:
        found = [
            Span(kind, r.start, r.end)
            for kind, (recognizer, entity) in recognizers.items()
            for r in recognizer.analyze(text, [entity])
        ]
        return resolve(found, BASELINE_ORDER)

    return detect


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(detect: Detector, texts: list[str], repeats: int, label: str) -> dict:
    """Per-message wall time in microseconds: p50, p95 and mean per repeat, then medians."""
    for text in texts:  # warm up: lazy regex compilation, caches
        detect(text)
    runs = []
    for _ in tqdm(range(repeats), desc=f"latency {label}", leave=False):
        times = []
        for text in texts:
            start = time.perf_counter_ns()
            detect(text)
            times.append((time.perf_counter_ns() - start) / 1000)
        runs.append(
            {
                "p50": percentile(times, 0.5),
                "p95": percentile(times, 0.95),
                "mean": statistics.mean(times),
            }
        )
    return {key: statistics.median(run[key] for run in runs) for key in ("p50", "p95", "mean")} | {
        "runs": runs
    }


def long_texts(cases: list[dict], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(cases)["text"] for _ in range(LONG_PARTS)) for _ in range(LONG_MESSAGES)
    ]


def machine_note() -> str:
    cpu = cpu_model()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average "
        f"{load:.1f} at start; the machine is shared with other benchmarks, so timings are noisy "
        "(medians of the repeats, baselines timed in the same run)."
    )


def targets(scores: dict) -> list[dict]:
    checks = []
    for kind in TARGET_KINDS:
        checks.append((f"{kind} recall >= {RECALL_TARGET}", scores[kind]["recall"], RECALL_TARGET))
    for kind in (*TARGET_KINDS, "micro"):
        name = "precision, all kinds (micro)" if kind == "micro" else f"{kind} precision"
        checks.append(
            (f"{name} >= {PRECISION_TARGET}", scores[kind]["precision"], PRECISION_TARGET)
        )
    return [
        {
            "name": name,
            "value": value,
            "target": goal,
            "met": value >= goal,
            "gap": max(0.0, goal - value),
        }
        for name, value, goal in checks
    ]


def is_own_set(cases: Path) -> bool:
    """Whether `cases` is the set rendered by `bench.make_pii_cases` (the redactor's author's)."""
    return cases.resolve() == (ROOT / OWN_CASES).resolve()


def scored_sets(cases: list[dict], fresh: list[dict]) -> dict[str, list[dict]]:
    """All cases, each split when there are several, and the fresh renderings if any."""
    splits = sorted({c["split"] for c in cases})
    sets = {"all": cases}
    if len(splits) > 1:
        sets |= {split: [c for c in cases if c["split"] == split] for split in splits}
    if fresh:
        sets["fresh"] = fresh
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=OWN_CASES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--fresh-seeds",
        type=int,
        default=None,
        help=f"seeds of the project's generator to re-render ({OWN_FRESH_SEEDS} for its own "
        "set, 0 for any other)",
    )
    parser.add_argument("--json", type=Path, help="default var/bench/<name>.json")
    parser.add_argument("--markdown", type=Path, help="default docs/bench/<name>.md")
    args = parser.parse_args()
    own_set = is_own_set(args.cases)
    name = "pii" if own_set else args.cases.stem
    fresh_seeds = args.fresh_seeds
    if fresh_seeds is None:
        fresh_seeds = OWN_FRESH_SEEDS if own_set else 0

    start = time.perf_counter()
    pii = importlib.import_module("nlp.pii")
    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pii.find_pii("warm up 4111 1111 1111 1111 a@b.com")
    first_call_ms = (time.perf_counter() - start) * 1000

    cases = [json.loads(line) for line in args.cases.read_text(encoding="utf-8").splitlines()]
    fresh = [case for seed in range(1, fresh_seeds + 1) for case in build(seed)]
    gold_kinds = {s["kind"] for case in cases for s in case["spans"]}
    our_kinds = [*pii.PLACEHOLDERS, *sorted(gold_kinds - set(pii.PLACEHOLDERS))]
    systems: dict[str, tuple[Detector, Iterable[str]]] = {
        "nlp.pii": (
            lambda text: [Span(f.kind, f.start, f.end) for f in pii.find_pii(text)],
            our_kinds,
        ),
        "naive regex": (naive_detector, MAIN_KINDS),
        "presidio stock": (presidio_stock_detector(), MAIN_KINDS),
    }
    sets = scored_sets(cases, fresh)
    texts = {
        "cases": [c["text"] for c in cases],
        f"{LONG_PARTS} cases joined": long_texts(cases, 0),
    }
    report_systems = {}
    for system, (detect, kinds) in systems.items():
        entry = {}
        for set_name, subset in sets.items():
            predictions = [
                detect(c["text"]) for c in tqdm(subset, desc=f"{system} {set_name}", leave=False)
            ]
            entry[set_name] = score(subset, predictions, kinds)
        entry["latency"] = {
            label: latency(detect, t, args.repeats, f"{system} {label}")
            for label, t in texts.items()
        }
        report_systems[system] = entry
    readme = args.cases.with_name(f"{args.cases.stem}.README.md")
    report = {
        "command": f".venv/bin/python -m bench.pii --cases {args.cases} --repeats {args.repeats}",
        "machine": machine_note(),
        "cases_path": str(args.cases),
        "own_set": own_set,
        "readme": str(readme) if readme.exists() else None,
        "cases": len(cases),
        "split_sizes": Counter(c["split"] for c in cases),
        "sets": list(sets),
        "negatives": sum(not c["spans"] for c in cases),
        "gold_spans": sum(len(c["spans"]) for c in cases),
        "gold_by_kind": Counter(s["kind"] for c in cases for s in c["spans"]),
        "unlabelled_kinds": [k for k in pii.PLACEHOLDERS if k not in gold_kinds],
        "fresh_seeds": fresh_seeds,
        "fresh_gold_spans": sum(len(c["spans"]) for c in fresh),
        "import_seconds": import_seconds,
        "first_call_ms": first_call_ms,
        "systems": report_systems,
        "targets": targets(report_systems["nlp.pii"]["all"]),
    }
    write_outputs(
        report,
        args.json or Path(f"var/bench/{name}.json"),
        markdown(report),
        args.markdown or Path(f"docs/bench/{name}.md"),
    )


if __name__ == "__main__":
    main()
