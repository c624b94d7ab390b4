"""How pure the NLU inbox's groups are, and how many there are, against TF-IDF alone.

Each draw takes 12 random intents with at least 15 messages and 15 random messages of each
(180 messages), groups them as the inbox would and counts: purity (the share of messages in
their group's majority intent) and groups per message (1 would mean no grouping at all; lower
saves the supervisor more). Data: the project's own examples (`data/nlu`, on which the bound
was chosen) and the test splits of the data sets given with `--data`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from analytics.inbox_groups import DISTANCE, EMBEDDING_SHARE, group
from bench.common import ROOT, cpu_model, read_intent_csv, write_outputs
from bot.training import existing_examples

DATASETS = ROOT.parent / "shared" / "datasets"
INTENTS_A_DRAW = 12
MESSAGES_AN_INTENT = 15
SYSTEMS: dict[str, dict[str, float]] = {
    "product": {"distance": DISTANCE, "embedding_share": EMBEDDING_SHARE},
    "tfidf": {"distance": 0.8, "embedding_share": 0.0},
}
LABELS = {
    "product": f"sentence encoder + TF-IDF, bound {DISTANCE} (shipped)",
    "tfidf": "TF-IDF alone, bound 0.8 (shipped before)",
}


def by_intent(texts: Sequence[str], intents: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for text, intent in zip(texts, intents, strict=True):
        grouped.setdefault(intent, []).append(text)
    return grouped


def draw(messages: Mapping[str, list[str]], seed: int) -> list[tuple[str, str]]:
    """One seeded sample: (text, intent) for 15 messages of each of 12 intents."""
    names = sorted(name for name, texts in messages.items() if len(texts) >= MESSAGES_AN_INTENT)
    chooser = random.Random(seed)
    return [
        (text, intent)
        for intent in chooser.sample(names, INTENTS_A_DRAW)
        for text in chooser.sample(sorted(messages[intent]), MESSAGES_AN_INTENT)
    ]


def purity_and_groups(sample: Sequence[tuple[str, str]], **options: float) -> tuple[float, float]:
    """The grouping's purity and its groups per message on one sample."""
    items = [
        {"id": index + 1, "text": text, "predicted_intent": intent}
        for index, (text, intent) in enumerate(sample)
    ]
    groups = group(items, **options)
    majority = sum(
        Counter(item["predicted_intent"] for item in g["items"]).most_common(1)[0][1]
        for g in groups
    )
    return majority / len(sample), len(groups) / len(sample)


def measure(messages: Mapping[str, list[str]], draws: int, **options: float) -> dict[str, float]:
    """Mean purity and groups per message over `draws` seeded draws, and the seconds a draw."""
    purity, groups, seconds = [], [], []
    for seed in range(draws):
        sample = draw(messages, seed)
        start = time.perf_counter()
        pure, count = purity_and_groups(sample, **options)
        seconds.append(time.perf_counter() - start)
        purity.append(pure)
        groups.append(count)
    return {
        "purity": float(np.mean(purity)),
        "groups_per_message": float(np.mean(groups)),
        "seconds_a_draw_median": float(np.median(seconds)),
    }


def run(data: Sequence[Path], draws: int) -> dict[str, Any]:
    own = existing_examples()
    sets = {"project (data/nlu)": by_intent(list(own), list(own.values()))}
    for path in data:
        sets[f"{path.name} test"] = by_intent(*read_intent_csv(path, "test"))
    # The encoder's embeddings are cached per text: a first pass over each set warms them
    # (and is timed as a first visit), so its timed passes compare grouping with grouping, as
    # a supervisor's second visit would. One set at a time: its texts fit in the cache.
    first_visit, results = {}, {}
    for name, messages in tqdm(sets.items(), desc="inbox grouping", unit="data set"):
        cold = measure(messages, draws, **SYSTEMS["product"])
        first_visit[name] = cold["seconds_a_draw_median"]
        results[name] = {
            system: measure(messages, draws, **options) for system, options in SYSTEMS.items()
        }
    return {"draws": draws, "cpu": cpu_model(), "results": results, "first_visit": first_visit}


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        "## Inbox grouping (`analytics/inbox_groups.py`)",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {result['cpu']}. Each figure is the mean over {result['draws']} draws of "
        f"{MESSAGES_AN_INTENT} messages each of {INTENTS_A_DRAW} random intents (180 messages); "
        "purity is the share of messages in their group's majority intent, and fewer groups "
        "per message save the supervisor more labels. The grouping time is the median per "
        "draw with the embeddings already cached (the inbox keeps them between visits).",
        "",
        "| data | grouping | purity | groups per message | grouping (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, systems in result["results"].items():
        for system, figures in systems.items():
            lines.append(
                f"| {name} | {LABELS[system]} | {figures['purity']:.1%} | "
                f"{figures['groups_per_message']:.3f} | "
                f"{figures['seconds_a_draw_median'] * 1000:.0f} |"
            )
    first = ", ".join(
        f"{name} {seconds * 1000:.0f} ms" for name, seconds in result["first_visit"].items()
    )
    lines += [
        "",
        f"With no embedding cached yet (a first visit), grouping a draw took: {first} (median).",
        "",
        "The bound and the encoder's share were chosen by a scratch grid (shares 0 to 0.7, "
        "bounds 0.55 to 0.85) that printed all three data sets side by side, so BANKING77's "
        "and HWU64's figures are not held out: the chosen point is the one purer than TF-IDF "
        "alone on all three with fewer groups on two of them. HWU64 gets more groups per "
        "message than before (its intents are further apart, so TF-IDF's groups were already "
        "pure).",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a data set directory with test.csv (repeatable; default: BANKING77 and HWU64)",
    )
    parser.add_argument("--draws", type=int, default=12)
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/bench/inbox_groups.md")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/inbox_groups.json")
    args = parser.parse_args(argv)
    if args.draws < 1:
        parser.error("--draws must be at least 1")
    data = args.data or [DATASETS / "banking77", DATASETS / "hwu64"]
    for path in data:
        if not (path / "test.csv").is_file():
            parser.error(f"{path / 'test.csv'} does not exist")
    result = run(data, args.draws)
    command = "python -m bench.inbox_groups " + " ".join(sys.argv[1:] if argv is None else argv)
    write_outputs(result, args.json, markdown(result, command.strip()), args.markdown)


if __name__ == "__main__":
    main()
