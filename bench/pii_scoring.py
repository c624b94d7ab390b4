"""How the PII benchmark scores a detector: span matching, leaks and rates per kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The kinds every system is scored on (the baselines know no others).
MAIN_KINDS = ("CARD", "EMAIL", "PHONE", "IBAN")


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
