"""`python -m bench.graph_runner`: one parse and one policy prediction with Rasa's dask graph
runner and with the product's sequential one (bot/rasa_plugins/graph_runner.py), same model,
same process, same run.

The project's trained model is loaded twice, once per runner. Parses: BANKING77 test messages,
each parsed by both agents in turn (which goes first alternates), so machine noise falls on
both alike. Predictions: the policies' next action after every event of the project's
stories, both processors in turn the same way. Reports p50 / p95 of each and their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.common import ROOT, cpu_model, p50_p95_ms, read_intent_csv, write_outputs

DATASETS = ROOT.parent / "shared" / "datasets"


def load_agents() -> dict[str, Any]:
    """The project's model loaded with Rasa's runner and with ours."""
    import rasa.core.processor as rasa_processor
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from bot.rasa_plugins.graph_runner import RASAS_OWN, SequentialGraphRunner
    from bot.training import ensure_model

    configure_structlog(logging.WARNING)
    model = str(ensure_model())
    agents = {}
    for name, runner in (
        ("dask (Rasa's)", RASAS_OWN),
        ("sequential (product)", SequentialGraphRunner),
    ):
        rasa_processor.DaskGraphRunner = runner
        try:
            agents[name] = Agent.load(model)
        finally:
            rasa_processor.DaskGraphRunner = RASAS_OWN
    return agents


def alternating(
    calls: Sequence[Callable[[str], None]], names: Sequence[str], items: Sequence[Any], desc: str
) -> dict[str, list[float]]:
    """Each item through every call, the first call alternating; milliseconds per call."""
    spent: dict[str, list[float]] = {name: [] for name in names}
    for index, item in enumerate(tqdm(items, desc=desc, leave=False)):
        order = range(len(calls)) if index % 2 == 0 else reversed(range(len(calls)))
        for which in order:
            start = time.perf_counter()
            calls[which](item)
            spent[names[which]].append((time.perf_counter() - start) * 1000.0)
    return spent


def story_trackers(limit: int) -> list[Any]:
    from bench.story_trackers import grown, project

    _, trackers = project()
    return [step for i, story in enumerate(trackers[:limit]) for step in grown(story, f"s{i}")]


def run(messages: list[str], stories: int) -> dict[str, Any]:
    agents = load_agents()
    names = list(agents)
    loop = asyncio.new_event_loop()

    def parser(agent: Any) -> Callable[[str], None]:
        return lambda text: loop.run_until_complete(agent.parse_message(text))

    def predictor(agent: Any) -> Callable[[Any], None]:
        return lambda tracker: agent.processor._predict_next_with_tracker(tracker)

    for text in messages[:20]:
        for agent in agents.values():
            loop.run_until_complete(agent.parse_message(text))
    parses = alternating([parser(agents[n]) for n in names], names, messages, "parses")
    trackers = story_trackers(stories)
    predictions = alternating([predictor(agents[n]) for n in names], names, trackers, "predictions")
    loop.close()
    return {
        "machine": f"{os.cpu_count()} cores, {cpu_model()}",
        "load_average_at_start": os.getloadavg()[0],
        "messages": len(messages),
        "predictions": len(trackers),
        "parse": {name: p50_p95_ms(ms) for name, ms in parses.items()},
        "predict": {name: p50_p95_ms(ms) for name, ms in predictions.items()},
        "runners": names,
    }


def markdown(result: dict[str, Any], command: str) -> str:
    dask, ours = result["runners"]
    lines = [
        "## Graph runner: Rasa's dask runner against the sequential one (`bench/graph_runner.py`)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {result['machine']}; load average {result['load_average_at_start']:.1f} at "
        f"the start. The project's model loaded twice in one process, once per runner; "
        f"{result['messages']} BANKING77 test messages parsed and the policies' prediction "
        f"after each of {result['predictions']} story steps, each by both in turn (the first "
        "alternating).",
        "",
        "| call | dask p50 / p95 (ms) | sequential p50 / p95 (ms) | sequential / dask (p50, p95) |",
        "|---|---|---|---|",
    ]
    for call, title in (("parse", "`Agent.parse_message`"), ("predict", "next-action prediction")):
        a, b = result[call][dask], result[call][ours]
        ratios = f"{b['p50_ms'] / a['p50_ms']:.2f}, {b['p95_ms'] / a['p95_ms']:.2f}"
        lines.append(
            f"| {title} | {a['p50_ms']:.2f} / {a['p95_ms']:.2f} | {b['p50_ms']:.2f} / "
            f"{b['p95_ms']:.2f} | {ratios} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "banking77")
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--stories", type=int, default=40, help="project stories to step through")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs/bench/graph_runner.md")
    parser.add_argument("--json", type=Path, default=ROOT / "var/bench/graph_runner.json")
    args = parser.parse_args(argv)
    messages = read_intent_csv(args.data, "test")[0][: args.messages]
    result = run(messages, args.stories)
    command = "python -m bench.graph_runner " + " ".join(sys.argv[1:] if argv is None else argv)
    write_outputs(result, args.json, markdown(result, command.strip()), args.markdown)


if __name__ == "__main__":
    main()
