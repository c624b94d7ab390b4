"""Turns under load: the product against a stock `rasa init` project, same machine, same load.

    .venv/bin/python -m bench.turns --customers 16 --duration 60 --rounds 3 --long 200

Starts the product from this working tree (or `--tree`) as bench.product does (its own var
dir, ports and SQLite store; the model of `bot.training.ensure_model` unless `--model`;
scheduled jobs off) and a stock `rasa init` project made with the same virtualenv's Rasa
(bench.turns_stock, trained once and cached). In `--rounds` rounds that alternate which goes
first, each system gets the same load, one system at a time (they share the machine's
cores): `--customers` simulated customers at once, each from its own loopback address, each
holding `--turns`-turn conversations with no pause between a reply and the next message, for
`--duration` seconds or `--max-messages` (bench.turns_load), through the REST channel,
socket.io or both. A run gives messages answered, throughput, p50/p95/p99 latency, errors by
kind and the resident memory of each process. `--long N` then holds one N-turn conversation
per system, paced under the product's per-conversation rate limit, and reports the median
latency by turn position. `--py-spy PATH` samples the product's Rasa server(s) during one
more load run (bench.rasa_profile). Finally the product's CRM store is checked: every
customer message the bench sent and the product answered, stored once. The report goes to
docs/bench/turns.md (`--out`), the raw figures to var/bench/turns/. `--train` also times
training the whole bot from scratch.

The product runs as `make run` starts it on a machine with Redis: one Rasa process a core,
coordinated through Redis (`--redis`, a database of the bench's own; `--workers`, default one
a core). `--redis none` starts one Rasa process, as on a machine without Redis.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import redis

from bench.common import ROOT, cpu_model, write_outputs
from bench.product import Product, started
from bench.rasa_profile import RATE_HZ, breakdown, sampling
from bench.turns_checks import crm_check, log_problems
from bench.turns_figures import (
    Sample,
    by_position,
    errors_by_kind,
    last_to_fifth,
    load_figures,
    median_over,
    ratio,
    service_pids,
)
from bench.turns_load import Load, Memory, load, long_conversation_run
from bench.turns_report import markdown
from bench.turns_scripts import (
    LONG_PRODUCT,
    LONG_STOCK,
    PRODUCT_SCRIPTS,
    STOCK_SCRIPTS,
    long_conversation,
)
from bench.turns_stock import CACHE, ensure_stock_project, rasa_version, served, with_socketio

SYSTEMS = ("product", "stock")
SCRIPTS = {"product": PRODUCT_SCRIPTS, "stock": STOCK_SCRIPTS}
START_ATTEMPTS = 3
START_RETRY_S = 60.0
SUMMARY_KEYS = ("answered", "messages_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "memory_mb")


def commit(tree: Path) -> dict[str, Any]:
    """The product's commit and the files that differ from it (the tree may be mid-edit)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tree, capture_output=True, text=True, check=False
        ).stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "HEAD").strip(), "changed": changed}


def train_from_scratch(tree: Path, models_dir: Path) -> float:
    """Seconds to train the tree's bot (NLU and dialogue) with no model and no cached
    component to reuse (Rasa keeps trained components in `.rasa/cache`)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from pathlib import Path; from bot.training import ensure_model; "
        "ensure_model(Path.cwd(), force=True, models_dir=Path(sys.argv[1]))"
    )
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": cache}  # no component from a cache
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", code, str(models_dir)], cwd=tree, env=env, check=True)
        return time.monotonic() - started


def product_env(redis_url: str, workers: int | None) -> dict[str, str]:
    """The product's settings for the bench: jobs off; Redis and workers as asked."""
    env = {"CRM_JOB_SCHEDULE": "off"}
    if redis_url != "none":
        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()  # the bench's own database: no old locks
        env["CRM_REDIS_URL"] = redis_url
    if workers is not None:
        env["CRM_RASA_WORKERS"] = str(workers)
    return env


def start_product(
    stack: ExitStack, tree: Path, model: Path, var_dir: Path, env: dict[str, str], notes: list[str]
) -> Product:
    """The tree's product; retried a minute later if it does not start (the tree may be in
    the middle of someone's edit)."""
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return stack.enter_context(started("product", tree, model, var_dir, env))
        except RuntimeError as error:
            notes.append(f"the product did not start (attempt {attempt}): {error}")
            print(notes[-1], flush=True)
            if attempt == START_ATTEMPTS:
                raise
            time.sleep(START_RETRY_S)
    raise AssertionError("unreachable")


def run_figures(samples: Sequence[Sample], window: float, memory: Memory) -> dict[str, Any]:
    figures: dict[str, Any] = load_figures(samples, window)
    figures["errors_by_kind"] = errors_by_kind(samples)
    figures["memory_peak_mb"] = {name: round(mb, 1) for name, mb in memory.peak_mb.items()}
    figures["memory_mb"] = round(memory.total_peak_mb, 1)
    return figures


def summary(rounds: Sequence[dict[str, Any]], channels: Sequence[str]) -> dict[str, Any]:
    """Per channel: each system's medians over rounds, and product/stock."""
    out: dict[str, Any] = {}
    for channel in channels:
        medians = {
            system: {
                key: median_over([r[system][channel] for r in rounds], key) for key in SUMMARY_KEYS
            }
            for system in SYSTEMS
        }
        out[channel] = {
            **medians,
            "ratio": {
                key: ratio(medians["product"][key], medians["stock"][key])
                for key in SUMMARY_KEYS
                if key != "errors"
            },
        }
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=16)
    parser.add_argument("--turns", type=int, default=6, help="turns a conversation")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds a run")
    parser.add_argument("--max-messages", type=int, help="messages a run, at most")
    parser.add_argument("--channel", choices=("rest", "socketio", "both"), default="rest")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--long", type=int, default=0, help="turns of the long conversation")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request")
    parser.add_argument("--py-spy", type=Path, help="py-spy binary: profile the Rasa server(s)")
    parser.add_argument("--model", type=Path, help="default: bot.training.ensure_model()")
    parser.add_argument(
        "--train", action="store_true", help="also time training the whole bot from scratch"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        default=ROOT,
        help="the product's source tree (default: this one); a `git worktree` of an older"
        " commit measures the product before a change",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/12",
        help="the product's Redis (emptied first), or `none` for one Rasa process",
    )
    parser.add_argument("--workers", type=int, help="Rasa processes (default: one a core)")
    parser.add_argument("--stock-dir", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "turns.md")
    parser.add_argument("--raw", type=Path, default=ROOT / "var" / "bench" / "turns")
    args = parser.parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    channels = ["rest", "socketio"] if args.channel == "both" else [args.channel]
    command = "python -m bench.turns " + " ".join(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {
        "command": command.strip(),
        "started": stamp,
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "rasa": rasa_version(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "notes": [],
        **commit(args.tree),
    }
    if args.model is None:
        from bot.training import ensure_model

        args.model = ensure_model()
    args.model = args.model.resolve()  # the product starts in its tree's folder
    result["model"] = args.model.name
    project = ensure_stock_project(args.stock_dir)
    result["stock_model"] = (
        project.name + "/models/" + (sorted((project / "models").glob("*.tar.gz"))[-1].name)
    )
    var_dir = args.raw / stamp
    if args.train:
        result["train_s"] = train_from_scratch(args.tree, var_dir / "models")
    spec = Load(args.customers, args.turns, args.duration, args.max_messages, args.timeout)
    with ExitStack() as stack:
        env = product_env(args.redis, args.workers)
        product = start_product(
            stack, args.tree, args.model, var_dir / "product", env, result["notes"]
        )
        credentials = (
            with_socketio(project, var_dir / "stock" / "credentials.yml")
            if "socketio" in channels
            else None
        )
        stock = stack.enter_context(served(project, var_dir / "stock" / "rasa.log", credentials))
        assert product.log is not None
        pids = {
            "product": service_pids(product.log.read_text(errors="replace")),
            "stock": {"rasa": stock.pid},
        }
        result["processes"] = pids
        urls = {"product": product.rasa_url, "stock": stock.rasa_url}
        samples = measure(result, urls, pids, channels, spec, args.rounds, f"turns-{stamp}")
        if args.long:
            result["long"] = long_mode(urls, args.long, args.timeout, f"turns-{stamp}", samples)
        if args.py_spy:
            result["profile"], run = profile(
                args.py_spy, pids["product"], urls["product"], spec, f"turns-{stamp}", var_dir
            )
            samples["product"].extend(run)
        result["crm"] = crm_check(product, samples["product"])
        result["logs"] = {"product": log_problems(product.log), "stock": log_problems(stock.log)}
    result["var_dir"] = str(var_dir)
    result = jsonable(result)
    write_outputs(result, args.raw / f"{stamp}.json", markdown(result), args.out)


def measure(
    result: dict[str, Any],
    urls: dict[str, str],
    pids: dict[str, dict[str, int]],
    channels: Sequence[str],
    spec: Load,
    rounds: int,
    prefix: str,
) -> dict[str, list[Sample]]:
    """A warm-up, then the rounds: each system under the same load in turn, the order
    alternating; each run's figures go in `result`. Every sample, for the CRM check."""
    samples: dict[str, list[Sample]] = {"product": [], "stock": []}
    warm = Load(2, spec.turns, 5.0, 12, spec.timeout)
    for system in SYSTEMS:  # the first turns load lazily: not measured
        for channel in channels:
            run, _ = load(
                urls[system],
                channel,
                SCRIPTS[system],
                warm,
                f"{prefix}-warm-{system[0]}",
                None,
                f"warm-up {system} {channel}",
            )
            samples[system].extend(run)
    result["rounds"] = []
    for number in range(rounds):
        order = SYSTEMS if number % 2 == 0 else SYSTEMS[::-1]
        figures: dict[str, Any] = {"order": list(order)}
        for system in order:
            figures[system] = {}
            for channel in channels:
                memory = Memory(pids[system])
                run, window = load(
                    urls[system],
                    channel,
                    SCRIPTS[system],
                    spec,
                    f"{prefix}-r{number}-{system[0]}",
                    memory,
                    f"round {number + 1}/{rounds} {system} {channel}",
                )
                samples[system].extend(run)
                figures[system][channel] = run_figures(run, window, memory)
        result["rounds"].append(figures)
    result["summary"] = summary(result["rounds"], channels)
    return samples


def long_mode(
    urls: dict[str, str],
    turns: int,
    timeout: float,
    prefix: str,
    samples: dict[str, list[Sample]],
) -> dict[str, Any]:
    """One `turns`-turn conversation per system: median latency by turn position."""
    out: dict[str, Any] = {}
    for system, script in (("product", LONG_PRODUCT), ("stock", LONG_STOCK)):
        run = long_conversation_run(
            urls[system],
            long_conversation(script, turns),
            f"{prefix}-long-{system[0]}",
            timeout,
            f"long {system}",
        )
        samples[system].extend(run)
        rows = by_position(run, turns)
        out[system] = {
            "buckets": rows,
            "last_to_fifth": last_to_fifth(rows),
            "answered": sum(1 for s in run if s.answered),
            "errors_by_kind": errors_by_kind(run),
        }
    return out


def profile(
    py_spy: Path, pids: dict[str, int], url: str, spec: Load, prefix: str, var_dir: Path
) -> tuple[dict[str, Any], list[Sample]]:
    """One more REST load run of the product with each Rasa process sampled by py-spy (with
    several workers, each worker: the process we started only supervises them)."""
    servers = {
        name: pid
        for service, parent in pids.items()
        if service.startswith("rasa")
        for name, pid in rasa_processes(service, parent).items()
    }
    started_at = time.monotonic()
    with ExitStack() as stack:
        raws = {
            name: stack.enter_context(sampling(py_spy, pid, var_dir / f"py-spy-{name}.txt"))
            for name, pid in servers.items()
        }
        run, window = load(
            url,
            "rest",
            PRODUCT_SCRIPTS,
            spec,
            f"{prefix}-profile",
            Memory(pids),
            "profiled product",
        )
    seconds = time.monotonic() - started_at
    out: dict[str, Any] = {"run": load_figures(run, window)}
    for name, raw in raws.items():
        shares = breakdown(raw)
        shares["busy_%"] = round(100 * shares["busy_samples"] / (RATE_HZ * seconds), 1)
        out[name] = shares
    return out, run


def rasa_processes(name: str, pid: int) -> dict[str, int]:
    """The Rasa server's worker processes by name (`rasa-worker1`, ...), or the server itself
    when it serves alone."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    workers = [int(child) for child in children.read_text().split()] if children.exists() else []
    if not workers:
        return {name: pid}
    return {f"{name}-worker{number}": child for number, child in enumerate(workers, 1)}


def jsonable(value: Any) -> Any:
    """NaN as None, so the JSON file is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


if __name__ == "__main__":
    main()
