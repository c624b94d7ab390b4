"""The text as the detectors see it, with a map back to the characters it came from.

A card or phone number typed with full-width, Arabic-Indic, Devanagari or any other Unicode
decimal digits, no-break or thin spaces, or with zero-width characters between its digits is
still a card or phone number: detection runs on the NFKC form, with every decimal digit made
its ASCII digit (NFKC keeps most scripts' digits), every space separator (Unicode category Zs)
made a plain space, dash-like hyphens and dashes (en and em dash included) made "-", and
invisible characters (zero-width spaces and joiners, word joiner, soft hyphen, BOM) removed.
Each normalised character remembers the original characters behind it, so a finding replaces
the original text, invisible characters inside it included.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")


@dataclass(frozen=True)
class Normalised:
    """Normalised text; `starts[i]`/`ends[i]` bound the original characters behind `text[i]`.

    Both are None when the text needed no change (plain ASCII).
    """

    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind `text[start:end]` (a non-empty span)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _normal_form(char: str) -> str:
    if char in _INVISIBLE:
        return ""
    if char in _DASHES:
        return "-"
    if unicodedata.category(char) == "Zs":
        return " "
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    return unicodedata.normalize("NFKC", char)


def normalised(text: str) -> Normalised:
    """`text` normalised character by character, so that every offset maps back."""
    if text.isascii():
        return Normalised(text)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        form = char if char.isascii() else _normal_form(char)
        chars.append(form)
        starts += [index] * len(form)
        ends += [index + 1] * len(form)
    return Normalised("".join(chars), tuple(starts), tuple(ends))
