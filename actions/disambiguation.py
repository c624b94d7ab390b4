"""When two banking intents are close, the fallback asks which one the customer means.

A confident wrong answer is worse than a question back. Rasa's FallbackClassifier turns a
message into `nlu_fallback` when its top intent is unsure (`threshold`) or the top two are
within `ambiguity_threshold` of each other; the ranking under it still holds the
classifier's candidates. The two best banking candidates are offered as buttons (their
payload is the intent itself, so a press is understood for sure), with "something else" and
a person on offer, when the runner-up is a real candidate (at least MIN_CANDIDATE) and the
two are close: the top one is below `threshold`, or within `ambiguity_threshold` of the
runner-up. Otherwise the customer is asked to rephrase, as before.

How often a pair is offered, and how often it holds the right intent, depends on the data and
on both settings. It was measured once, on 3 held-out folds of data/nlu as it was then (2,229
examples, 94 intents) with threshold 0.59 and ambiguity 0.15: a pair was offered for 4.4% of
messages; for those the top intent alone was right 46% of the time, and the pair held the
right one 87% of the time. Those figures were not measured again for the data and threshold
config.yml ships now, and need not hold for them.

Both values are config.yml's, read from there (bot.nlu_config), so the classifier and this
question never disagree about what "unsure" and "close" mean.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from bot.intent_titles import INTENT_TITLES
from bot.nlu_config import FallbackSettings, fallback_settings, read_config
from bot.settings import PROJECT_ROOT

MIN_CANDIDATE = 0.2
"""Below this, a candidate is noise in an out-of-scope message's ranking, not a meaning: two
weak guesses are not offered, the customer is asked to rephrase."""


@lru_cache(maxsize=1)
def configured_closeness() -> FallbackSettings:
    """config.yml's FallbackClassifier settings; Rasa's defaults without one."""
    settings = fallback_settings(read_config(PROJECT_ROOT / "config.yml"))
    return settings or FallbackSettings()


def close_pair(
    ranking: Sequence[Mapping[str, Any]],
    general: Collection[str],
    closeness: FallbackSettings,
    floor: float = MIN_CANDIDATE,
) -> tuple[str, str] | None:
    """The two best banking intents if the runner-up is at least `floor` and the two are close:
    the top one is unsure, or within the ambiguity of the runner-up.

    Only intents with a title are offered (every intent of the bot has one); general intents
    (greetings, yes/no, feedback) and `nlu_fallback` itself never are.
    """
    candidates = [
        (str(item.get("name")), float(item.get("confidence") or 0.0))
        for item in ranking
        if item.get("name") in INTENT_TITLES and item.get("name") not in general
    ]
    candidates.sort(key=lambda candidate: candidate[1], reverse=True)
    if len(candidates) < 2:
        return None
    (first, top), (second, runner_up) = candidates[:2]
    if runner_up < floor:
        return None
    if top >= closeness.threshold and top - runner_up >= closeness.ambiguity:
        return None
    return first, second


def choice_buttons(first: str, second: str) -> list[dict[str, str]]:
    """The two meanings, then a way out either way."""
    return [
        {"title": INTENT_TITLES[first], "payload": f"/{first}"},
        {"title": INTENT_TITLES[second], "payload": f"/{second}"},
        {"title": "Something else", "payload": "/deny"},
        {"title": "Talk to a person", "payload": "/ask_for_human"},
    ]
