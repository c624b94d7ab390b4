"""Whether a message in another language reports a lost, stolen or to-be-blocked card.

The English intent model reads such a message only as `other_language`, so a card that may be
in a thief's hands would queue like any request for a person. A few hand-written words per
language the assistant answers in (nlp.language.LANGUAGES) are enough to put it first: a card
word and a lost/stolen/block word of the same language, anywhere in the message. Matching is
on case-folded text without accents, so "Perdí", "perdi" and "PERDÍ" are one word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

LEXICON: Mapping[str, tuple[str, str]] = {
    "es": (
        r"\btarjeta",
        r"\b(?:perdí|perder|pierd|extravi|robad|robar|robaron|robo\b|hurt|bloque)",
    ),
    "fr": (r"\bcartes?\b|\bcb\b", r"\b(?:perdu|perdre|perte|volé|vol\b|égar|bloqu|opposition)"),
    "de": (r"karte", r"verl[oi]r|gestohlen|geklaut|geraubt|sperr|verschwunden"),
    "it": (r"\bcart[ae]\b|\bbancomat", r"\b(?:pers[oa]\b|perdut|smarrit|rubat|furto|blocc)"),
    "pt": (r"\bcart(?:ão|ões)", r"\b(?:perdi|perder|roubad|roubar|roubo\b|furtad|extravi|bloque)"),
    "nl": (
        r"kaart|(?:bank|betaal|pin|debit|credit)pas|\bpasje",
        r"\b(?:verlor|kwijt|gestolen|blokke)",
    ),
    "pl": (r"\bkart", r"\b(?:zgubi|straci|skradzion|ukrad|zablok|zastrze)"),
    "tr": (r"\bkart", r"kaybet|kaybol|kayıp|çalın|çaldı|bloke"),
    "ru": (r"\bкарт", r"потер|утер|укра|пропал|блокир"),
    "ar": (r"بطاق", r"فقد|ضاع|ضياع|سرق|مسروق|إيقاف|أوقف|حظر"),
    "zh": (r"卡", r"丢|丟|遗失|遺失|被盗|被盜|被偷|偷了|失窃|挂失|掛失|冻结|凍結"),
    "ja": (r"カード", r"なくし|無くし|紛失|落とし|盗ま|盗難|とられ|止め|停止"),
    "ko": (r"카드", r"잃어|분실|도난|도둑|훔쳐|정지"),
}
"""ISO 639-1 code -> (a word for card, a word for lost, stolen or blocked), as regexes on
text as `fold` leaves it (written with accents here, folded before compiling)."""


def fold(text: str) -> str:
    """Case-folded, without accents or other combining marks (Hangul syllables kept whole)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare)


_PATTERNS = {
    language: (re.compile(fold(card)), re.compile(fold(loss)))
    for language, (card, loss) in LEXICON.items()
}


def reports_lost_card(text: str) -> bool:
    """Whether one language's words for a card and for losing or blocking it are both in it."""
    folded = fold(text)
    return any(card.search(folded) and loss.search(folded) for card, loss in _PATTERNS.values())
