"""Per-message sentiment and frustration, to drive escalation to a human.

VADER gives the polarity. It reads "this is the third time I'm asking" or "I want to speak to a
human" as neutral, so customer-service frustration cues (repetition, escalation requests,
threats to leave, shouting, an angry emoji) are scored separately and combined with VADER's
negativity.

VADER and the English cues read English only. The same cues are written for the other
languages the assistant answers in (nlp.language.LANGUAGES), a few words each, in
`FOREIGN_CUES`: "esto es ridículo, nadie me ayuda" weighs what "this is ridiculous, nobody
helps me" does, so frustration in another language reaches a person the way it does in
English. They are matched on text folded as nlp.card_loss folds it (case and accents
dropped), and they carry the negativity VADER would have added: a foreign word of
exasperation counts as one English one does. VADER itself is not asked about a message in
another language (nlp.language): its English lexicon misreads German "die" or Spanish "no".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from spacy.lang.en.stop_words import STOP_WORDS
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.card_loss import fold
from nlp.language import detect_language
from nlp.reactions import NEGATIVE
from nlp.sentiment_cues import FOREIGN_CUES
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
_CUES: list[tuple[float, re.Pattern[str], str | None]] = [
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
        "repeat",
    ),
    (0.15, re.compile(r"\b(?:still|again|nobody|no one|never)\b"), "mild"),
    # Waiting.
    (0.3, re.compile(r"\btaking (?:so |too |very |really )?(?:long|forever|ages)\b"), None),
    # Threats to leave or complain.
    (
        0.45,
        re.compile(
            r"\b(?:close|cancel|shut)\s+(?:my|the|this)\s+(?:\w+\s+)?account"
            r"|switch(?:ing)?\s+banks?|(?:leave|leaving)\s+(?:this|your)\s+bank"
            r"|(?:go|going|move|moving|switch|switching)\s+(?:\w+\s+)?to\s+another bank"
            r"|(?:file|make|lodge|raise)\s+a\s+(?:formal\s+)?complaint|ombudsman|lawyer|sue you"
            r"|report you"
        ),
        "leaving",
    ),
    (0.2, re.compile(r"(?:!{2,}|\?!|!\?|\?{3,})"), None),
]
"""(weight, English pattern, the kind of `Cues` that says the same in another language)."""


@dataclass(frozen=True)
class _Compiled:
    exasperation: re.Pattern[str]
    mild: re.Pattern[str]
    repeat: re.Pattern[str]
    leaving: re.Pattern[str]
    person: re.Pattern[str]
    request: re.Pattern[str] | None
    polite: re.Pattern[str]


_COMPILED = {
    language: _Compiled(
        **{
            kind: re.compile(fold(pattern)) if pattern else None
            for kind, pattern in vars(cues).items()
        }
    )
    for language, cues in FOREIGN_CUES.items()
}
_FOREIGN = list(_COMPILED.values())


def speaks_of_frustration_or_a_person(text: str, language: str) -> bool:
    """Whether the message has one of `language`'s frustration cues or words for a person:
    words an English intent model cannot have learnt, so its reading of such a message is
    not to be trusted ("esto es ridículo, nadie me ayuda" read as out of scope)."""
    cues = _COMPILED.get(language)
    if cues is None:
        return False
    folded = fold(text)
    patterns = (cues.exasperation, cues.mild, cues.repeat, cues.leaving, cues.person)
    return any(pattern.search(folded) for pattern in patterns)


def cue_language(text: str) -> str | None:
    """The first language in FOREIGN_CUES whose words of frustration the message has
    ("estoy harto" is Spanish), or None: for a message langid is unsure of. Words for a
    person are left out: several are English too ("person", "agent", "operator")."""
    folded = fold(text)
    for language, cues in _COMPILED.items():
        patterns = (cues.exasperation, cues.mild, cues.repeat, cues.leaving)
        if any(pattern.search(folded) for pattern in patterns):
            return language
    return None


def _foreign_kind(folded: str, kind: str) -> bool:
    return any(getattr(cues, kind).search(folded) for cues in _FOREIGN)


def _foreign_person_request(folded: str) -> bool | None:
    """True: another language's impatient request for a person; False: a polite one; None:
    no request for a person in another language."""
    polite = None
    for cues in _FOREIGN:
        if cues.person.search(folded) and (cues.request is None or cues.request.search(folded)):
            if not cues.polite.search(folded):
                return True
            polite = False
    return polite


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a person, in English or another language we answer in.

    For messages the English intent model cannot read; it reads English requests itself."""
    return bool(_WANTING_OUT.search(text.lower())) or (
        _foreign_person_request(fold(text)) is not None
    )


_ANGRY_EMOJI_WEIGHT = 0.2
"""An angry or unhappy emoji next to words ("😤 seriously?"): a cue VADER does not read."""
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


def _polarity(text: str) -> float:
    """VADER's compound score; 0 (unknown) for another language, where its English lexicon
    misreads words (German "die", Spanish "no") and the cues in FOREIGN_CUES speak instead."""
    if detect_language(text).foreign:
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])


def _score(text: str, repeated: bool) -> SentimentScore:
    compound = _polarity(text)
    lowered = text.lower()
    folded = fold(text)
    weights = [
        weight
        for weight, pattern, kind in _CUES
        if pattern.search(lowered) or (kind is not None and _foreign_kind(folded, kind))
    ]
    foreign_request = _foreign_person_request(folded)
    if (_WANTING_OUT.search(lowered) and not _POLITE.search(lowered)) or foreign_request:
        weights.append(_WANTING_OUT_WEIGHT)
    # Words of exasperation that VADER under-weights or misses, or cannot read, each different
    # one counted.
    exasperated = set(_EXASPERATION.findall(lowered))
    for cues in _FOREIGN:
        exasperated.update(cues.exasperation.findall(folded))
    weights.extend([_EXASPERATION_WEIGHT] * min(len(exasperated), _EXASPERATION_COUNTED))
    if any(char in NEGATIVE for char in text):
        weights.append(_ANGRY_EMOJI_WEIGHT)
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
