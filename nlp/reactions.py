"""Messages made only of emoji: reactions, not requests the classifier should try to read.

A "👍" or "🙏" is how many people say "ok" or "thanks" in a chat. The TF-IDF intent model has
no words to go on and falls back, and two fallbacks in a row used to hand the customer to a
person. Negative reactions ("👎", "😡") are left to the classifier and the frustration
detector, which read them through VADER's emoji lexicon.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Reaction = Literal["thanks", "acknowledge"]

THANKS = frozenset("🙏❤💙💚💛💜🧡🤍🥰😍😘🤗👏💯🌹💐")
NEGATIVE = frozenset("👎😡😠🤬😤😞😢😭🙄😒💩😫😩😣😖☹🙁😕")
_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")
"""Zero-width joiner, variation selectors and the keycap mark: parts of one emoji."""


def _symbols(text: str) -> list[str] | None:
    """The symbols of a message with nothing but symbols, spaces and punctuation, else None."""
    symbols = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or char in _JOINERS or category[0] == "P" or category == "Sk":
            continue
        if category != "So":
            return None
        symbols.append(char)
    return symbols


def reaction(text: str) -> Reaction | None:
    """What an emoji-only message says: thanks, a neutral or positive acknowledgement, or None
    (words in it, no emoji at all, or a negative reaction)."""
    symbols = _symbols(text)
    if not symbols or any(symbol in NEGATIVE for symbol in symbols):
        return None
    if any(symbol in THANKS for symbol in symbols):
        return "thanks"
    return "acknowledge"
