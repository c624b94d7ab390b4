"""The similar-ticket benchmark's report section (docs/bench/similar.md)."""

from __future__ import annotations

TARGETS = {"p_at_5": 0.85, "mrr_at_10": 0.90, "p95_ms_at_scale": 50.0, "build_s_at_scale": 300.0}
NAMES = {
    "similar_index": "`SimilarTicketIndex` (BM25 on lemmas + category agreement)",
    "similar_index_tfidf_categories": "`SimilarTicketIndex` with the TF-IDF category "
    "classifier it had before the sentence encoders",
    "similar_index_without_labels": "`SimilarTicketIndex`, tickets without categories (BM25)",
    "tfidf_cosine": "baseline: TF-IDF word 1-2-grams, cosine",
    "bm25s": "baseline: BM25 (`bm25s`, defaults)",
}


def verdict(value: float, target: float, higher_is_better: bool, unit: str = "") -> str:
    met = value >= target if higher_is_better else value <= target
    figures = f"{value:.3g}{unit} against {target:g}{unit}"
    if met:
        return f"met ({figures})"
    gap = target - value if higher_is_better else value - target
    return f"**missed** by {gap:.3g}{unit} ({figures})"


def markdown(result: dict, command: str) -> str:
    q, s, m = result["quality"], result["scale"], result["machine"]
    ours, tfidf, bm25 = q["similar_index"], q["tfidf_cosine"], q["bm25s"]
    before = q["similar_index_tfidf_categories"]
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
        "it (the classifier is trained on the indexed training tickets only). The category "
        "classifier is the intent classifier's (two sentence encoders beside TF-IDF); with the "
        f"TF-IDF one it had before, P@5 is {before['p_at_5']:.3f} and MRR@10 "
        f"{before['mrr_at_10']:.3f} in this run, and a build takes "
        f"{before['build_s']:.1f} s against {ours['build_s']:.1f} s.",
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
