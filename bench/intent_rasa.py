"""The intent benchmark's Rasa half: `rasa train nlu` on both configs, then parse every message."""

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


def config_with_epochs(source: Path, target: Path, epochs: int) -> Path:
    config = yaml.safe_load(source.read_text())
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
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
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
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


def parse_with_agent(model_path: str, texts: list[str], desc: str) -> tuple[list[str], list[float]]:
    """Each test message through the trained model's whole NLU graph, one at a time."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa's per-message debug lines would otherwise be printed, and timed, for every parse.
    configure_structlog(logging.WARNING)
    agent = Agent.load(model_path)

    async def parse_all() -> tuple[list[str], list[float]]:
        for text in texts[:20]:
            await agent.parse_message(text)
        names, durations = [], []
        for text in tqdm(texts, desc=desc, leave=False):
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            durations.append(time.perf_counter() - start)
            names.append(parsed["intent"]["name"] or FALLBACK_INTENT)
        return names, durations

    return asyncio.run(parse_all())


def run_rasa_pipelines(
    train: tuple[list[str], list[str]], test: tuple[list[str], list[str]], diet_epochs: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-intent-") as tmp:
        directory = Path(tmp)
        nlu = write_rasa_project(directory, *train)
        pipelines = {
            "spacy_tfidf": CONFIGS / "spacy_tfidf.yml",
            "diet": config_with_epochs(CONFIGS / "diet.yml", directory / "diet.yml", diet_epochs),
        }
        for name, config in pipelines.items():
            print(f"rasa train nlu: {name} ...", file=sys.stderr, flush=True)
            trained = rasa_train_nlu(nlu, config, directory / "models", name)
            predicted, durations = parse_with_agent(trained["model"], test[0], f"{name} parse")
            results[name] = {
                "train_seconds": trained["seconds"],
                **{k: v for k, v in trained.items() if k.startswith("epoch")},
                **scores(test[1], predicted),
                "fallback_rate": float(np.mean(np.asarray(predicted) == FALLBACK_INTENT)),
                **{f"parse_{k}": v for k, v in p50_p95_ms(np.asarray(durations) * 1000.0).items()},
            }
    diet = results["diet"]
    if "epoch_seconds" in diet:
        per_epoch = diet["epoch_seconds"] / diet["epochs"]
        overhead = diet["train_seconds"] - diet["epoch_seconds"]
        diet["seconds_per_epoch"] = per_epoch
        diet["overhead_seconds"] = overhead
        diet["extrapolated_train_seconds_100_epochs"] = overhead + per_epoch * DEFAULT_DIET_EPOCHS
    return results
