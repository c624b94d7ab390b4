"""Supervisor dashboard at scale: 100k conversations and 1M messages, every dashboard query timed.

    .venv/bin/python -m bench.analytics --database both

Generates the data (`bench.analytics_data`) into a throwaway SQLite file under var/bench/
and a throwaway PostgreSQL database (`crm_bench_analytics`, created and dropped), migrated
with `bot.crm.database.migrate`. Then, per database: the rollup's first full build
(`FactStore.refresh`) and the daily rollup's (`DailyFactStore.refresh`), the quality and
inbox jobs' first passes, then the whole roll-up the API runs before answering (facts, daily,
detect, collect) with nothing new and after 1,000 new messages written the way the live
system writes them; then every dashboard query through the store the API calls, for
each filter, `--repeats` times after one warm-up (p50/p95); and, in the same run, the
baseline: the summary computed straight from messages and tickets without the rollup.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from tqdm import tqdm

from bench.analytics_baseline import naive_summary
from bench.analytics_data import CHANNELS, TOPICS_RUN, Dataset, generate
from bench.analytics_load import (
    create_database,
    drop_database,
    gather_statistics,
    load,
    new_messages,
    topic_rows,
)
from bench.analytics_report import BASELINE, agree, markdown, slow
from bench.common import cpu_model, p50_p95_ms, write_outputs
from bot.crm.database import create_crm_engine
from bot.crm.enums import FlagStatus, InboxStatus
from bot.crm.models import Message
from bot.crm.store.daily_facts import DailyFactStore
from bot.crm.store.facts import FactStore
from bot.crm.store.metrics import MetricFilter, MetricStore
from bot.crm.store.nlu_inbox import InboxStore
from bot.crm.store.quality import QualityStore
from bot.crm.store.topics import TopicStore

TIMESERIES = ("conversations", "containment_rate", "fallback_rate", "median_first_response_s")
BREAKDOWN_METRIC = "containment_rate"
SEGMENT = 2
"""The largest segment (45% of customers): the heaviest one-segment filter."""
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
MIN_RUNS = 3


def filters(today: date) -> dict[str, MetricFilter]:
    """The dashboard's default range, the whole data set, and a segment and a channel of it."""
    month = today - timedelta(days=29)
    half_year = today - timedelta(days=179)
    return {
        "last 30 days": MetricFilter(month, today),
        "last 180 days": MetricFilter(half_year, today),
        "segment, 180 days": MetricFilter(half_year, today, segment_id=SEGMENT),
        "channel, 180 days": MetricFilter(half_year, today, channel=CHANNELS[0]),
    }


def queries(engine: Engine, now: datetime, f: MetricFilter) -> dict[str, Callable[[], Any]]:
    """Every dashboard query for one filter, as the API's handlers call the stores."""
    metrics, topics = MetricStore(engine), TopicStore(engine)
    calls: dict[str, Callable[[], Any]] = {"summary": lambda: metrics.summary(f, now)}
    for name in TIMESERIES:
        calls[f"timeseries {name}"] = lambda name=name: metrics.timeseries(name, f, now)
    for by in ("intent", "segment", "channel"):
        calls[f"breakdown by {by}"] = lambda by=by: metrics.breakdown(BREAKDOWN_METRIC, by, f, now)
    calls["drill-down page 1"] = lambda: metrics.conversations(f, metric="handoff_rate")
    cursor = metrics.conversations(f, metric="handoff_rate")[1]
    calls["drill-down page 2"] = lambda: metrics.conversations(
        f, metric="handoff_rate", cursor=cursor
    )
    calls["topics report"] = lambda: topics.report(f, now)
    return calls


def timed(call: Callable[[], Any], repeats: int, budget_s: float) -> dict[str, Any]:
    """p50/p95 of up to `repeats` calls after one warm-up call (whose result is kept); a
    slow query stops repeating after `budget_s` seconds, once it has `MIN_RUNS` runs."""
    result = call()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < repeats and (len(times) < MIN_RUNS or time.perf_counter() < deadline):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {**p50_p95_ms(times), "runs": len(times), "result": result}


def seconds(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def roll_up(
    facts: FactStore, daily: DailyFactStore, quality: QualityStore, inbox: InboxStore, now: datetime
) -> dict[str, dict[str, Any]]:
    """What the API and the job run (`bot.jobs.analytics.roll_up`), in its order, each step
    timed, and the whole."""
    steps: dict[str, dict[str, Any]] = {}
    for name, call, unit in (
        ("facts", lambda: facts.refresh(now), "conversations"),
        ("daily", daily.refresh, "days"),
        ("detect", lambda: quality.detect(now), "rows"),
        ("collect", lambda: inbox.collect(now), "rows"),
    ):
        took, count = seconds(call)
        steps[name] = {"s": took, unit: count}
    total = sum(step["s"] for step in steps.values())
    steps["total"] = {"s": total, "conversations": steps["facts"]["conversations"]}
    return steps


def run_database(kind: str, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """Load, roll up and time everything on one database; dropped afterwards unless --keep."""
    url = create_database(kind, args.sqlite, args.postgres)
    try:
        load_s, _ = seconds(lambda: load(kind, url, data))
        engine = create_crm_engine(url)
        try:
            return {"load_s": load_s, **measure(engine, data, args)}
        finally:
            engine.dispose()
    finally:
        if not args.keep:
            drop_database(kind, url)


def measure(engine: Engine, data: Dataset, args: argparse.Namespace) -> dict[str, Any]:
    """The rollup and jobs once each (seconds), then every query of every filter (ms)."""
    facts, daily = FactStore(engine), DailyFactStore(engine)
    quality, inbox = QualityStore(engine), InboxStore(engine)
    jobs: dict[str, dict[str, Any]] = {}
    for name, call in (
        ("rollup, first full build", lambda: facts.refresh(data.now)),
        ("rollup, nothing changed", lambda: facts.refresh(data.now + timedelta(seconds=10))),
    ):
        took, rows = seconds(call)
        jobs[name] = {"s": took, "conversations": rows}
    took, days = seconds(daily.refresh)
    jobs["daily rollup, first full build"] = {"s": took, "days": days}
    for name, call in (
        ("quality flags (detect)", lambda: quality.detect(data.now)),
        ("NLU inbox (collect)", lambda: inbox.collect(data.now)),
    ):
        took, rows = seconds(call)
        jobs[name] = {"s": took, "rows": rows}
    now = datetime.now(timezone.utc)
    jobs["full roll-up (facts, daily, detect, collect), nothing new"] = roll_up(
        facts, daily, quality, inbox, now
    )["total"]
    written = new_messages(engine, data, args.new_messages, now)
    steps = roll_up(facts, daily, quality, inbox, now + timedelta(seconds=1))
    jobs[f"rollup, after {written:,} new messages"] = steps["facts"]
    jobs[f"daily rollup, after {written:,} new messages"] = steps["daily"]
    jobs[f"full roll-up (facts, daily, detect, collect), after {written:,} new messages"] = steps[
        "total"
    ]
    with engine.connect() as connection:
        message_count = connection.scalar(select(func.count()).select_from(Message))
    TopicStore(engine).replace(TOPICS_RUN, *topic_rows(data))
    gather_statistics(engine)
    today = now.date()
    results: dict[str, dict[str, Any]] = {}
    agreement: dict[str, dict[str, Any]] = {}
    for label, f in filters(today).items():
        calls = queries(engine, now, f)
        rows = {}
        for name, call in tqdm(calls.items(), desc=label, unit="query"):
            rows[name] = timed(call, args.repeats, args.budget)
        rows[BASELINE] = timed(
            lambda f=f: naive_summary(engine, f), args.baseline_repeats, args.budget
        )
        agreement[label] = agree(rows["summary"]["result"], rows[BASELINE]["result"])
        for row in rows.values():
            row.pop("result", None)
        results[label] = rows
    unfiltered = {
        "quality flags list (open)": lambda: QualityStore(engine).list(FlagStatus.OPEN),
        "NLU inbox groups (open)": lambda: InboxStore(engine).groups(InboxStatus.OPEN),
    }
    results["no filter"] = {}
    for name, call in unfiltered.items():
        row = timed(call, args.repeats, args.budget)
        row.pop("result")
        results["no filter"][name] = row
    return {
        "messages": message_count,
        "repeats": args.repeats,
        "baseline_repeats": args.baseline_repeats,
        "budget_s": args.budget,
        "jobs": jobs,
        "queries": results,
        "agreement": agreement,
    }


def describe(data: Dataset, days: int) -> dict[str, Any]:
    """What was generated, for the report's data line."""
    tables = data.tables
    senders = tables["messages"]["sender"].value_counts()
    return {
        "days": days,
        "conversations": len(tables["conversations"]),
        "channels": tables["conversations"]["channel"].nunique(),
        "messages": len(tables["messages"]),
        "customer_messages": int(senders.get("customer", 0)),
        "bot_messages": int(senders.get("bot", 0)),
        "agent_messages": int(senders.get("agent", 0)),
        "tickets": len(tables["tickets"]),
        "bot_feedback": len(tables["bot_feedback"]),
        "customers": len(tables["customers"]),
        "segments": len(tables["segments"]),
        "assignments": len(tables["segment_assignments"]),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=float, default=10.0)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--baseline-repeats", type=int, default=5)
    parser.add_argument(
        "--budget", type=float, default=10.0, help="seconds per query before it stops repeating"
    )
    parser.add_argument("--new-messages", type=int, default=1000)
    parser.add_argument("--sqlite", type=Path, default=Path("var/bench/analytics.sqlite3"))
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", POSTGRES),
        help="server for the throwaway database (connects to its `test` database to create it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--md", type=Path, default=Path("docs/bench/analytics.md"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/analytics.json"))
    args = parser.parse_args(argv)
    command = " ".join(
        [".venv/bin/python -m bench.analytics", *(sys.argv[1:] if argv is None else argv)]
    )
    load_start = os.getloadavg()[0]
    generate_s, data = seconds(
        lambda: generate(args.conversations, args.messages_per_conversation, args.seed, args.days)
    )
    kinds = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    databases = {kind: run_database(kind, data, args) for kind in kinds}
    result = {
        "command": command,
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"shared (load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)",
        "seed": args.seed,
        "generate_s": generate_s,
        "data": describe(data, args.days),
        "databases": databases,
    }
    write_outputs(result, args.json, markdown(result, command), args.md)
    for line in slow(result):
        print(f"!!! OVER 300 ms: {line}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
