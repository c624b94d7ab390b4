"""Similar-ticket benchmark: retrieval quality on BANKING77, then latency and build at scale.

    .venv/bin/python -m bench.similar --data ../shared/datasets/banking77 --repeats 3 \\
        --scale 1000000

Quality: the training utterances are the past tickets (their intents as categories), the test
utterances the queries; a result is relevant when it has the query's intent. The index is
compared in the same run with a TF-IDF cosine baseline (word 1-2-grams) and BM25 (`bm25s`).

Scale: each repeat builds, in a fresh process (so its peak RSS is the build's own), an index of
`--scale` tickets made by repeating the training utterances with random word drops, adjacent
swaps and appended reference numbers, then times `--queries` test queries one at a time. The
baselines are built and queried at the same scale in their own processes.

The systems are in `bench.similar_systems`, the report in `bench.similar_report`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import cpu_model, p50_p95_ms, read_banking77, write_outputs
from bench.similar_report import markdown
from bench.similar_systems import SYSTEMS, K, OurIndex
from nlp.similar import SimilarTicketIndex, Ticket


def retrieval_scores(ranked: Sequence[Sequence[str]], truth: Sequence[str]) -> dict[str, float]:
    """P@1, P@5 and MRR@10 of ranked label lists (one list per query)."""
    p1 = p5 = mrr = 0.0
    for labels, want in zip(ranked, truth, strict=True):
        hits = [label == want for label in labels[:K]]
        p1 += hits[0] if hits else 0.0
        p5 += sum(hits[:5]) / 5
        mrr += next((1.0 / (i + 1) for i, hit in enumerate(hits) if hit), 0.0)
    n = len(truth)
    return {"p_at_1": p1 / n, "p_at_5": p5 / n, "mrr_at_10": mrr / n}


def timed_queries(
    search: Callable[[str], list[str]], queries: Sequence[str], desc: str
) -> tuple[list[list[str]], dict[str, float]]:
    """Run queries one at a time; the ranked labels, p50/p95 wall-clock latency and p95 CPU
    time of this process, in milliseconds (CPU time shows the cost without other people's load).
    """
    for query in queries[:10]:
        search(query)
    ranked, wall, cpu = [], [], []
    for query in tqdm(queries, desc=desc, leave=False, mininterval=2):
        start, start_cpu = time.perf_counter(), time.process_time()
        ranked.append(search(query))
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return ranked, {**p50_p95_ms(wall), "cpu_p95_ms": float(np.percentile(cpu, 95))}


def perturbed(texts: Sequence[str], labels: Sequence[str], n: int, seed: int) -> Iterator[Ticket]:
    """`n` tickets: the training utterances once as they are, then perturbed copies."""
    rng = random.Random(seed)
    for i in range(n):
        source = i % len(texts)
        words = texts[source].split()
        if i >= len(texts):
            words = [w for w in words if rng.random() > 0.1] or words
            if len(words) > 1 and rng.random() < 0.5:
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
            if rng.random() < 0.2:
                words.append(f"ref {rng.randrange(10**6, 10**7)}")
        yield Ticket(f"t{i}", " ".join(words), f"resolved: {labels[source]}", labels[source])


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_worker(args: argparse.Namespace) -> dict:
    """One build at scale in this process; prints its figures as JSON."""
    train_texts, train_labels = read_banking77(args.data, "train")
    test_texts, test_labels = read_banking77(args.data, "test")
    n_queries = args.queries if args.worker.startswith("similar_index") else args.baseline_queries
    sample = random.Random(0).sample(range(len(test_texts)), min(n_queries, len(test_texts)))
    queries = [test_texts[i] for i in sample]
    tickets = list(
        tqdm(
            perturbed(train_texts, train_labels, args.scale, args.seed),
            total=args.scale,
            desc="generate tickets",
            mininterval=5,
        )
    )
    texts = [t.text for t in tickets]
    labels = [t.label for t in tickets]
    del tickets
    system = SYSTEMS[args.worker]()
    rss_before = rss_mb()
    start, start_cpu = time.perf_counter(), time.process_time()
    system.build(texts, labels, progress=True)
    build_s, build_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu
    rss_after = rss_mb()
    ranked, latency = timed_queries(system.search, queries, f"{args.worker} queries")
    result = {
        "system": args.worker,
        "tickets": args.scale,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "queries": len(queries),
        **latency,
        **retrieval_scores(ranked, [test_labels[i] for i in sample]),
        "rss_before_build_mb": rss_before,
        "rss_after_build_mb": rss_after,
        "peak_rss_mb": peak_rss_mb(),
    }
    if isinstance(system, OurIndex):
        result.update(persistence_figures(system.index))
    return result


def persistence_figures(index: SimilarTicketIndex) -> dict[str, float]:
    """Save/load time and size on disk, and the cost of adding one ticket at this scale."""
    folder = Path(tempfile.mkdtemp(prefix="similar-index-"))
    try:
        start = time.perf_counter()
        index.save(folder / "index")
        save_s = time.perf_counter() - start
        disk_mb = sum(f.stat().st_size for f in (folder / "index").iterdir()) / 2**20
        start = time.perf_counter()
        loaded = SimilarTicketIndex.load(folder / "index")
        load_s = time.perf_counter() - start
    finally:
        shutil.rmtree(folder)
    add_ms = []
    for i in range(20):
        ticket = Ticket(f"added-{i}", f"my new card number {i} is not working", "reissued", None)
        start = time.perf_counter()
        loaded.add([ticket])
        add_ms.append((time.perf_counter() - start) * 1000)
    return {
        "save_s": save_s,
        "load_s": load_s,
        "disk_mb": disk_mb,
        "add_one_p50_ms": float(np.percentile(add_ms, 50)),
    }


def run_worker(args: argparse.Namespace, system: str, seed: int) -> dict:
    command = [
        sys.executable, "-m", "bench.similar", "--worker", system, "--data", str(args.data),
        "--scale", str(args.scale), "--queries", str(args.queries),
        "--baseline-queries", str(args.baseline_queries), "--seed", str(seed),
    ]  # fmt: skip
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def quality_run(args: argparse.Namespace) -> dict[str, dict]:
    """Each system built on train.csv and queried with every test.csv utterance, repeated."""
    train_texts, train_labels = read_banking77(args.data, "train")
    test_texts, test_labels = read_banking77(args.data, "test")
    runs: dict[str, list[dict]] = {name: [] for name in SYSTEMS}
    for repeat in tqdm(range(args.repeats), desc="quality repeats"):
        for name, make in SYSTEMS.items():
            system = make()
            start = time.perf_counter()
            system.build(train_texts, train_labels)
            build_s = time.perf_counter() - start
            ranked, latency = timed_queries(system.search, test_texts, f"{name} #{repeat + 1}")
            runs[name].append(
                {"build_s": build_s, **latency, **retrieval_scores(ranked, test_labels)}
            )
    return {name: median_of(rows) for name, rows in runs.items()}


def median_of(rows: list[dict]) -> dict:
    """Medians of numeric fields over repeats (plus the raw repeats)."""
    numeric = [k for k, v in rows[0].items() if isinstance(v, int | float)]
    return {**{k: statistics.median(r[k] for r in rows) for k in numeric}, "repeats": rows}


def machine_note() -> dict:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets/banking77"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1_000_000, help="0 skips the scale run")
    parser.add_argument("--queries", type=int, default=1000, help="test queries at scale")
    parser.add_argument(
        "--baseline-queries",
        type=int,
        default=200,
        help="test queries for the baselines at scale (the TF-IDF scan takes ~0.5 s each)",
    )
    parser.add_argument(
        "--scale-baselines",
        default="tfidf_cosine,bm25s",
        help="comma-separated baselines also built at scale (empty for none)",
    )
    parser.add_argument("--md", type=Path, default=Path("docs/bench/similar.md"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/similar.json"))
    parser.add_argument("--worker", choices=sorted(SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(scale_worker(args)))
        return
    command = ".venv/bin/python -m bench.similar " + " ".join(sys.argv[1:])
    result = {
        "machine": machine_note(),
        "repeats": args.repeats,
        "train_size": len(read_banking77(args.data, "train")[0]),
        "test_size": len(read_banking77(args.data, "test")[0]),
        "quality": quality_run(args),
        "scale_tickets": args.scale,
        "queries": args.queries,
        "scale": {},
    }
    if args.scale:
        systems = ["similar_index"] + [s for s in args.scale_baselines.split(",") if s]
        for system in systems:
            rows = [
                run_worker(args, system, seed)
                for seed in tqdm(range(args.repeats), desc=f"{system} at {args.scale:,}")
            ]
            result["scale"][system] = median_of(rows)
    result["load_average_end"] = os.getloadavg()
    write_outputs(result, args.json, markdown(result, command), args.md)


if __name__ == "__main__":
    main()
