"""PII benchmark: span precision, recall and F1 per kind, and per-message latency, of
`nlp.pii` against plain regexes and stock Presidio recognizers measured in the same run.

    .venv/bin/python -m bench.pii --cases bench/data/pii_cases.jsonl --repeats 3

A predicted span counts when it has the gold span's kind and overlaps it (one-to-one);
exact-boundary figures and "leaks" (gold spans not wholly covered by any redaction) are
reported too.
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
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bench.make_pii_cases import build

MAIN_KINDS = ("CARD", "EMAIL", "PHONE", "IBAN")
BASELINE_ORDER = ("EMAIL", "IBAN", "CARD", "PHONE")
TARGET_KINDS = ("CARD", "EMAIL", "PHONE")
RECALL_TARGET, PRECISION_TARGET = 0.98, 0.95
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


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int


Detector = Callable[[str], list[Span]]


def resolve(spans: Iterable[Span], order: tuple[str, ...]) -> list[Span]:
    """Non-overlapping spans, earlier kinds in `order` first, then longer spans."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (order.index(s.kind), s.start - s.end, s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return kept


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


def match_count(gold: list[Span], predicted: list[Span], exact: bool) -> int:
    """One-to-one matches of the same kind, by overlap or by identical boundaries."""
    used: set[int] = set()
    matched = 0
    for g in gold:
        for i, p in enumerate(predicted):
            hit = (
                (p.start, p.end) == (g.start, g.end)
                if exact
                else p.start < g.end and g.start < p.end
            )
            if i not in used and p.kind == g.kind and hit:
                used.add(i)
                matched += 1
                break
    return matched


def leaked(gold: Span, predicted: list[Span]) -> bool:
    covered = set()
    for p in predicted:
        covered.update(range(p.start, p.end))
    return not set(range(gold.start, gold.end)) <= covered


def ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def rates(c: Counter) -> dict:
    precision, recall = ratio(c["tp"], c["predicted"]), ratio(c["tp"], c["gold"])
    exact_p, exact_r = ratio(c["exact_tp"], c["predicted"]), ratio(c["exact_tp"], c["gold"])
    return {
        **c,
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "exact_f1": ratio(2 * exact_p * exact_r, exact_p + exact_r),
    }


def micro(scores: dict, kinds: Iterable[str]) -> dict:
    counts = ("gold", "predicted", "tp", "exact_tp", "leaks")
    return rates(Counter({key: sum(scores[k][key] for k in kinds) for key in counts}))


def score(cases: list[dict], predictions: list[list[Span]], kinds: Iterable[str]) -> dict:
    """Per-kind counts and rates, plus a micro average over `kinds`."""
    counts: dict[str, Counter] = {kind: Counter() for kind in kinds}
    for case, predicted in zip(cases, predictions, strict=True):
        gold = [Span(s["kind"], s["start"], s["end"]) for s in case["spans"]]
        for kind, c in counts.items():
            g = [s for s in gold if s.kind == kind]
            p = [s for s in predicted if s.kind == kind]
            c["gold"] += len(g)
            c["predicted"] += len(p)
            c["tp"] += match_count(g, p, exact=False)
            c["exact_tp"] += match_count(g, p, exact=True)
            c["leaks"] += sum(leaked(s, predicted) for s in g)
    result = {kind: rates(c) for kind, c in counts.items()}
    result["micro"] = micro(result, counts)
    return result


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
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average "
        f"{load:.1f} at start; the machine is shared with other benchmarks, so timings are noisy "
        "(medians of the repeats, baselines timed in the same run)."
    )


def fmt(value: float) -> str:
    return f"{value:.3f}"


def markdown(report: dict) -> str:
    ours = report["systems"]["nlp.pii"]["all"]
    lines = [
        "## PII redaction (`nlp/pii.py`)",
        "",
        "Command (from the repository root):",
        "",
        "```sh",
        report["command"],
        "```",
        "",
        f"Machine: {report['machine']}",
        "",
        f"Data: `{report['cases_path']}`, {report['cases']} customer-service strings written for "
        f"this project ({report['split_sizes']['dev']} dev, "
        f"{report['split_sizes']['holdout']} holdout; "
        f"{report['negatives']} with no personal data at all), {report['gold_spans']} gold spans. "
        "Sentences are hand-written templates in `bench/make_pii_cases.py`; the identifiers in "
        "them are generated (valid Luhn, IBAN mod-97, phone numbers valid in their numbering "
        "plan) and the hard negatives (Luhn-failing 16-digit numbers, IBANs with a wrong check, "
        "order and tracking numbers, dates, amounts, times, postcodes, transaction ids, card "
        "endings) carry no span.",
        "",
        "Matching: a predicted span counts when it has the gold kind and overlaps the gold span "
        "(one-to-one). *Exact F1* needs identical boundaries. *Leaks*: gold spans not wholly "
        "covered by a redaction of any kind.",
        "",
        "### `nlp.pii` per kind (all cases)",
        "",
        "| kind | gold | predicted | precision | recall | F1 | exact F1 | leaks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, s in ours.items():
        lines.append(
            f"| {kind} | {s['gold']} | {s['predicted']} | {fmt(s['precision'])} | "
            f"{fmt(s['recall'])} | {fmt(s['f1'])} | {fmt(s['exact_f1'])} | {s['leaks']} |"
        )
    lines += [
        "",
        "### Against the baselines (same run; card, e-mail, phone, IBAN)",
        "",
        "| kind | system | precision | recall | F1 |",
        "|---|---|---:|---:|---:|",
    ]
    for kind in (*MAIN_KINDS, "micro"):
        for name, system in report["systems"].items():
            s = micro(system["all"], MAIN_KINDS) if kind == "micro" else system["all"][kind]
            lines.append(
                f"| {kind} | {name} | {fmt(s['precision'])} | {fmt(s['recall'])} | {fmt(s['f1'])} |"
            )
    lines += [
        "",
        "Micro averages in this table and the next cover these four kinds for every system; the "
        "per-kind table above averages over every kind.",
        "",
        "### By split, and on fresh identifiers",
        "",
        "The holdout third of the templates was first scored once the dev third was clean (see "
        "the notes below); *fresh* re-renders every template with identifiers drawn from "
        f"seeds 1-{report['fresh_seeds']} ({report['fresh_gold_spans']} gold spans).",
        "",
        "| set | system | CARD P / R | EMAIL P / R | PHONE P / R | IBAN P / R | micro F1 |",
        "|---|---|---|---|---|---|---:|",
    ]
    for split in ("dev", "holdout", "fresh"):
        for name, system in report["systems"].items():
            s = system[split]
            cells = " | ".join(
                f"{fmt(s[k]['precision'])} / {fmt(s[k]['recall'])}" for k in MAIN_KINDS
            )
            lines.append(f"| {split} | {name} | {cells} | {fmt(micro(s, MAIN_KINDS)['f1'])} |")
    lines += [
        "",
        "### Latency per message (microseconds; medians over repeats)",
        "",
        "| system | messages | p50 | p95 | mean |",
        "|---|---|---:|---:|---:|",
    ]
    for name, system in report["systems"].items():
        for label, lat in system["latency"].items():
            lines.append(
                f"| {name} | {label} | {lat['p50']:.0f} | {lat['p95']:.0f} | {lat['mean']:.0f} |"
            )
    ours_lat = report["systems"]["nlp.pii"]["latency"]["cases"]
    naive_lat = report["systems"]["naive regex"]["latency"]["cases"]
    lines += [
        "",
        f"`nlp.pii` costs {ours_lat['p50'] / naive_lat['p50']:.0f}x the naive regexes at p50. "
        f"Importing `nlp.pii` took {report['import_seconds']:.1f} s (Presidio imports spaCy; the "
        "Rasa and NLP processes import it anyway) and the first call "
        f"{report['first_call_ms']:.0f} ms (recognizers built once per process).",
        "",
        "### Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for target in report["targets"]:
        status = "yes" if target["met"] else f"no (missed by {target['gap']:.3f})"
        lines.append(f"| {target['name']} | {fmt(target['value'])} | {status} |")
    return "\n".join(lines) + "\n" + NOTES


NOTES = """
### How to read these figures

- The same person wrote the labelled set and the redactor, so perfect scores say that the
  redactor handles what the set's author thought of, not that it handles everything. The
  baselines show what the hard negatives catch: the naive regexes flag order, tracking,
  transaction and account numbers, Luhn-failing numbers and IP addresses, and read phones
  written 0044... as cards; stock Presidio misses 2-series Mastercards and 18-19 digit
  cards, reads order numbers, sort codes and IP addresses as phones, and finds UK national
  numbers only when they happen to be valid German, Indian or Brazilian numbers (its
  region list spells the UK "UK"). Both take the password@host part of a URL with
  credentials for an e-mail address.
- The holdout third was first scored after the dev third was clean: it had one error (a
  German mobile written +49..., whose 13 digits pass Luhn, read as a card), fixed since.
  Sweeps over fresh seeds during development found four more (a card inside a mistyped
  IBAN, cards inside 22-digit parcel tracking numbers, an IBAN swallowing the "BIC" after
  it, a generator bug that made one "wrong" IBAN valid), all fixed; so neither holdout nor
  fresh figures are unseen any more.
- Not detected: names, postal addresses and dates of birth (that needs NER, i.e. a spaCy
  model); phone numbers outside allocated ranges (e.g. Ofcom's drama numbers 07700 900xxx)
  or written without + for countries other than GB and US; obfuscated e-mails ("jane at
  gmail dot com") and made-up top-level domains; cards in unusual groupings (4-8-4, double
  spaces) or split over several messages; lower-case IBANs.
- Known false positives: a date followed by an 8-digit number reads as sort code + account
  number; a four-part version number not labelled "version" or "build" reads as an IPv4
  address. A real phone number right after an identifier label ("id", "payment") is kept.
"""


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=Path("bench/data/pii_cases.jsonl"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh-seeds", type=int, default=20)
    parser.add_argument("--json", type=Path, default=Path("var/bench/pii.json"))
    parser.add_argument("--markdown", type=Path, default=Path("docs/bench/pii.md"))
    args = parser.parse_args()

    start = time.perf_counter()
    pii = importlib.import_module("nlp.pii")
    import_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pii.find_pii("warm up 4111 1111 1111 1111 a@b.com")
    first_call_ms = (time.perf_counter() - start) * 1000

    cases = [json.loads(line) for line in args.cases.read_text(encoding="utf-8").splitlines()]
    fresh = [case for seed in range(1, args.fresh_seeds + 1) for case in build(seed)]
    all_kinds = sorted({s["kind"] for case in cases for s in case["spans"]})
    systems: dict[str, tuple[Detector, Iterable[str]]] = {
        "nlp.pii": (
            lambda text: [Span(f.kind, f.start, f.end) for f in pii.find_pii(text)],
            all_kinds,
        ),
        "naive regex": (naive_detector, MAIN_KINDS),
        "presidio stock": (presidio_stock_detector(), MAIN_KINDS),
    }
    sets = {
        "all": cases,
        "dev": [c for c in cases if c["split"] == "dev"],
        "holdout": [c for c in cases if c["split"] == "holdout"],
        "fresh": fresh,
    }
    texts = {
        "cases": [c["text"] for c in cases],
        f"{LONG_PARTS} cases joined": long_texts(cases, 0),
    }
    report_systems = {}
    for name, (detect, kinds) in systems.items():
        entry = {}
        for set_name, subset in sets.items():
            predictions = [
                detect(c["text"]) for c in tqdm(subset, desc=f"{name} {set_name}", leave=False)
            ]
            entry[set_name] = score(subset, predictions, kinds)
        entry["latency"] = {
            label: latency(detect, t, args.repeats, f"{name} {label}") for label, t in texts.items()
        }
        report_systems[name] = entry
    report = {
        "command": f".venv/bin/python -m bench.pii --cases {args.cases} --repeats {args.repeats}",
        "machine": machine_note(),
        "cases_path": str(args.cases),
        "cases": len(cases),
        "split_sizes": Counter(c["split"] for c in cases),
        "negatives": sum(not c["spans"] for c in cases),
        "gold_spans": sum(len(c["spans"]) for c in cases),
        "fresh_seeds": args.fresh_seeds,
        "fresh_gold_spans": sum(len(c["spans"]) for c in fresh),
        "import_seconds": import_seconds,
        "first_call_ms": first_call_ms,
        "systems": report_systems,
        "targets": targets(report_systems["nlp.pii"]["all"]),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(markdown(report), encoding="utf-8")
    sys.stdout.write(markdown(report))


if __name__ == "__main__":
    main()
