"""Messages made only of emoji: reactions, not requests the classifier should try to read.

A "👍" or "🙏" is how many people say "ok" or "thanks" in a chat, and a "😡" or "👎" how they
say they are unhappy. The TF-IDF intent model has no words to go on: it falls back, or worse,
its character n-grams take an emoji for a rating or card digits. So an emoji-only message is
always a reaction: negative ones are frustration (actions.handoff_rules then decides whether
that hands over or is only acknowledged), thanks are thanks, and any other emoji, whatever it
means, is acknowledged rather than read as a number.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Reaction = Literal["frustrated", "thanks", "acknowledge"]

THANKS = frozenset("🙏❤💙💚💛💜🧡🤍🥰😍😘🤗👏💯🌹💐")
NEGATIVE = frozenset("👎😡😠🤬😤💢👿😾🖕🙄😒💩😫😩😣😖😞😢😭☹🙁😕")
"""Anger, disapproval and distress; one of them anywhere in the message outweighs a 👍."""
_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")
"""Zero-width joiner, variation selectors and the keycap mark: parts of one emoji."""
EMOJI_BLOCKS = range(0x1F000, 0x1FB00)
"""Python 3.10's Unicode 13 calls newer emoji ("🫠", "🥹") unassigned; in these blocks such a
character is an emoji all the same."""


def _symbols(text: str) -> list[str] | None:
    """The symbols of a message with nothing but symbols, spaces and punctuation, else None."""
    symbols = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or char in _JOINERS or category[0] == "P" or category == "Sk":
            continue
        if category != "So" and not (category == "Cn" and ord(char) in EMOJI_BLOCKS):
            return None
        symbols.append(char)
    return symbols


def reaction(text: str) -> Reaction | None:
    """What an emoji-only message says: frustration, thanks, any other emoji an
    acknowledgement; None for words, digits or no emoji at all (the classifier's to read)."""
    symbols = _symbols(text)
    if not symbols:
        return None
    if any(symbol in NEGATIVE for symbol in symbols):
        return "frustrated"
    if any(symbol in THANKS for symbol in symbols):
        return "thanks"
    return "acknowledge"
