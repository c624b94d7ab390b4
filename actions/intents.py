"""Which intents steer the conversation rather than name a banking topic, read from the NLU data.

A general intent (greeting, yes/no, feedback, card digits...) is marked where its examples
are written, `metadata: {general: true}` in data/nlu, so a new intent is classified in the
one place it is defined; Rasa keeps intent metadata for custom components and ignores it
otherwise. The action server reads the marks once, on first use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT

NLU_FALLBACK = "nlu_fallback"
"""Rasa's own intent for a message the classifier is unsure about: general, and has no examples."""


def marked_general(data_dir: Path) -> frozenset[str]:
    """The intents whose NLU examples carry the `general: true` mark, under data_dir."""
    general: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            if "intent" in item and (item.get("metadata") or {}).get("general") is True:
                general.add(item["intent"])
    return frozenset(general)


@lru_cache(maxsize=1)
def general_intents() -> frozenset[str]:
    return marked_general(PROJECT_ROOT / "data") | {NLU_FALLBACK}
