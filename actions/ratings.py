"""Reading a 1-5 rating from what a customer answers to the rating question.

Customers answer in digits ("4", "5 stars", "10/10"), number words ("five") or plain
judgements ("it was great", "terrible", "not bad"). The reading keeps the number they
gave even when it is off the scale, so "10" gets the scale spelt out and the question
again, rather than being taken as no answer at all. A row of stars ("⭐⭐⭐⭐") counts its
stars, as review sites have taught customers to.
"""

from __future__ import annotations

import re

SCALE = range(1, 6)
"""1 (poor) to 5 (excellent), the scale the rating question offers."""

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
JUDGEMENTS: dict[int, tuple[str, ...]] = {
    1: (
        "terrible",
        "awful",
        "horrible",
        "useless",
        "dreadful",
        "appalling",
        "atrocious",
        "rubbish",
        "pathetic",
        "hopeless",
        "the worst",
        "very bad",
        "really bad",
        "no help at all",
    ),
    2: (
        "bad",
        "poor",
        "unhelpful",
        "disappointing",
        "disappointed",
        "mediocre",
        "not good",
        "not great",
        "not very good",
        "not very helpful",
        "not helpful",
        "could be better",
    ),
    3: ("ok", "okay", "fine", "average", "alright", "all right", "meh", "so-so", "so so"),
    4: (
        "good",
        "helpful",
        "nice",
        "useful",
        "solid",
        "decent",
        "pleasant",
        "not bad",
        "pretty good",
        "quite good",
        "quite helpful",
    ),
    5: (
        "great",
        "excellent",
        "amazing",
        "perfect",
        "fantastic",
        "brilliant",
        "superb",
        "outstanding",
        "wonderful",
        "awesome",
        "exceptional",
        "very good",
        "very helpful",
        "really good",
        "really helpful",
        "super helpful",
        "loved it",
        "the best",
    ),
}
"""Judgements per score; a longer phrase wins over a word inside it ("not good" over "good")."""

_SCORE_OF = {phrase: score for score, phrases in JUDGEMENTS.items() for phrase in phrases}
_WORDS = sorted([*_SCORE_OF, *NUMBER_WORDS], key=len, reverse=True)
_READING = re.compile(r"(?<![\w.])(\d+)(?![\d])|\b(" + "|".join(map(re.escape, _WORDS)) + r")\b")
STAR = re.compile("[\u2b50\u2605]")
"""⭐ or ★; a variation selector after one is ignored by counting the stars alone."""
BARE_RATING = re.compile(
    r"\s*(?:\d+\s*(?:/\s*\d+|stars?|out of \d+)?|(?:[\u2b50\u2605]\ufe0f?\s*)+)\s*[.!]?\s*"
)
"""A message that is only a number or stars: a rating whatever intent the NLU gave it."""
DECLINES = re.compile(r"\b(skip|no thanks|no thank you|rather not|not now|later|pass)\b")
"""Answers that turn the question down rather than fail to answer it."""


def read_rating(text: str) -> int | None:
    """The first number in the text, else its stars, else its first judgement, on or off the
    scale; None if there is none."""
    match = _READING.search(text.lower())
    digits, word = match.groups() if match else (None, None)
    if digits is not None:
        return int(digits)
    stars = len(STAR.findall(text))
    if stars:
        return stars
    if word is None:
        return None
    return NUMBER_WORDS.get(word, _SCORE_OF.get(word))


def judgements(text: str) -> list[int]:
    """The scores of every judgement in the text, in order ("meh, pretty bad": [3, 2])."""
    words = (match.group(2) for match in _READING.finditer(text.lower()))
    return [_SCORE_OF[word] for word in words if word in _SCORE_OF]


def bare_rating(text: str) -> bool:
    """Only a number or stars ("7", "4/5", "⭐⭐⭐⭐"): meant as a rating even when the NLU
    reads it as something else (out of scope, an acknowledgement)."""
    return BARE_RATING.fullmatch(text) is not None


def declines(text: str) -> bool:
    """The customer would rather not rate ("skip", "no thanks", "maybe later")."""
    return DECLINES.search(text.lower()) is not None
