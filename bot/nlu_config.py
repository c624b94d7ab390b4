"""The settings of config.yml's NLU pipeline that code outside Rasa reads: the FallbackClassifier's.

The action server (actions/disambiguation.py) and the intent benchmark (bench/intent_systems.py)
both need them, and neither should import Rasa for it, so they are read here, once. Plain YAML:
no Rasa, no rasa_sdk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FALLBACK_CLASSIFIER = "FallbackClassifier"
RASA_THRESHOLD = 0.3
RASA_AMBIGUITY = 0.1
"""Rasa's own defaults for the FallbackClassifier's `threshold` and `ambiguity_threshold`
(tests/actions/test_disambiguation.py checks them against Rasa's)."""


@dataclass(frozen=True)
class FallbackSettings:
    """The FallbackClassifier's settings: below `threshold` the top intent is unsure; within
    `ambiguity` of each other two intents are too close to pick one."""

    threshold: float = RASA_THRESHOLD
    ambiguity: float = RASA_AMBIGUITY


def read_config(path: Path) -> dict[str, Any]:
    """A Rasa config file as YAML; {} for an empty one."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def fallback_settings(config: Mapping[str, Any]) -> FallbackSettings | None:
    """The pipeline's FallbackClassifier settings, Rasa's defaults for any it leaves out; None
    when the pipeline has no FallbackClassifier."""
    for component in config.get("pipeline") or []:
        if component.get("name") == FALLBACK_CLASSIFIER:
            return FallbackSettings(
                float(component.get("threshold", RASA_THRESHOLD)),
                float(component.get("ambiguity_threshold", RASA_AMBIGUITY)),
            )
    return None
