"""Segmentation at scale: 1M synthetic customers with 10M transactions in a SQLite CRM, read in
chunks through `ActivityStore.features` and clustered by the segmentation job's code.

The database is generated once (migrated schema, bulk inserts, progress bar) under var/bench/
and reused. Each timed run is a fresh process, so its peak RSS (`ru_maxrss`) is that of the
read+fit alone: the interpreter, the libraries, the feature frame and the clustering.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import ROOT, cpu_model, write_outputs

AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
BULK_TABLES = ("transactions", "contacts", "product_holdings", "tickets", "messages")
ARCHETYPES = ("new", "loyal_high_value", "high_value_at_risk", "everyday", "dormant")
SHARE = np.array([0.10, 0.15, 0.10, 0.45, 0.20])
TENURE = np.array([[10, 60], [1500, 4000], [1000, 3000], [300, 2000], [800, 3000]])
ACTIVITY = np.array([8.0, 25.0, 10.0, 12.0, 1.5])
"""Relative transaction counts per archetype (scaled to the requested total)."""
TX_DAYS_AGO = np.array([[0, 60], [0, 730], [90, 730], [0, 730], [200, 730]])
SPEND_POUNDS = np.array([30.0, 150.0, 200.0, 25.0, 20.0])
CONTACTS = np.array([3.0, 2.0, 8.0, 2.0, 0.3])
CHANNEL_MIX = np.array(
    [
        [0.8, 0.05, 0.15, 0.0],
        [0.2, 0.5, 0.1, 0.2],
        [0.1, 0.7, 0.2, 0.0],
        [0.6, 0.2, 0.2, 0.0],
        [0.3, 0.3, 0.3, 0.1],
    ]
)
CHANNELS = ("chat", "phone", "email", "branch")
CSAT = np.array([4.2, 4.6, 1.8, 3.9, 3.5])
HANDOFFS = np.array([0.2, 0.1, 3.0, 0.2, 0.05])
PRODUCTS = np.array([[1, 2], [4, 6], [3, 5], [2, 3], [1, 2]])
PRODUCT_NAMES = (
    "current_account",
    "savings",
    "credit_card",
    "overdraft",
    "personal_loan",
    "mortgage",
    "home_insurance",
    "travel_insurance",
    "travel_money",
    "investments",
)
SENTIMENT = np.array([0.3, 0.5, -0.6, 0.1, 0.0])
CHUNK = 1_000_000


def sqlite_times(days_ago: np.ndarray) -> list[str]:
    """Times `days_ago` before AS_OF as SQLAlchemy stores them in SQLite (naive UTC)."""
    base = np.datetime64(AS_OF.replace(tzinfo=None), "us")
    stamps = base - (days_ago * 86_400e6).astype("timedelta64[us]")
    text = np.datetime_as_string(stamps, unit="us").astype("S26")
    text.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
    return text.astype(str).tolist()


def generate(path: Path, customers: int, transactions: int, seed: int = 0) -> None:
    """A migrated SQLite CRM with archetype-driven history, bulk-inserted with indexes off."""
    from bot.crm.database import migrate

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    migrate(f"sqlite:///{path}")
    rng = np.random.default_rng(seed)
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-400000;")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name "
        f"IN ({','.join('?' * len(BULK_TABLES))})",
        BULK_TABLES,
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    kind = rng.choice(len(ARCHETYPES), size=customers, p=SHARE)
    tenure = rng.uniform(TENURE[kind, 0], TENURE[kind, 1])
    left = (kind == 2) & (rng.random(customers) < 0.2)
    ids = np.arange(1, customers + 1)
    bar = tqdm(total=customers * 2 + transactions, desc="generating", unit="row", unit_scale=True)
    left_at = np.where(left, rng.uniform(1, 60, customers), np.nan)
    joined = sqlite_times(tenure)
    left_text = [
        None if np.isnan(d) else t
        for d, t in zip(left_at, sqlite_times(np.nan_to_num(left_at)), strict=True)
    ]
    db.executemany(
        "INSERT INTO customers (id, name, created_at, left_at) VALUES (?, ?, ?, ?)",
        zip(ids.tolist(), (f"Customer {i}" for i in ids.tolist()), joined, left_text, strict=True),
    )
    db.executemany(
        "INSERT INTO accounts (id, customer_id, iban, currency, balance_cents, status, opened_at) "
        "VALUES (?, ?, ?, 'GBP', 0, 'open', ?)",
        zip(ids.tolist(), ids.tolist(), (f"GB{i:020d}" for i in ids.tolist()), joined, strict=True),
    )
    bar.update(customers * 2)
    weights = ACTIVITY[kind] * rng.lognormal(0, 0.3, customers)
    counts = rng.multinomial(transactions, weights / weights.sum())
    owner = np.repeat(np.arange(customers), counts)
    for start in range(0, transactions, CHUNK):
        who = owner[start : start + CHUNK]
        a = kind[who]
        days = np.minimum(rng.uniform(TX_DAYS_AGO[a, 0], TX_DAYS_AGO[a, 1]), tenure[who])
        cents = -(SPEND_POUNDS[a] * rng.lognormal(0, 0.8, len(who)) * 100).astype(np.int64)
        db.executemany(
            "INSERT INTO transactions (account_id, kind, status, amount_cents, currency, "
            "counterparty, created_at) "
            "VALUES (?, 'card_payment', 'completed', ?, 'GBP', 'Shop', ?)",
            zip((who + 1).tolist(), cents.tolist(), sqlite_times(days), strict=True),
        )
        bar.update(len(who))
    _contacts(db, rng, kind, tenure, bar)
    _holdings(db, rng, kind, tenure)
    _tickets_and_messages(db, rng, kind, tenure)
    bar.close()
    for _, sql in tqdm(indexes, desc="indexing", unit="index"):
        db.execute(sql)
    db.commit()
    db.close()


def _contacts(db: sqlite3.Connection, rng, kind, tenure, bar) -> None:
    counts = rng.poisson(CONTACTS[kind])
    who = np.repeat(np.arange(len(kind)), counts)
    a = kind[who]
    channel = (rng.random(len(who))[:, None] > np.cumsum(CHANNEL_MIX[a], axis=1)).sum(axis=1)
    days = np.minimum(rng.uniform(0, 500, len(who)), tenure[who])
    rated = rng.random(len(who)) < 0.3
    csat = np.clip(np.rint(CSAT[a] + rng.normal(0, 0.7, len(who))), 1, 5).astype(int)
    db.executemany(
        "INSERT INTO contacts (customer_id, channel, at, csat) VALUES (?, ?, ?, ?)",
        zip(
            (who + 1).tolist(),
            (CHANNELS[min(c, 3)] for c in channel.tolist()),
            sqlite_times(days),
            (int(c) if r else None for c, r in zip(csat.tolist(), rated.tolist(), strict=True)),
            strict=True,
        ),
    )
    bar.set_postfix(contacts=len(who))


def _holdings(db: sqlite3.Connection, rng, kind, tenure) -> None:
    counts = rng.integers(PRODUCTS[kind, 0], PRODUCTS[kind, 1] + 1)
    who = np.repeat(np.arange(len(kind)), counts)
    product = rng.integers(0, len(PRODUCT_NAMES), len(who))
    db.executemany(
        "INSERT INTO product_holdings (customer_id, product, opened_at) VALUES (?, ?, ?)",
        zip(
            (who + 1).tolist(),
            (PRODUCT_NAMES[p] for p in product.tolist()),
            sqlite_times(tenure[who] * rng.random(len(who))),
            strict=True,
        ),
    )


def _tickets_and_messages(db: sqlite3.Connection, rng, kind, tenure) -> None:
    counts = rng.poisson(HANDOFFS[kind])
    who = np.repeat(np.arange(len(kind)), counts)
    a = kind[who]
    days = np.minimum(rng.uniform(0, 365, len(who)), tenure[who])
    times = sqlite_times(days)
    csat = np.clip(np.rint(CSAT[a] + rng.normal(0, 0.7, len(who))), 1, 5).astype(int).tolist()
    conversations = [f"bench-{i}" for i in range(len(who))]
    db.executemany(
        "INSERT INTO conversations (id, customer_id, channel, status, started_at, last_message_at) "
        "VALUES (?, ?, 'socketio', 'closed', ?, ?)",
        zip(conversations, (who + 1).tolist(), times, times, strict=True),
    )
    db.executemany(
        "INSERT INTO tickets (conversation_id, customer_id, kind, status, priority, subject, text, "
        "created_at, csat) VALUES (?, ?, 'handoff', 'resolved', 3, 'Help', 'Help', ?, ?)",
        zip(conversations, (who + 1).tolist(), times, csat, strict=True),
    )
    sentiment = np.clip(SENTIMENT[a] + rng.normal(0, 0.3, len(who)), -1, 1).tolist()
    db.executemany(
        "INSERT INTO messages (conversation_id, event_key, seq, sender, text, sentiment, "
        "created_at) VALUES (?, ?, 0, 'customer', 'Help', ?, ?)",
        zip(conversations, conversations, sentiment, times, strict=True),
    )


def timed_run(path: Path) -> dict:
    """The segmentation job's read+fit path, as the job runs it (this process only)."""
    from bot.crm.database import create_crm_engine
    from bot.crm.store.activity import ActivityStore
    from bot.jobs.segmentation import fit_segments, read_features

    engine = create_crm_engine(f"sqlite:///{path}")
    activity = ActivityStore(engine)
    started = time.perf_counter()
    cpu_started = time.process_time()
    frame = read_features(activity, AS_OF)
    read_s = time.perf_counter() - started
    read_cpu_s = time.process_time() - cpu_started
    result = fit_segments(frame, "kmeans", previous={})
    wall_s = time.perf_counter() - started
    return {
        "wall_s": round(wall_s, 2),
        "read_s": round(read_s, 2),
        "fit_s": round(wall_s - read_s, 2),
        "cpu_s": round(time.process_time() - cpu_started, 2),
        "read_cpu_s": round(read_cpu_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "customers": len(frame),
        "k": result.segmenter.k_,
        "silhouette": {str(k): round(v, 4) for k, v in result.segmenter.silhouette_.items()},
        "segments": {s.name: s.size for s in result.summaries},
    }


def markdown(result: dict, command: str) -> str:
    runs = result["runs"]
    med = {
        k: statistics.median(r[k] for r in runs)
        for k in ("wall_s", "read_s", "fit_s", "cpu_s", "read_cpu_s", "peak_rss_mb")
    }
    first = runs[0]
    generated = (
        f"generated in {result['generate_s']:.0f} s (once; later runs reuse the file, "
        "`--regenerate` rebuilds it)"
        if result["generate_s"]
        else "generated by an earlier run (`--regenerate` rebuilds it)"
    )
    lines = [
        "## Segmentation at scale",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {result['machine']}. Database: SQLite file `{result['db']}` "
        f"({result['db_gb']:.1f} GB) with {result['customers']:,} customers and "
        f"{result['transactions']:,} transactions, plus {result['contacts']:,} contacts, "
        f"{result['holdings']:,} product holdings, {result['tickets']:,} handoff tickets "
        f"with their conversations and messages (five archetypes: new, loyal high value, high "
        f"value at risk, everyday, dormant), {generated}. Timed: "
        "the segmentation job's read+fit path (`bot.jobs.segmentation.read_features` through "
        "`ActivityStore.features`, chunks of 50,000 customers aggregated in SQL, then "
        "`fit_segments`: log scaling and standardisation, k = 4..8 searched with K-means on "
        "20,000 random customers and silhouette on 5,000, MiniBatchKMeans on every customer "
        "from the chosen centres, traits, names, descriptions), each run in a fresh process; "
        f"peak RSS is that process's `ru_maxrss`. Median of {len(runs)} runs.",
        "",
        "| customers segmented | wall (s) | read (s) | fit (s) | CPU (s) | read CPU (s) "
        "| peak RSS (MB) | k |",
        "|---|---|---|---|---|---|---|---|",
        f"| {first['customers']:,} | {med['wall_s']:.1f} | {med['read_s']:.1f} "
        f"| {med['fit_s']:.1f} | {med['cpu_s']:.1f} | {med['read_cpu_s']:.1f} "
        f"| {med['peak_rss_mb']:,.0f} | {first['k']} |",
        "",
        "Runs (wall s): "
        + ", ".join(f"{r['wall_s']:.1f}" for r in runs)
        + "; silhouette per k (first run): "
        + ", ".join(f"k={k}: {v:.3f}" for k, v in first["silhouette"].items())
        + ".",
        "",
        "Segments found (first run): "
        + "; ".join(f"{name} {size:,}" for name, size in first["segments"].items())
        + ".",
        "",
        "Where the time goes (cProfile of the same path on a 100,000-customer file): reading "
        "is almost all SQLite executing the per-chunk GROUP BYs (`sqlite3.Cursor.fetchall`); "
        "building SQLAlchemy row objects and pandas objects from them cost as much again in a "
        "first version, so the store "
        "computes day counts in SQL and reads the driver's rows into float arrays. Fitting is "
        "mostly the K-means runs of the k search (5 k x 10 inits, a fixed cost thanks to the "
        "sample) and the sampled silhouettes; the MiniBatchKMeans pass over every customer and "
        "the per-segment means take a few seconds. "
        + (
            "Wall time above CPU time is the wait for one of the two cores the machine's "
            "other jobs share."
            if med["wall_s"] > med["cpu_s"]
            else "CPU time above wall time is K-means and BLAS using both cores."
        ),
        "",
        "### Targets (issue 10)",
        "",
        f"- wall time <= 60 s: {'met' if med['wall_s'] <= 60 else 'NOT met'} "
        f"({med['wall_s']:.1f} s)",
        f"- peak memory <= 2 GB: {'met' if med['peak_rss_mb'] <= 2048 else 'NOT met'} "
        f"({med['peak_rss_mb']:,.0f} MB)",
    ]
    return "\n".join(lines) + "\n"


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=Path("var/bench/segment_scale.sqlite3"))
    parser.add_argument("--regenerate", action="store_true", help="rebuild the database")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--md", type=Path, default=Path("docs/bench/segment_scale.md"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/segment_scale.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(timed_run(args.db)))
        return
    generated = args.db.with_suffix(".generated.json")
    if args.regenerate or not args.db.exists():
        started = time.perf_counter()
        generate(args.db, args.customers, args.transactions)
        generated.write_text(json.dumps({"generate_s": time.perf_counter() - started}))
    generate_s = json.loads(generated.read_text())["generate_s"] if generated.exists() else 0.0
    worker = [sys.executable, "-m", "bench.segment_scale", "--worker", "--db", str(args.db)]
    runs = []
    for _ in tqdm(range(args.repeats), desc="timed read+fit", unit="run"):
        output = subprocess.run(worker, cwd=ROOT, check=True, capture_output=True, text=True)
        runs.append(json.loads(output.stdout.strip().splitlines()[-1]))
    result = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end",
        "db": str(args.db),
        "db_gb": args.db.stat().st_size / 2**30,
        "customers": count(args.db, "customers"),
        "transactions": count(args.db, "transactions"),
        "contacts": count(args.db, "contacts"),
        "holdings": count(args.db, "product_holdings"),
        "tickets": count(args.db, "tickets"),
        "generate_s": generate_s,
        "runs": runs,
    }
    command = ".venv/bin/python -m bench.segment_scale " + " ".join(sys.argv[1:])
    write_outputs(result, args.json, markdown(result, command.strip()), args.md)


if __name__ == "__main__":
    main()
