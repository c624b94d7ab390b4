"""Per-message sentiment and frustration, to drive escalation to a human.

VADER gives the polarity. It reads "this is the third time I'm asking" or "I want to speak to a
human" as neutral, so customer-service frustration cues (repetition, escalation requests,
threats to leave, shouting) are scored separately and combined with VADER's negativity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.text import lemmas

Label = Literal["negative", "neutral", "positive"]
Trend = Literal["improving", "worsening", "stable"]

# VADER's own cut-offs for its compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
# One strong cue (asking again, wanting a human, threatening to leave) makes a message negative
# even when VADER finds no negative word.
FRUSTRATED_AT = 0.35
# Jaccard overlap of content lemmas with an earlier message for it to count as asking again.
REPEAT_OVERLAP = 0.6
# Change of mood (compound minus frustration) over a conversation that counts as a trend.
TREND_CHANGE = 0.25

_REPEAT_WEIGHT = 0.35
_WANTING_OUT = re.compile(
    r"\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a |an |the |your |some )?"
    r"(?:human|person|real person|someone|somebody|agent|manager|supervisor|representative)"
    r"|real (?:person|human)|human being|are you a (?:bot|robot|machine)"
)
_EXASPERATION = re.compile(
    r"\b(?:ridiculous|unacceptable|useless|pathetic|absurd|outrageous|incompetent"
    r"|joke|nonsense|fed up|sick of|tired of|waste of (?:my )?time|frustrat\w*|annoy\w*"
    r"|angry|furious|livid|fuming|worst|terrible|horrible|disgrace\w*|seriously\?)"
)
_EXASPERATION_WEIGHT = 0.35
_EXASPERATION_COUNTED = 2
"""Two different words of exasperation ("ridiculous, I'm fed up") weigh more than one."""
_POLITE = re.compile(r"\b(?:please|pls|could i|can i|may i|i'd like|i would like|would you)\b")
"""A polite request for a person is a preference, not a sign of frustration."""
_HEDGED = re.compile(
    r"\b(?:a bit|a little|a tad|slightly|kind of|kinda|somewhat|sort of|a little bit)\b"
)
HEDGED_FACTOR = 0.6
""""a bit annoying" is milder than "annoying": hedged frustration is scaled down by this."""
_CUES: list[tuple[float, re.Pattern[str]]] = [
    # Asking again, waiting, being passed around.
    (
        _REPEAT_WEIGHT,
        re.compile(
            r"\b(?:(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time"
            r"|how many (?:more )?times|(?:once|yet) again|keep (?:on )?(?:asking|telling|saying)"
            r"|already (?:told|asked|said|explained|sent|called|tried)"
            r"|(?:told|asked|said)(?: (?:you|this|that|it))? (?:already|before|twice)"
            r"|(?:told|asked) you"
            r"|for (?:days|weeks|hours|ages)|still (?:\w+ )?(?:not|no|nothing|never|waiting"
            r"|(?:can|don|doesn|didn|haven|hasn|hadn|isn|aren|wasn|won|wouldn|couldn)'?t))\b"
        ),
    ),
    (0.15, re.compile(r"\b(?:still|again|nobody|no one|never)\b")),
    # Waiting.
    (0.3, re.compile(r"\btaking (?:so |too |very |really )?(?:long|forever|ages)\b")),
    # Threats to leave or complain.
    (
        0.45,
        re.compile(
            r"\b(?:close|cancel|shut)\s+(?:my|the|this)\s+(?:\w+\s+)?account"
            r"|switch(?:ing)?\s+banks?|(?:leave|leaving)\s+(?:this|your)\s+bank|another bank"
            r"|(?:file|make|lodge|raise)\s+a\s+(?:formal\s+)?complaint|ombudsman|lawyer|sue you"
            r"|report you"
        ),
    ),
    (0.2, re.compile(r"(?:!{2,}|\?!|!\?|\?{3,})")),
]
_SHOUTED = re.compile(r"\b[A-Z]{3,}\b")
_NOT_SHOUTING = {"ATM", "PIN", "IBAN", "SWIFT", "BIC", "USD", "EUR", "GBP", "ID", "SMS", "FAQ"}
_SHOUTING_WEIGHT = 0.25
_WANTING_OUT_WEIGHT = 0.4
_NEGATIVITY_WEIGHT = 0.6


@dataclass(frozen=True)
class SentimentScore:
    """VADER's compound polarity, a frustration level, and the resulting label."""

    compound: float
    frustration: float
    label: Label


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """VADER reads its lexicon file on construction: build it once per process."""
    return SentimentIntensityAnalyzer()


def _shouting(text: str) -> bool:
    """Two or more all-capital words, acronyms aside."""
    return sum(1 for word in _SHOUTED.findall(text) if word not in _NOT_SHOUTING) >= 2


def _content(words: Iterable[str]) -> set[str]:
    """Content lemmas, or all lemmas when a message has no content word ("where is it?")."""
    unique = set(words)
    return (unique - STOP_WORDS) or unique


def _repeats(words: set[str], earlier: Sequence[set[str]]) -> bool:
    """Whether a message asks what one earlier message already asked."""
    return bool(words) and any(
        before and len(words & before) / len(words | before) >= REPEAT_OVERLAP for before in earlier
    )


def score(text: str, history: Sequence[str] = ()) -> SentimentScore:
    """Score one customer message; `history` holds the customer's earlier messages, if any."""
    repeated = bool(history) and _repeats(
        _content(lemmas(text)), [_content(lemmas(h)) for h in history]
    )
    return _score(text, repeated)


def score_conversation(
    messages: Sequence[str], message_lemmas: Sequence[Iterable[str]] | None = None
) -> list[SentimentScore]:
    """Score a customer's messages in order, each against the ones before it.

    `message_lemmas` are the messages' lemmas (as `nlp.text.lemmas` gives them) when the caller
    has already parsed the messages, so they are not parsed twice.
    """
    if message_lemmas is None:
        message_lemmas = [lemmas(text) for text in messages]
    contents = [_content(words) for words in message_lemmas]
    return [_score(text, _repeats(contents[i], contents[:i])) for i, text in enumerate(messages)]


def _score(text: str, repeated: bool) -> SentimentScore:
    compound = float(_analyzer().polarity_scores(text)["compound"])
    lowered = text.lower()
    weights = [weight for weight, pattern in _CUES if pattern.search(lowered)]
    if _WANTING_OUT.search(lowered) and not _POLITE.search(lowered):
        weights.append(_WANTING_OUT_WEIGHT)
    # Words of exasperation that VADER under-weights or misses, each different one counted.
    exasperated = len(set(_EXASPERATION.findall(lowered)))
    weights.extend([_EXASPERATION_WEIGHT] * min(exasperated, _EXASPERATION_COUNTED))
    if _shouting(text):
        weights.append(_SHOUTING_WEIGHT)
    if repeated:
        weights.append(_REPEAT_WEIGHT)
    weights.append(_NEGATIVITY_WEIGHT * max(0.0, -compound))
    calm = 1.0
    for weight in weights:
        calm *= 1.0 - weight
    frustration = 1.0 - calm
    if _HEDGED.search(lowered):
        frustration *= HEDGED_FACTOR
    frustration = round(frustration, 4)
    if compound <= NEGATIVE_AT or frustration >= FRUSTRATED_AT:
        label: Label = "negative"
    elif compound >= POSITIVE_AT:
        label = "positive"
    else:
        label = "neutral"
    return SentimentScore(compound=compound, frustration=frustration, label=label)


def trend(scores: Sequence[SentimentScore]) -> Trend:
    """Direction of the customer's mood over a conversation, from a least-squares line.

    Mood is compound minus frustration; the fitted change from first to last message must
    exceed `TREND_CHANGE` to count, so one odd message does not flip the trend.
    """
    n = len(scores)
    if n < 2:
        return "stable"
    moods = [s.compound - s.frustration for s in scores]
    mean_x = (n - 1) / 2
    mean_y = sum(moods) / n
    covariance = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(moods))
    variance = sum((i - mean_x) ** 2 for i in range(n))
    change = covariance / variance * (n - 1)
    if change >= TREND_CHANGE:
        return "improving"
    if change <= -TREND_CHANGE:
        return "worsening"
    return "stable"
