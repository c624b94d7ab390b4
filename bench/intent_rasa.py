"""The intent benchmark's Rasa half: `rasa train nlu`, then every TEST message through `parse`.

The pipelines are `config.yml`'s own NLU pipeline (the product's, and the same with the
classifier set back to today's settings, see `bench.intent_systems`), and optionally Rasa's
default DIET pipeline (`bench/configs/diet.yml`) with the product's FallbackClassifier.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm import tqdm

from bench.common import ROOT, p50_p95_ms
from bench.intent_metrics import FALLBACK_INTENT, scores

CONFIGS = Path(__file__).resolve().parent / "configs"
DEFAULT_DIET_EPOCHS = 100
# Messages of the per-node timing pass (after the timed pass over every test message).
NODE_PROFILE_MESSAGES = 500
# tqdm's last "Epochs" bar from DIET: "Epochs: 100%|...| 3/3 [05:31<00:00, ...".
EPOCH_BAR = re.compile(r"Epochs: 100%.*?\|\s*(\d+)/(\d+) \[([\d:]+)<")


def write_rasa_project(directory: Path, texts: list[str], labels: list[str]) -> Path:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = TrainingData(
        [
            Message(data={"text": text, "intent": label})
            for text, label in zip(texts, labels, strict=True)
        ]
    )
    path = directory / "nlu.yml"
    path.write_text(data.nlu_as_yaml(), encoding="utf-8")
    return path


def config_with_epochs(
    source: Path, target: Path, epochs: int, fallback: dict[str, float] | None = None
) -> Path:
    """DIET's config with `epochs` and, if given, the product's FallbackClassifier settings."""
    config = yaml.safe_load(source.read_text())
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
        if component["name"] == "FallbackClassifier" and fallback:
            component.update(fallback)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def seconds_from_clock(clock: str) -> int:
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


def rasa_train_nlu(nlu: Path, config: Path, out: Path, name: str) -> dict[str, Any]:
    """`rasa train nlu` as a user runs it; the wall time includes Rasa's own start-up."""
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "train",
        "nlu",
        "--nlu",
        str(nlu),
        "--config",
        str(config),
        "--out",
        str(out),
        "--fixed-model-name",
        name,
    ]
    # A cache of its own, next to the output: Rasa's training cache (.rasa/cache) would hand
    # back the components an earlier run trained on the same data and config, and the time
    # measured would be a cache hit's, not a training's.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_CACHE_DIRECTORY": str(out / f"{name}-cache"),
    }
    start = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(f"rasa train nlu failed:\n{finished.stderr[-4000:]}")
    result: dict[str, Any] = {"seconds": seconds, "model": str(out / f"{name}.tar.gz")}
    bars = EPOCH_BAR.findall(finished.stderr)
    if bars:
        done, total, clock = bars[-1]
        result["epochs"] = int(total)
        result["epoch_seconds"] = seconds_from_clock(clock)
    return result


def parse_with_agent(
    model_path: str, texts: list[str], desc: str
) -> tuple[list[dict], list[float], dict[str, dict[str, float]]]:
    """Each message through the trained model's whole NLU graph, one at a time, as parsed."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from bot.rasa_plugins.graph_runner import install as run_graphs_in_order

    # Rasa's per-message debug lines would otherwise be printed, and timed, for every parse.
    configure_structlog(logging.WARNING)
    run_graphs_in_order()  # as the product's server runs them (bot/rasa_server.py)
    agent = Agent.load(model_path)

    async def parse_all() -> tuple[list[dict], list[float]]:
        for text in texts[:20]:
            await agent.parse_message(text)
        parsed, durations = [], []
        for text in tqdm(texts, desc=desc, leave=False):
            start = time.perf_counter()
            result = await agent.parse_message(text)
            durations.append(time.perf_counter() - start)
            parsed.append(result)
        return parsed, durations

    parsed, durations = asyncio.run(parse_all())
    nodes = node_times(agent, texts[:NODE_PROFILE_MESSAGES], f"{desc} per node")
    return parsed, durations, nodes


def node_times(agent: Any, texts: list[str], desc: str) -> dict[str, dict[str, float]]:
    """Where one parse spends its time: each graph node's p50 / p95 (ms), from a second pass
    with every node's call timed (the first pass, untimed per node, gives the totals)."""
    from rasa.engine.graph import GraphNode

    spent: dict[str, float] = {}
    original = GraphNode.__call__

    def timed_call(self: GraphNode, *inputs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *inputs)
        finally:
            spent[self._node_name] = spent.get(self._node_name, 0.0) + (time.perf_counter() - start)

    per_node: dict[str, list[float]] = {}

    async def profile() -> None:
        for text in tqdm(texts, desc=desc, leave=False):
            spent.clear()
            await agent.parse_message(text)
            for name, seconds in spent.items():
                per_node.setdefault(name, []).append(seconds * 1000.0)

    GraphNode.__call__ = timed_call  # type: ignore[method-assign]
    try:
        asyncio.run(profile())
    finally:
        GraphNode.__call__ = original  # type: ignore[method-assign]
    return {
        name: {**p50_p95_ms(ms), "mean_ms": float(np.mean(ms))}
        for name, ms in sorted(per_node.items(), key=lambda item: -np.mean(item[1]))
    }


def answered_intent(parsed: dict[str, Any]) -> str:
    """The intent the whole graph settled on (fallback, reactions and overrides included)."""
    return (parsed.get("intent") or {}).get("name") or FALLBACK_INTENT


def classifier_intent(parsed: dict[str, Any], known: set[str]) -> str:
    """The intent classifier's own top intent: the most confident ranking entry it was trained
    on (FallbackClassifier and the rule components only put their own intents in front)."""
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") in known]
    if not ranking:
        return FALLBACK_INTENT
    return max(ranking, key=lambda r: r.get("confidence") or 0.0)["name"]


def score_parses(parsed: list[dict[str, Any]], truth: list[str], known: set[str]) -> dict[str, Any]:
    answered = [answered_intent(p) for p in parsed]
    top = [classifier_intent(p, known) for p in parsed]
    is_fallback = np.asarray(answered) == FALLBACK_INTENT
    overridden = np.array([a != FALLBACK_INTENT and a not in known for a in answered])
    return {
        **scores(truth, top),
        "answered": scores(truth, answered),
        "fallback_rate": float(is_fallback.mean()),
        "overridden_rate": float(overridden.mean()),
    }


def run_rasa_pipelines(
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    configs: dict[str, dict[str, Any]],
    diet_epochs: int,
    fallback: dict[str, float],
    desc: str = "",
) -> dict[str, Any]:
    """Train each config with `rasa train nlu` on TRAIN, then parse every TEST message."""
    results: dict[str, Any] = {}
    known = set(train[1])
    with tempfile.TemporaryDirectory(prefix="bench-intent-") as tmp:
        directory = Path(tmp)
        nlu = write_rasa_project(directory, *train)
        pipelines: dict[str, Path] = {}
        for name, config in configs.items():
            pipelines[name] = directory / f"{name}.yml"
            pipelines[name].write_text(yaml.safe_dump(config, sort_keys=False))
        if diet_epochs > 0:
            pipelines["diet"] = config_with_epochs(
                CONFIGS / "diet.yml", directory / "diet.yml", diet_epochs, fallback
            )
        for name, config_path in tqdm(pipelines.items(), desc=f"{desc} rasa", leave=False):
            tqdm.write(f"rasa train nlu: {desc} {name} ...", file=sys.stderr)
            trained = rasa_train_nlu(nlu, config_path, directory / "models", name)
            parsed, durations, nodes = parse_with_agent(trained["model"], test[0], f"{name} parse")
            results[name] = {
                "config": yaml.safe_load(config_path.read_text()),
                "train_seconds": trained["seconds"],
                **{k: v for k, v in trained.items() if k.startswith("epoch")},
                **score_parses(parsed, test[1], known),
                **{f"parse_{k}": v for k, v in p50_p95_ms(np.asarray(durations) * 1000.0).items()},
                "parse_nodes": nodes,
            }
    diet = results.get("diet")
    if diet and "epoch_seconds" in diet:
        per_epoch = diet["epoch_seconds"] / diet["epochs"]
        overhead = diet["train_seconds"] - diet["epoch_seconds"]
        diet["seconds_per_epoch"] = per_epoch
        diet["overhead_seconds"] = overhead
        diet["extrapolated_train_seconds_100_epochs"] = overhead + per_epoch * DEFAULT_DIET_EPOCHS
    return results
