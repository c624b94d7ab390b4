"""A customer's turn time before and after the outbox, both products running at once.

    .venv/bin/python -m bench.turn_latency --rounds 7

Starts two products side by side, each with its own var dir, ports and SQLite store: the
tree before the outbox (a `git worktree` of `--before-commit`, made and removed here unless
`--before-tree` names one) and this working tree, with the same model (the training data is
the same, so the model is too). Scheduled jobs are off in both so they do not add noise.
Then, in rounds that alternate which product goes first, each product gets the same turns:
  - sequential: three signed-in customers one after the other, a seven-turn conversation
    each, one turn after the other;
  - concurrent: eight signed-in customers at once, the same conversation with half a second
    between turns;
  - locked: the CRM file write-locked (`BEGIN IMMEDIATE`, as a long write or a backup would)
    for `--lock-seconds` while an anonymous customer sends turns one after the other.
Each round gives each product's p50/p95 per mode; the report shows the medians over rounds
and the ratio after/before. With `--py-spy`, one more concurrent run per product is sampled
(bench.rasa_profile) to show where the Rasa server's event loop spends its time. Finally
each product's CRM store is checked: every answered message and reply of the bench's
conversations stored once and in order.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url
from tqdm import tqdm

from bench.common import ROOT, cpu_model, write_outputs
from bench.product import (
    Product,
    Turn,
    compare,
    expected_messages,
    say,
    started,
    stored_messages,
    wait_drained,
)
from bench.rasa_profile import PARTS, RATE_HZ, breakdown, sampling

BEFORE_COMMIT = "b3a37efa42171aa09e9d717910246cc77f26e73d"
TURNS = (
    "hello there",
    "where is my new card? it hasn't arrived",
    "how do I change my PIN?",
    "can I pay with apple pay?",
    "what exchange rate do you use?",
    "thank you",
    "goodbye",
)
LOCKED_TURN = "what exchange rate do you use?"
CONCURRENT = 8
SEQUENTIAL = 3
CONCURRENT_THINK_S = 0.5
MODES = ("sequential", "concurrent", "locked")
DRAIN_TIMEOUT_S = 120.0


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A throwaway `git worktree` of `commit` (detached), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="before-outbox-"))
    path.rmdir()
    subprocess.run(["git", "worktree", "add", "--detach", str(path), commit], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def conversation(product: Product, sender: str, token: str | None, think: float) -> list[Turn]:
    turns = []
    for text in TURNS:
        turns.append(say(product, sender, text, token))
        time.sleep(think)
    return turns


def concurrent(product: Product, prefix: str, tokens: Sequence[str | None]) -> list[Turn]:
    results: list[list[Turn]] = [[] for _ in tokens]

    def one(index: int) -> None:
        results[index] = conversation(
            product, f"{prefix}-{index}", tokens[index], CONCURRENT_THINK_S
        )

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [turn for turns in results for turn in turns]


def locked(product: Product, sender: str, seconds: float) -> list[Turn]:
    """Turns sent one after the other while another connection holds the CRM's write lock
    for `seconds` (released on time, whatever the turns are doing)."""
    path = make_url(product.database_url).database
    assert path, "the locked mode needs a SQLite store"
    holder = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(seconds)
        holder.execute("ROLLBACK")
        holder.close()
        released.set()

    threading.Thread(target=release).start()
    turns: list[Turn] = []
    while not released.is_set():
        turns.append(say(product, sender, LOCKED_TURN, None))
    return turns


def percentiles(turns: Sequence[Turn]) -> dict[str, float]:
    ms = [t.seconds * 1000 for t in turns if t.replies is not None]
    failed = sum(1 for t in turns if t.replies is None)
    if not ms:
        nan = float("nan")
        return {"p50_ms": nan, "p95_ms": nan, "max_ms": nan, "n": 0, "failed": failed}
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "max_ms": max(ms),
        "n": len(ms),
        "failed": failed,
    }


def one_round(
    product: Product, prefix: str, tokens: Sequence[str | None], lock_s: float
) -> tuple[dict[str, dict[str, float]], list[Turn]]:
    sequential_turns = [
        turn
        for n in range(SEQUENTIAL)
        for turn in conversation(product, f"{prefix}-seq{n}", tokens[n], 0.0)
    ]
    concurrent_turns = concurrent(product, f"{prefix}-con", tokens)
    locked_turns = locked(product, f"{prefix}-lock", lock_s) if lock_s > 0 else []
    figures = {
        "sequential": percentiles(sequential_turns),
        "concurrent": percentiles(concurrent_turns),
        "locked": percentiles(locked_turns),
    }
    return figures, sequential_turns + concurrent_turns + locked_turns


def profile(
    py_spy: Path, product: Product, tokens: Sequence[str | None], out: Path
) -> dict[str, float]:
    """One concurrent run with the Rasa server sampled: its main thread's time by part."""
    pid = product.pid("rasa")
    assert pid is not None, "the product was not started here"
    started_at = time.monotonic()
    with sampling(py_spy, pid, out / "rasa-profile.txt") as raw:
        concurrent(product, f"profile-{product.name}-{time.time_ns()}", tokens)
    seconds = time.monotonic() - started_at
    shares = breakdown(raw)
    shares["busy_%"] = round(100 * shares["busy_samples"] / (RATE_HZ * seconds), 1)
    return shares


def summary(rounds: list[dict[str, dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """Per mode and figure: each product's median over rounds, and after/before."""
    out: dict[str, Any] = {}
    for mode in MODES:
        out[mode] = {}
        for figure in ("p50_ms", "p95_ms", "max_ms", "n"):
            before = statistics.median(r["before"][mode][figure] for r in rounds)
            after = statistics.median(r["after"][mode][figure] for r in rounds)
            ratio = after / before if before else float("nan")
            out[mode][figure] = {"before": before, "after": after, "ratio": ratio}
        out[mode]["failed"] = {
            name: sum(r[name][mode]["failed"] for r in rounds) for name in ("before", "after")
        }
    return out


def markdown(result: dict[str, Any], command: str) -> str:
    s = result["summary"]
    lines = [
        "## Turn latency before and after the outbox (`bench/turn_latency.py`)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {result['machine']}. Before: commit `{result['before_commit'][:10]}` "
        "(the broker writes each event to the CRM store inside Rasa's event loop; the tracker "
        "shares the CRM's SQLite file). After: this working tree (events appended to the "
        "local outbox and written to the CRM by the relay; the tracker in its own SQLite file). "
        f"Both products ran at the same time, {result['rounds']} rounds alternating which went "
        "first; figures are medians over the rounds of each round's p50/p95. The machine is "
        "shared with other sessions running test suites, so single rounds are noisy: compare "
        "the ratios.",
        "",
        "| mode | answered turns a round | p50 before / after (ms) | p50 ratio | "
        "p95 before / after (ms) | p95 ratio | slowest before / after (ms) | "
        "failed turns, all rounds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "sequential": f"{SEQUENTIAL} customers one after the other, 7 turns back to back",
        "concurrent": f"{CONCURRENT} customers at once, 7 turns each",
        "locked": f"CRM file write-locked for {result['lock_seconds']:.0f} s, turns back to back",
    }
    for mode in MODES:
        m = s[mode]
        if not (m["n"]["before"] or m["n"]["after"] or any(m["failed"].values())):
            continue
        lines.append(
            f"| {labels[mode]} | {m['n']['before']:.0f} / {m['n']['after']:.0f} | "
            f"{m['p50_ms']['before']:.0f} / {m['p50_ms']['after']:.0f} | "
            f"{m['p50_ms']['ratio']:.2f} | "
            f"{m['p95_ms']['before']:.0f} / {m['p95_ms']['after']:.0f} | "
            f"{m['p95_ms']['ratio']:.2f} | "
            f"{m['max_ms']['before']:.0f} / {m['max_ms']['after']:.0f} | "
            f"{m['failed']['before']} / {m['failed']['after']} |"
        )
    lines += ["", "CRM store after the rounds (the bench's conversations only):", ""]
    lines += ["| product | expected | stored | lost | duplicated | unexpected | out of order |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for name in ("before", "after"):
        c = result["crm"][name]
        lines.append(
            f"| {name} | {c['expected']} | {c['stored']} | {c['lost']} | {c['duplicated']} | "
            f"{c['unexpected']} | {c['out_of_order']} |"
        )
    if "profile" in result:
        lines += [
            "",
            "Where the Rasa server's main thread (its event loop, which serves every "
            f"conversation) spent one more run of the {CONCURRENT} concurrent customers, "
            "sampled with py-spy (`--py-spy`); shares of its busy samples:",
            "",
            "| part | before | after |",
            "|---|---|---|",
            "| main thread busy (% of the run's wall time) | "
            f"{result['profile']['before']['busy_%']} | {result['profile']['after']['busy_%']} |",
        ]
        for part in [name for name, _ in PARTS] + ["other"]:
            lines.append(
                f"| {part} | {result['profile']['before'][part]}% | "
                f"{result['profile']['after'][part]}% |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--lock-seconds", type=float, default=5.0, help="0: no locked mode")
    parser.add_argument("--before-commit", default=BEFORE_COMMIT)
    parser.add_argument("--before-tree", type=Path, help="a checkout of the before commit")
    parser.add_argument("--py-spy", type=Path, help="py-spy binary: profile the Rasa servers")
    parser.add_argument("--after-tree", type=Path, default=ROOT, help="default: this tree")
    parser.add_argument("--model", type=Path, help="default: bot.training.ensure_model()")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "turn_latency")
    parser.add_argument(
        "--markdown", type=Path, default=ROOT / "docs" / "bench" / "turn_latency.md"
    )
    args = parser.parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    if args.model is None:
        from bot.training import ensure_model

        args.model = ensure_model()
    result: dict[str, Any] = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the start",
        "before_commit": args.before_commit,
        "rounds": args.rounds,
        "lock_seconds": args.lock_seconds,
    }
    quiet = {"CRM_JOB_SCHEDULE": "off"}
    with ExitStack() as stack:
        before_tree = args.before_tree or stack.enter_context(worktree(args.before_commit))
        products = {
            "before": stack.enter_context(
                started("before", before_tree, args.model, args.out / stamp / "before", quiet)
            ),
            "after": stack.enter_context(
                started(
                    "after",
                    args.after_tree.resolve(),
                    args.model,
                    args.out / stamp / "after",
                    quiet,
                )
            ),
        }
        tokens = {
            name: [p.customer_token(2 + n) for n in range(CONCURRENT)]
            for name, p in products.items()
        }
        for name, product in products.items():  # warm-up: first turns load lazily
            conversation(product, f"bench-{stamp}-warm", tokens[name][0], 0.0)
        rounds: list[dict[str, Any]] = []
        all_turns: dict[str, list[Turn]] = {"before": [], "after": []}
        for number in tqdm(range(args.rounds), desc="rounds"):
            order = ("before", "after") if number % 2 == 0 else ("after", "before")
            figures: dict[str, Any] = {}
            for name in order:
                prefix = f"bench-{stamp}-r{number}"
                figures[name], turns = one_round(
                    products[name], prefix, tokens[name], args.lock_seconds
                )
                all_turns[name].extend(turns)
            rounds.append(figures)
        result["crm"], result["drained_after_s"] = {}, {}
        for name, product in products.items():
            result["drained_after_s"][name] = wait_drained(product, DRAIN_TIMEOUT_S)
            by_conversation: dict[str, list[Turn]] = {}
            for turn in all_turns[name]:
                by_conversation.setdefault(turn.conversation, []).append(turn)
            expected = {c: expected_messages(ts) for c, ts in by_conversation.items()}
            stored = stored_messages(product.database_url, f"bench-{stamp}-r")
            result["crm"][name] = compare(expected, stored)
            result.setdefault("logs", {})[name] = product.log_problems()
        if args.py_spy:
            result["profile"] = {
                name: profile(args.py_spy, product, tokens[name], args.out / stamp / name)
                for name, product in products.items()
            }
    result["per_round"] = rounds
    result["summary"] = summary(rounds)
    command = "python -m bench.turn_latency " + " ".join(sys.argv[1:] if argv is None else argv)
    write_outputs(
        result, args.out / f"{stamp}.json", markdown(result, command.strip()), args.markdown
    )


if __name__ == "__main__":
    main()
