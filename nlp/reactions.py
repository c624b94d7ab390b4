"""Messages made only of emoji, or only of a number: nothing the intent classifier can read.

A "👍" or "🙏" is how many people say "ok" or "thanks" in a chat, a "👋" how they say hello,
and a "😡" or "👎" how they say they are unhappy. An intent model has no words to go on: it
falls back, or worse, takes an emoji for a rating or card digits. So an emoji-only message is
always a reaction: negative ones are frustration (actions.handoff_rules then decides whether
that hands over or is only acknowledged), thanks are thanks, a wave is a greeting, and any
other emoji, whatever it means, is acknowledged rather than read as a number.

A number alone ("5", "42", "1234") is a number given, whatever it is for: only the question
that asked for it can say (card digits in the lost card form, a rating in the rating form).
An intent model that learnt ratings from "5" would read any such number as a rating.

Punctuation alone ("?", "...") says nothing: the intent model reads "?" as `affirm` with
confidence, so it is taken for a misunderstanding instead (the customer is asked to rephrase).

A short hesitation ("wait", "hang on, let me check") or a filler alone ("hmm", "erm") is
neither a yes nor a reason to stop: an intent model reads "hmm" as `affirm` and "wait" as
`stop`, which in the lost card form would block a card or end the report. It is taken as
`acknowledge`, which a form's question treats as a non-answer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Reaction = Literal["frustrated", "thanks", "greet", "acknowledge"]

THANKS = frozenset("🙏❤💙💚💛💜🧡🤍🥰😍😘🤗👏💯🌹💐")
GREETINGS = frozenset("👋🙋")
"""A wave, a raised hand: hello (after a frustration or thanks emoji, those win)."""
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
    """What an emoji-only message says: frustration, thanks, a greeting, any other emoji an
    acknowledgement; None for words, digits or no emoji at all (the classifier's to read)."""
    symbols = _symbols(text)
    if not symbols:
        return None
    if any(symbol in NEGATIVE for symbol in symbols):
        return "frustrated"
    if any(symbol in THANKS for symbol in symbols):
        return "thanks"
    if any(symbol in GREETINGS for symbol in symbols):
        return "greet"
    return "acknowledge"


BARE_NUMBER = re.compile(r"\s*#?\s*\d+(?:[ .,]\d+)*\s*[.!?]*\s*")
"""Digits alone, perhaps grouped ("1 234", "4.5") or with a full stop: no fraction ("4/5"),
unit or word ("5 stars"), which say what the number is."""


HESITATION = re.compile(
    r"\b(wait|hang on|hold on|bear with me|let me (?:check|think|look|see|find)"
    r"|(?:one|just a|give me a) (?:moment|sec|second|minute))\b"
)
"""The customer is looking for the answer: not a failed answer, and not a reason to stop."""
FILLER = re.compile(r"\s*(?:h+m+|u+m+|e+r+m*|u+h+|a+h+)[\s.!?…,]*", re.IGNORECASE)
"""A sound of thinking alone: "hmm", "umm", "erm", "uh"."""
HESITATION_WORDS = 6
"""A hesitation longer than this says something else too ("wait, it was stolen, not lost")."""


def hesitates(text: object) -> bool:
    """ "wait", "hang on, let me check": the customer needs a moment; they have not failed."""
    return isinstance(text, str) and HESITATION.search(text.lower()) is not None


def only_hesitation(text: str) -> bool:
    """A short hesitation or a filler alone, with no digit: no answer yet, and not a stop."""
    if FILLER.fullmatch(text):
        return True
    words = re.findall(r"\w+", text)
    return hesitates(text) and len(words) <= HESITATION_WORDS and not any(c.isdigit() for c in text)


def punctuation_only(text: str) -> bool:
    """Whether the message has punctuation and nothing else ("?", "...", "?!"): no word,
    digit or emoji to read, so not a reaction, an answer or a rating."""
    marks = [char for char in text if not char.isspace()]
    return bool(marks) and all(unicodedata.category(char)[0] == "P" for char in marks)


def bare_number(text: str) -> bool:
    """Whether the message is a number and nothing else."""
    return BARE_NUMBER.fullmatch(text) is not None
