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
"""

from __future__ import annotations

import argparse
import csv
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

from nlp.similar import SimilarTicketIndex, Ticket

TARGETS = {"p_at_5": 0.85, "mrr_at_10": 0.90, "p95_ms_at_scale": 50.0, "build_s_at_scale": 300.0}
K = 10


def read_split(data: Path, split: str) -> tuple[list[str], list[str]]:
    with open(data / f"{split}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r.get("category") or r["intent"] for r in rows]


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
    return ranked, {
        "p50_ms": float(np.percentile(wall, 50)),
        "p95_ms": float(np.percentile(wall, 95)),
        "cpu_p95_ms": float(np.percentile(cpu, 95)),
    }


def top_k(scores: np.ndarray, k: int = K) -> np.ndarray:
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]


class OurIndex:
    """`SimilarTicketIndex`; with `use_labels=False` the tickets carry no category (BM25 only)."""

    def __init__(self, use_labels: bool = True) -> None:
        self.use_labels = use_labels

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        self.labels = labels
        self.index = SimilarTicketIndex(verbose=progress).fit(
            Ticket(str(i), text, f"resolved: {label}", label if self.use_labels else None)
            for i, (text, label) in enumerate(zip(texts, labels, strict=True))
        )

    def search(self, query: str) -> list[str]:
        return [self.labels[int(m.ticket_id)] for m in self.index.query(query, K)]


class TfidfCosine:
    """The plain baseline: scikit-learn TF-IDF on word 1-2-grams, cosine, exhaustive."""

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.labels = labels
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), dtype=np.float32)
        self.matrix = self.vectorizer.fit_transform(texts)

    def search(self, query: str) -> list[str]:
        scores = (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()
        return [self.labels[i] for i in top_k(scores)]


class Bm25s:
    """BM25 from the `bm25s` package (its defaults: Lucene variant, English stop words)."""

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        import bm25s

        self.bm25s = bm25s
        self.labels = labels
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), show_progress=progress)
        self.retriever.index(tokens, show_progress=progress)

    def search(self, query: str) -> list[str]:
        tokens = self.bm25s.tokenize([query], show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = self.retriever.retrieve(tokens, k=K, show_progress=False)
        return [self.labels[i] for i in docs[0]]


SYSTEMS: dict[str, Callable[[], OurIndex | TfidfCosine | Bm25s]] = {
    "similar_index": OurIndex,
    "similar_index_without_labels": lambda: OurIndex(use_labels=False),
    "tfidf_cosine": TfidfCosine,
    "bm25s": Bm25s,
}


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
    train_texts, train_labels = read_split(args.data, "train")
    test_texts, test_labels = read_split(args.data, "test")
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
    train_texts, train_labels = read_split(args.data, "train")
    test_texts, test_labels = read_split(args.data, "test")
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
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu = models[0] if models else platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }


def verdict(value: float, target: float, higher_is_better: bool, unit: str = "") -> str:
    met = value >= target if higher_is_better else value <= target
    figures = f"{value:.3g}{unit} against {target:g}{unit}"
    if met:
        return f"met ({figures})"
    gap = target - value if higher_is_better else value - target
    return f"**missed** by {gap:.3g}{unit} ({figures})"


NAMES = {
    "similar_index": "`SimilarTicketIndex` (BM25 on lemmas + category agreement)",
    "similar_index_without_labels": "`SimilarTicketIndex`, tickets without categories (BM25)",
    "tfidf_cosine": "baseline: TF-IDF word 1-2-grams, cosine",
    "bm25s": "baseline: BM25 (`bm25s`, defaults)",
}


def markdown(result: dict, command: str) -> str:
    q, s, m = result["quality"], result["scale"], result["machine"]
    ours, tfidf, bm25 = q["similar_index"], q["tfidf_cosine"], q["bm25s"]
    big = s.get("similar_index", {})
    lines = [
        "## Similar tickets",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, Python "
        f"{m['python']}, shared with other people's benchmarks (load average "
        f"{m['load_average'][0]:.1f} at the start, {result['load_average_end'][0]:.1f} at the "
        f"end). Figures are medians of {result['repeats']} repeats; baselines run in the same "
        "run. Wall-clock latency depends on that load, so the p95 CPU time of the querying "
        "process is given too.",
        "",
        f"### Quality: BANKING77, {result['train_size']:,} training utterances as past tickets "
        f"(their intents as categories), {result['test_size']:,} test utterances as queries, "
        "relevant = same intent",
        "",
        "| system | P@1 | P@5 | MRR@10 | build (s) | query p50 (ms) | p95 (ms) | p95 CPU (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in NAMES.items():
        r = q[key]
        lines.append(
            f"| {label} | {r['p_at_1']:.3f} | {r['p_at_5']:.3f} | {r['mrr_at_10']:.3f} | "
            f"{r['build_s']:.1f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
            f"{r['cpu_p95_ms']:.2f} |"
        )
    lines += [
        "",
        f"P@5 is {ours['p_at_5'] / tfidf['p_at_5']:.2f}x the TF-IDF baseline's and "
        f"{ours['p_at_5'] / bm25['p_at_5']:.2f}x BM25's; MRR@10 is "
        f"{ours['mrr_at_10'] - tfidf['mrr_at_10']:+.3f} and "
        f"{ours['mrr_at_10'] - bm25['mrr_at_10']:+.3f} against them. Without categories the "
        "index is BM25 on lemmas, on a par with `bm25s`; the category agreement is what lifts "
        "it (the classifier is trained on the indexed training tickets only).",
    ]
    if s:
        lines += [
            "",
            f"### Scale: {result['scale_tickets']:,} tickets, one query at a time, k = 10",
            "",
            "Tickets are the training utterances once as they are, then repeated with random "
            "word drops (10%), an adjacent swap (half of them) and a reference number (a "
            "fifth of them); queries are a fixed sample of test utterances. Each build runs in "
            "a fresh process: peak memory is that process's `ru_maxrss` "
            "(`resource.getrusage`), which includes the interpreter, the libraries and the "
            'generated ticket texts; "RSS before" is its resident size just before the build.',
            "",
            "| system | build (s) | build CPU (s) | queries | query p50 (ms) | p95 (ms) | "
            "p95 CPU (ms) | peak RSS (MB) | RSS before (MB) | P@5 | MRR@10 |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for key, r in s.items():
            lines.append(
                f"| {NAMES[key]} | {r['build_s']:.1f} | {r['build_cpu_s']:.1f} | "
                f"{r['queries']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | "
                f"{r['cpu_p95_ms']:.2f} | {r['peak_rss_mb']:,.0f} | "
                f"{r['rss_before_build_mb']:,.0f} | {r['p_at_5']:.3f} | {r['mrr_at_10']:.3f} |"
            )
    if big:
        lines += [
            "",
            f"At this scale the index takes {big['disk_mb']:,.0f} MB on disk, saves in "
            f"{big['save_s']:.1f} s, loads in {big['load_s']:.1f} s and adds one ticket in "
            f"{big['add_one_p50_ms']:.1f} ms (median of 20).",
        ]
        for key in ("tfidf_cosine", "bm25s"):
            if key in s:
                lines.append(
                    f"Query p95: {NAMES[key].split(': ')[1]} "
                    f"{s[key]['p95_ms'] / big['p95_ms']:.1f}x ours."
                )
    lines += ["", "### Targets (issue 3)", ""]
    lines.append(f"- P@5 >= 0.85: {verdict(ours['p_at_5'], TARGETS['p_at_5'], True)}")
    lines.append(f"- MRR@10 >= 0.90: {verdict(ours['mrr_at_10'], TARGETS['mrr_at_10'], True)}")
    if big:
        n = f"{result['scale_tickets']:,}"
        lines += [
            f"- query p95 <= 50 ms with {n} tickets: "
            f"{verdict(big['p95_ms'], TARGETS['p95_ms_at_scale'], False, ' ms')} wall clock; "
            f"p95 CPU time {big['cpu_p95_ms']:.1f} ms",
            f"- build of {n} tickets <= 5 minutes: "
            f"{verdict(big['build_s'], 5 * 60, False, ' s')} wall clock; "
            f"CPU time {big['build_cpu_s']:.0f} s",
            f"- peak memory: {big['peak_rss_mb']:,.0f} MB peak RSS of the building process "
            "(reported; no target)",
        ]
    return "\n".join(lines) + "\n"


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
        "train_size": len(read_split(args.data, "train")[0]),
        "test_size": len(read_split(args.data, "test")[0]),
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
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    args.md.parent.mkdir(parents=True, exist_ok=True)
    report = markdown(result, command)
    args.md.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
