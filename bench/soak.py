"""Soak: 16 customers talk to the product at once for 10 minutes; is every message stored once?

    .venv/bin/python -m bench.soak --minutes 10

Starts the product from this tree, or from `--tree` (e.g. a `git worktree` of an older
commit), with its own var dir under var/bench/soak/, its own ports and a SQLite store (the
model of `bot.training.ensure_model` unless `--model`), or talks to a running one
(`--rasa-url`, `--console-url`, `--database-url`, `--admin-password`). `--conversations`
threads each hold one conversation at a time over the REST channel: a script of realistic
messages (half of them as a signed-in customer, half anonymous), a pause between messages
as a customer types, then a new conversation, until the time is up. Meanwhile /healthz is
polled for the outbox backlog. Then it waits for the outbox to drain and compares the CRM
store with what was sent and answered: every answered message and every reply exactly once,
in order. A turn that failed (no 200) is not expected in the CRM.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.common import ROOT, cpu_model, p50_p95_ms, write_outputs
from bench.product import (
    Product,
    Turn,
    compare,
    expected_messages,
    outbox_of,
    say,
    started,
    stored_messages,
    wait_drained,
)

SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("hi", "where is my new card? it hasn't arrived", "thanks", "bye"),
    ("hello there", "I was charged twice for the same thing", "yes", "no, that's all"),
    ("good morning", "how long does it take to get a card?", "and can I use Apple Pay?", "thanks"),
    ("hey", "my transfer is still pending", "what exchange rate do you use?", "ok thank you"),
    ("hi", "my top up failed", "what's the maximum I can top up?", "great, bye"),
    ("hello", "there's a payment I don't recognise", "no", "thank you"),
    ("hi there", "how do I change my PIN", "my PIN is blocked", "thanks a lot", "goodbye"),
    ("hello", "my refund isn't showing up", "how do I get a refund for a purchase?", "bye"),
    ("hi", "how do I get a virtual card?", "can I use my card at any ATM?", "cheers"),
    ("hey", "why was I charged a fee for a card payment?", "ok", "bye"),
    ("hi", "the person I sent money to hasn't received it", "can I stop a transfer?", "thanks"),
    ("hello", "are you a bot?", "how do I activate my card", "thank you"),
)
CUSTOMERS = range(1, 41)
"""Signed-in conversations are customers of the demo data (`bot.crm.seed`)."""
HEALTH_EVERY_S = 1.0
DRAIN_TIMEOUT_S = 300.0


class Health:
    """Polls /healthz in a thread: the outbox backlog's peak and the unhealthy answers."""

    def __init__(self, product: Product) -> None:
        self.product = product
        self.stop = threading.Event()
        self.backlog_peak: int | None = None
        self.oldest_peak_s: float | None = None
        self.dead_peak: int | None = None
        self.polls = 0
        self.unhealthy: dict[str, int] = {}
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self) -> None:
        try:
            reply = self.product.health()
        except OSError as error:
            self.unhealthy[type(error).__name__] = self.unhealthy.get(type(error).__name__, 0) + 1
            return
        self.polls += 1
        body = reply.body if isinstance(reply.body, dict) else {}
        if reply.status != 200:
            for name, state in (body.get("components") or {}).items():
                if state != "ok":
                    key = f"{name}: {str(state).split(':')[0]}"
                    self.unhealthy[key] = self.unhealthy.get(key, 0) + 1
        outbox = outbox_of(reply)
        if outbox is not None:
            backlog = int(outbox.get("backlog") or 0)
            self.backlog_peak = max(self.backlog_peak or 0, backlog)
            self.dead_peak = max(self.dead_peak or 0, int(outbox.get("dead") or 0))
            oldest = outbox.get("oldest_age_s")
            if oldest is not None:
                self.oldest_peak_s = max(self.oldest_peak_s or 0.0, float(oldest))

    def run(self) -> None:
        while not self.stop.wait(HEALTH_EVERY_S):
            self.sample()


def customer(
    product: Product,
    worker: int,
    run_id: str,
    deadline: float,
    think: tuple[float, float],
    turns: list[Turn],
    lock: threading.Lock,
    progress: tqdm,
) -> None:
    """One thread: conversation after conversation until the deadline."""
    rng = random.Random(f"{run_id}-{worker}")
    number = 0
    while time.monotonic() < deadline:
        conversation = f"{run_id}-{worker:02d}-{number:04d}"
        number += 1
        signed_in = worker % 2 == 0
        token = product.customer_token(rng.choice(CUSTOMERS)) if signed_in else None
        for message in rng.choice(SCRIPTS):
            if time.monotonic() >= deadline:
                break
            turn = say(product, conversation, message, token)
            with lock:
                turns.append(turn)
            progress.update(1)
            time.sleep(rng.uniform(*think))


def soak(
    product: Product,
    conversations: int,
    minutes: float,
    think: tuple[float, float],
    run_id: str,
) -> dict[str, Any]:
    """Hold the conversations for `minutes`, let the outbox drain, then count."""
    turns: list[Turn] = []
    lock = threading.Lock()
    health = Health(product)
    health.thread.start()
    deadline = time.monotonic() + minutes * 60
    started_at = time.monotonic()
    with tqdm(desc=f"soak {product.name}", unit="msg", mininterval=10) as progress:
        threads = [
            threading.Thread(
                target=customer,
                args=(product, n, run_id, deadline, think, turns, lock, progress),
            )
            for n in range(conversations)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    held_s = time.monotonic() - started_at
    health.stop.set()
    health.thread.join()
    drain_s = wait_drained(product, DRAIN_TIMEOUT_S)
    # Without an outbox (or if it never reported empty) give the writers a moment anyway.
    time.sleep(2 if drain_s is not None else 10)
    by_conversation: dict[str, list[Turn]] = {}
    for turn in turns:
        by_conversation.setdefault(turn.conversation, []).append(turn)
    expected = {c: expected_messages(ts) for c, ts in by_conversation.items()}
    figures = compare(expected, stored_messages(product.database_url, run_id))
    answered = [t for t in turns if t.replies]
    statuses: dict[str, int] = {}
    for turn in turns:
        statuses[str(turn.status)] = statuses.get(str(turn.status), 0) + 1
    return {
        "conversations_at_once": conversations,
        "minutes": round(held_s / 60, 2),
        "conversations": len(by_conversation),
        "messages_sent": len(turns),
        "answered": len(answered),
        "answered_empty": sum(1 for t in turns if t.replies == []),
        "failed": sum(1 for t in turns if t.replies is None),
        "statuses": statuses,
        "rate_limited_retries": sum(t.rate_limited for t in turns),
        "messages_per_s": round(len(turns) / held_s, 2),
        "turn_ms": p50_p95_ms([t.seconds * 1000 for t in turns if t.replies is not None] or [0]),
        "crm": figures,
        "outbox_backlog_peak": health.backlog_peak,
        "outbox_oldest_peak_s": health.oldest_peak_s,
        "outbox_drained_after_s": drain_s,
        "outbox_dead_peak": health.dead_peak,
        "health_polls": health.polls,
        "unhealthy": health.unhealthy,
        "logs": product.log_problems(),
    }


def na(value: object) -> str:
    return "n/a" if value is None else str(value)


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def markdown(result: dict[str, Any], command: str) -> str:
    crm, turn_ms = result["crm"], result["turn_ms"]
    backlog = result["outbox_backlog_peak"]  # None: no outbox (before issue 12)
    lines = [
        "## Soak (`bench/soak.py`)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {result['machine']}. Run started {result['started']}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| conversations held at once | {result['conversations_at_once']} |",
        f"| minutes | {result['minutes']} |",
        f"| conversations | {result['conversations']} |",
        f"| customer messages sent | {result['messages_sent']} "
        f"({result['messages_per_s']} a second) |",
        f"| answered (HTTP 200 with a reply) | {result['answered']} |",
        f"| HTTP 200 without a reply | {result['answered_empty']} |",
        f"| failed turns (no 200) | {result['failed']} (statuses {result['statuses']}) |",
        f"| 429 waits (per-address rate limit) | {result['rate_limited_retries']} |",
        f"| turn time p50 / p95 | {turn_ms['p50_ms']:.0f} / {turn_ms['p95_ms']:.0f} ms |",
        f"| messages expected in the CRM (sent + replies) | {crm['expected']} |",
        f"| messages stored in the CRM | {crm['stored']} |",
        f"| lost | {crm['lost']} |",
        f"| duplicated | {crm['duplicated']} |",
        f"| stored but never answered/sent | {crm['unexpected']} |",
        f"| conversations out of order | {crm['out_of_order']} |",
        f"| outbox backlog peak (/healthz every {HEALTH_EVERY_S:.0f} s) | {na(backlog)} |",
        f"| outbox oldest entry peak | {seconds(result['outbox_oldest_peak_s'])} |",
        f"| outbox empty after the load stopped | {seconds(result['outbox_drained_after_s'])} |",
        f"| outbox dead letters (peak) | {na(result['outbox_dead_peak'])} |",
        f"| /healthz answers not ok | {result['unhealthy'] or 'none'} |",
        f"| tracebacks / ERROR lines in the product's log | {result['logs'] or 'n/a'} |",
    ]
    return "\n".join(lines) + "\n"


def machine() -> str:
    load = os.getloadavg()[0]
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start; shared with other sessions running tests"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--model", type=Path, help="default: bot.training.ensure_model()")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the source tree to start")
    parser.add_argument("--rasa-url", help="talk to this running product instead")
    parser.add_argument("--console-url")
    parser.add_argument("--database-url", help="the running product's CRM store")
    parser.add_argument("--admin-password", help="to sign customers in (else all anonymous)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "soak")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "bench" / "soak.md")
    args = parser.parse_args(argv)
    run_id = "soak-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    result: dict[str, Any] = {"started": run_id.removeprefix("soak-"), "machine": machine()}
    think = (args.think[0], args.think[1])
    if args.rasa_url:
        if not (args.console_url and args.database_url):
            parser.error("--rasa-url needs --console-url and --database-url")
        product = Product(
            "running", args.rasa_url, args.console_url, args.database_url, args.admin_password
        )
        result.update(soak(product, args.conversations, args.minutes, think, run_id))
    else:
        from bot.training import ensure_model

        model = args.model or ensure_model()
        with started("product", args.tree.resolve(), model, args.out / run_id) as product:
            result.update(soak(product, args.conversations, args.minutes, think, run_id))
    command = "python -m bench.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    write_outputs(
        result, args.out / f"{run_id}.json", markdown(result, command.strip()), args.markdown
    )
    print(json.dumps(result["crm"]))


if __name__ == "__main__":
    main()
