"""The Markdown report of bench.turns, from its result dict (the same dict as the JSON file).

Apart from the runs so the tables can be checked by the tests with a made-up result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIGURES = (
    ("answered", "messages answered a run", "{:.0f}"),
    ("messages_per_s", "throughput (answered messages/s)", "{:.1f}"),
    ("p50_ms", "p50 latency (ms)", "{:.0f}"),
    ("p95_ms", "p95 latency (ms)", "{:.0f}"),
    ("p99_ms", "p99 latency (ms)", "{:.0f}"),
    ("errors", "errors a run (429, 5xx, timeouts, ...)", "{:.0f}"),
    ("memory_mb", "resident memory, all processes, peak (MB)", "{:.0f}"),
)


def num(value: Any, fmt: str = "{:.0f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def errors(kinds: Mapping[str, int]) -> str:
    return ", ".join(f"{kind}: {count}" for kind, count in kinds.items()) or "none"


def header(result: Mapping[str, Any]) -> list[str]:
    s = result["settings"]
    load = ", ".join(f"{x:.2f}" for x in result["load_average"])
    changed = result["changed"]
    code = [c for c in changed if not c.startswith(("bench/", "tests/", "docs/"))]
    shown = ", ".join(f"`{c}`" for c in code[:12]) + (", ..." if len(code) > 12 else "")
    tree = (
        f"commit `{result['commit'][:10]}` plus uncommitted changes to {len(code)} files "
        f"outside bench/, tests/ and docs/ ({shown or 'none'}) and {len(changed) - len(code)} "
        "inside them"
        if changed
        else f"commit `{result['commit'][:10]}`, no uncommitted changes"
    )
    lines = [
        "## Turns under load: the product against a stock Rasa project (`bench/turns.py`)",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Machine: {result['machine']}; load average {load} (1, 5, 15 min) at the start, "
        f"{result['started']} UTC. Rasa {result['rasa']} for both systems.",
        "",
        f"Product: the working tree, {tree}, started as `bench/product.py` does (its own var "
        f"dir, ports and SQLite CRM store, scheduled jobs off), {rasa_processes(s)}, "
        f"model `{result['model']}`. "
        f"Stock: `rasa init --no-prompt` (`{result['stock_model']}`), served by `rasa run` "
        "with its REST channel, in-memory tracker and lock stores, no action server"
        + (
            " (for the socket.io runs its credentials.yml plus Rasa's own `socketio` channel, "
            "the block `rasa init` leaves commented out)."
            if "socketio" in result["summary"]
            else "."
        ),
        "",
        f"Load: {s['customers']} customers at once, each from its own loopback address "
        f"(127.0.0.2, ...), {s['turns']}-turn conversations, each message sent as soon as the "
        f"previous one was answered, for {s['duration']:.0f} s"
        + (f" or {s['max_messages']} messages" if s["max_messages"] else "")
        + f" a run; {s['timeout']:.0f} s timeout a request. {s['rounds']} round(s), alternating "
        "which system goes first; both servers stay up throughout, one is loaded at a time. "
        "Latency is per answered message; throughput is answered messages over the run's "
        "window (first send to last answer). A 429 would mean the product's per-address limit "
        "(10 messages/s) caught the bench; none is retried. The bench's client (asyncio, one "
        "process) runs on the same cores as the servers.",
    ]
    for note in result.get("notes", []):
        lines += ["", f"Note: {note}"]
    return lines


def summary_tables(result: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for channel, figures in result["summary"].items():
        lines += [
            "",
            f"### {channel}: medians over {len(result['rounds'])} round(s)",
            "",
            "| figure | product | stock | product / stock |",
            "|---|---|---|---|",
        ]
        for key, label, fmt in FIGURES:
            product, stock = figures["product"][key], figures["stock"][key]
            share = figures["ratio"].get(key)
            lines.append(
                f"| {label} | {num(product, fmt)} | {num(stock, fmt)} | {num(share, '{:.2f}')} |"
            )
    return lines


def round_table(result: Mapping[str, Any]) -> list[str]:
    lines = [
        "",
        "### Each round",
        "",
        "| round | system | channel | sent | answered | window (s) | msg/s | p50 / p95 / p99 (ms) "
        "| errors | memory peak (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(result["rounds"], 1):
        for system in r["order"]:
            for channel, f in r[system].items():
                lines.append(
                    f"| {number} | {system} | {channel} | {f['sent']} | {f['answered']} | "
                    f"{f['window_s']:.1f} | {num(f['messages_per_s'], '{:.1f}')} | "
                    f"{num(f['p50_ms'])} / {num(f['p95_ms'])} / {num(f['p99_ms'])} | "
                    f"{errors(f['errors_by_kind'])} | {num(f['memory_mb'])} |"
                )
    return lines


def memory_table(result: Mapping[str, Any]) -> list[str]:
    """Each process's peak resident memory (with its children) in each round's run."""
    lines = [
        "",
        "Resident memory (VmRSS of the process and its children, peak while loaded, MB), "
        "each run in the order of the table above (round 1's channels, then round 2's, ...):",
        "",
        "| system | process | pid | peak RSS by run |",
        "|---|---|---|---|",
    ]
    for system, pids in result["processes"].items():
        for name, pid in pids.items():
            peaks = [
                num(f["memory_peak_mb"].get(name))
                for r in result["rounds"]
                for f in r[system].values()
            ]
            lines.append(f"| {system} | {name} | {pid} | {' / '.join(peaks)} |")
    return lines


def long_table(result: Mapping[str, Any]) -> list[str]:
    long = result.get("long")
    if not long:
        return []
    turns = result["settings"]["long"]
    product, stock = long["product"], long["stock"]
    lines = [
        "",
        f"### One long conversation ({turns} turns, REST, one turn after the other)",
        "",
        "Paced to at most one message every 0.55 s (the product allows 2 a second per "
        "conversation); latency is measured per request, so the pacing does not enter it. "
        "Median latency of the turns in each position bucket:",
        "",
        "| turns | product (ms) | n | stock (ms) | n |",
        "|---|---|---|---|---|",
    ]
    for p, s in zip(product["buckets"], stock["buckets"], strict=True):
        lines.append(
            f"| {p['bucket']} | {num(p['median_ms'])} | {p['n']} | "
            f"{num(s['median_ms'])} | {s['n']} |"
        )
    lines += [
        f"| **last bucket / turn-5 bucket** | **{num(product['last_to_fifth'], '{:.2f}')}** | | "
        f"**{num(stock['last_to_fifth'], '{:.2f}')}** | |",
        "",
        f"Answered: product {product['answered']}/{turns} "
        f"(errors: {errors(product['errors_by_kind'])}), stock {stock['answered']}/{turns} "
        f"(errors: {errors(stock['errors_by_kind'])}).",
    ]
    return lines


def crm_and_logs(result: Mapping[str, Any]) -> list[str]:
    c, logs = result["crm"], result["logs"]
    return [
        "",
        "### The product's CRM store afterwards",
        "",
        "Every customer message the bench sent to the product (warm-up, all rounds, the long "
        "conversation and the profiled run), against the customer messages its CRM store "
        f"holds for those conversations (read from the store; waited {c['waited_s']} s for "
        "the outbox to deliver):",
        "",
        "| sent | answered (expected in the CRM) | stored | lost | duplicated | "
        "stored but not answered | conversations out of order |",
        "|---|---|---|---|---|---|---|",
        f"| {c['sent']} | {c['expected']} | {c['stored']} | {c['lost']} | {c['duplicated']} | "
        f"{c['unexpected']} | {c['out_of_order']} |",
        "",
        "Server logs (under `" + result["var_dir"] + "`):",
        "",
        *(f"- {system}: {log_line(logs[system])}" for system in ("product", "stock")),
    ]


def log_line(problems: Mapping[str, Any]) -> str:
    kinds = "; ".join(f"{n}× `{e}`" for e, n in problems.get("exceptions", {}).items())
    return f"{problems['tracebacks']} tracebacks, {problems['error_lines']} ERROR lines" + (
        f" ({kinds})" if kinds else ""
    )


def profile_table(result: Mapping[str, Any]) -> list[str]:
    profile = result.get("profile")
    if not profile:
        return []
    servers = [name for name in profile if name != "run"]
    run = profile["run"]
    lines = [
        "",
        "### Where the product's Rasa server spends a loaded run (`--py-spy`)",
        "",
        f"One more REST run of the product, sampled by py-spy ({run['answered']} answered, "
        f"{num(run['messages_per_s'], '{:.1f}')} msg/s, p95 {num(run['p95_ms'])} ms while "
        "sampled); shares of the main thread's (the event loop's) busy samples:",
        "",
        "| part | " + " | ".join(servers) + " |",
        "|---|" + "---|" * len(servers),
    ]
    parts = [k for k in profile[servers[0]] if k not in ("busy_samples", "busy_%")]
    lines.append(
        "| main thread busy (% of the run's wall time) | "
        + " | ".join(str(profile[s]["busy_%"]) for s in servers)
        + " |"
    )
    for part in parts:
        lines.append(f"| {part} | " + " | ".join(f"{profile[s][part]}%" for s in servers) + " |")
    return lines


def training_line(result: Mapping[str, Any]) -> list[str]:
    seconds = result.get("train_s")
    if seconds is None:
        return []
    return [
        "",
        "### Training the whole bot from scratch (`--train`)",
        "",
        f"NLU and dialogue, no model and no cached component reused"
        f" (`bot.training.ensure_model(force=True)` in the product's tree with an empty"
        f" `RASA_CACHE_DIRECTORY`): {seconds:.0f} s.",
    ]


def rasa_processes(settings: dict[str, Any]) -> str:
    """How the product's Rasa server ran (older raw files lack the settings: one process)."""
    redis_url = settings.get("redis", "none")
    if redis_url == "none":
        return "one Rasa process"
    workers = settings.get("workers") or "one a core"
    return f"Rasa processes: {workers}, coordinated through Redis (`{redis_url}`)"


def markdown(result: Mapping[str, Any]) -> str:
    lines = header(result)
    lines += training_line(result)
    lines += summary_tables(result)
    lines += round_table(result)
    lines += memory_table(result)
    lines += long_table(result)
    lines += profile_table(result)
    lines += crm_and_logs(result)
    return "\n".join(lines) + "\n"
