"""Card numbers, and the details written with them: expiry date, CVV and PIN.

- CARD: Presidio's Luhn check (`CreditCardRecognizer.validate_result`) on own candidates.
  Presidio's pattern misses 2-series Mastercards (2221-2720), Mir (2200-2204) and 18-19
  digit cards (Maestro, UnionPay, Visa), so candidates are runs of digit groups (13-19
  digits) starting with an issuer prefix, at the start of a run of digit groups or where
  its separator changes, one separator of 1-3 spaces or punctuation marks throughout (" ",
  "-", " - ", ".", "/", ",", "_", " | ", "*"; dashes of any kind are "-" by then). Grouped as
  printed (4-4-4-4[-1..3], Amex 4-6-5, Diners 4-6-4, or unbroken) they are cards anywhere; in
  any other groups (8-8, 4-2-2-4-4, one digit at a time) too, unless an identifier label
  ("ref", "order no.") comes right before them and no card word ("card", "visa", "tarjeta",
  "Karte"...) does: a reference number may pass Luhn, a card typed oddly is still a card.
  Printed groupings are tried first, so a card followed by more digits (an expiry, a CVV,
  "2 days") is still found as printed. A number that fails Luhn is never a card, even after
  "card": payment references and mistyped numbers are written there too, and a mistyped
  card number pays for nothing.
- EXPIRY (MM/YY, MM/YYYY, MM-YY, MM-YYYY), CVV (3-4 digits) and PIN (4-6 digits): after
  their own words (English, Spanish, French and German: "exp", "valid thru", "caduca",
  "gültig bis"; "cvv", "security code", "cryptogramme", "Prüfnummer"; "pin",
  "Geheimzahl"...), or, for an expiry or a CVV, right after a card or after another detail
  that follows one ("4111 ... 08/27 123"). Digits after "ending" or "last four" stay: the
  lost-card flow asks for a card's last four digits.
"""

from __future__ import annotations

import re

from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from nlp.pii.findings import ID_LABEL, Finding, preceded_by

_CARD_IIN = re.compile(r"4|5|6|3[04-9]|2(?:20[0-4]|22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)")
_DIGIT_RUN = re.compile(r"(?<![\w./,+])(?<!\w-)\d+(?:[ \-./,_|*]{1,3}\d+)*(?![\w/]|[.,]\d)")
_DIGITS = re.compile(r"\d+")
_CARD_WORDS = re.compile(
    r"\b(?:card|visa|master\s?card|amex|american\s+express|maestro|discover|debit|credit"
    r"|tarjeta|carte|\w*karte)\b",
    re.IGNORECASE,
)

_MONTH_YEAR = r"(?:0?[1-9]|1[0-2]) ?[/-] ?(?:20)?\d{2}"
_EXPIRY_END = r"(?![\w/:]|[.,/-]\d)"
# A code is not the start of a longer number, an amount or a duration.
_CODE_END = (
    r"(?![\w/:]|[.,/-]\d| ?\d+(?![\d/-])"
    r"| ?(?:[%£$€]|(?:gbp|eur|usd|pounds?|euros?|dollars?|quid|times|days?|weeks?|months?"
    r"|years?|minutes?|mins?|hours?|hrs?)\b))"
)
_VALUE_START = r"(?<![\w/.,:£$€-])"
_EXPIRY_WORDS = (
    r"exp\.?|expir\w*|valid\s+(?:thru|through|until|till|to)|good\s+thru|caduc\w*|venc\w*"
    r"|v[aá]lid[ao]\s+hasta|valable\s+jusqu|ablauf\w*|g[uü]ltig\s+bis|l[aä]uft\s+ab|verfall\w*"
)
_CVV_WORDS = (
    r"cvv2?|cvc2?|cv2|cid|csc|security\s+(?:code|number|digits)"
    r"|verification\s+(?:code|value|number)|(?:three|3|four|4)[-\s]digit\s+code"
    r"|(?:code|number|digits)\s+on\s+the\s+back"
    r"|c[oó]digo\s+(?:de\s+seguridad|cvv|cvc)|cryptogramme|code\s+de\s+s[eé]curit[eé]"
    r"|(?:karten)?pr[uü]f(?:nummer|ziffer|code)|sicherheitscode"
)
_PIN_WORDS = (
    r"pin(?:[-\s]?(?:number|code|nummer|no\.?))?|geheimzahl|code\s+confidentiel"
    r"|n[uú]mero\s+secreto|clave\s+secreta"
)


def _after_words(words: str, value: str, end: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b(?:{words})(?![\w-])(?P<gap>[^\d\n!?;]{{0,24}}?){_VALUE_START}(?P<value>{value}){end}",
        re.IGNORECASE,
    )


# Words between a label and digits that make the digits something else: a card's last four
# ("pin for the card ending 4821"), a time or a count ("pin blocked since 2019", "cvv failed
# after 3 tries").
_NOT_A_CODE = re.compile(
    r"\b(?:ending|ends|end|last|final|termin\w*|endziffer\w*|endet|finissant"
    r"|since|in|from|until|till|by|before|after|at|about|over|under|x|times)\b",
    re.IGNORECASE,
)
_DETAILS_AFTER_WORDS = {
    "EXPIRY": (_after_words(_EXPIRY_WORDS, _MONTH_YEAR, _EXPIRY_END), None),
    "CVV": (_after_words(_CVV_WORDS, r"\d{3,4}", _CODE_END), _NOT_A_CODE),
    "PIN": (_after_words(_PIN_WORDS, r"\d{4,6}", _CODE_END), _NOT_A_CODE),
}
_NEXT_DETAIL = re.compile(
    rf"(?:[\s,;:|()/-]|\b(?:and|y|et|und)\b|&){{0,6}}"
    rf"(?:(?:{_EXPIRY_WORDS}|{_CVV_WORDS})(?![\w-])[^\d\n!?;]{{0,12}}?)?{_VALUE_START}"
    rf"(?:(?P<expiry>{_MONTH_YEAR}){_EXPIRY_END}|(?P<code>\d{{3,4}}){_CODE_END})",
    re.IGNORECASE,
)
_CHAINED_DETAILS = 3
_MAX_CARD_DIGITS = 19
"""Also the most groups a card can have: the longest candidate tried from any start."""


def _printed(sizes: list[int]) -> bool:
    """Grouped as cards are printed: unbroken, Amex 4-6-5, Diners 4-6-4, or fours."""
    return (
        len(sizes) == 1
        or sizes in ([4, 6, 5], [4, 6, 4])
        or (len(sizes) >= 4 and all(s == 4 for s in sizes[:-1]) and sizes[-1] <= 4)
    )


def _is_card(
    text: str, groups: list[tuple[int, int]], luhn: CreditCardRecognizer, printed_only: bool
) -> bool:
    sizes = [end - start for start, end in groups]
    if not 13 <= sum(sizes) <= _MAX_CARD_DIGITS or (printed_only and not _printed(sizes)):
        return False
    separators = {text[a[1] : b[0]] for a, b in zip(groups, groups[1:], strict=False)}
    digits = "".join(text[start:end] for start, end in groups)
    return (
        len(separators) <= 1
        and bool(_CARD_IIN.match(digits))
        and bool(luhn.validate_result(digits))
    )


def _card_end(
    text: str, groups: list[tuple[int, int]], start: int, luhn: CreditCardRecognizer
) -> int | None:
    """The last group of the card that starts at group `start`, or None.

    Printed groupings first, the longest first; then any grouping, unless an identifier
    label without a card word comes right before it.
    """
    ends = range(min(len(groups) - 1, start + _MAX_CARD_DIGITS - 1), start - 1, -1)
    position = groups[start][0]
    labelled = preceded_by(text, position, ID_LABEL) and not preceded_by(
        text, position, _CARD_WORDS
    )
    for printed_only in (True, False) if not labelled else (True,):
        last = next(
            (j for j in ends if _is_card(text, groups[start : j + 1], luhn, printed_only)), None
        )
        if last is not None:
            return last
    return None


def _may_start(text: str, groups: list[tuple[int, int]], index: int) -> bool:
    """Whether a card may start at group `index`: the run's first group, or where the
    separator changes ("ref 123, 4111 1111 ..."); never inside an evenly separated run (a
    22-digit parcel tracking number holds Luhn-valid 16-digit stretches)."""
    if index == 0:
        return True
    before = text[groups[index - 1][1] : groups[index][0]]
    after = text[groups[index][1] : groups[index + 1][0]] if index + 1 < len(groups) else None
    return before != after


def find_cards(text: str, luhn: CreditCardRecognizer) -> list[Finding]:
    """Cards at the start of each run of digit groups, or where its separator changes.

    Later groups may be an expiry or a CVV, or the next card.
    """
    findings = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [m.span() for m in _DIGITS.finditer(text, run.start(), run.end())]
        i, after_card = 0, False
        while i < len(groups):
            may_start = after_card or _may_start(text, groups, i)
            last = _card_end(text, groups, i, luhn) if may_start else None
            if last is None:
                i, after_card = i + 1, False
                continue
            findings.append(Finding("CARD", groups[i][0], groups[last][1]))
            i, after_card = last + 1, True
    return findings


def find_card_details(text: str, found: list[Finding]) -> list[Finding]:
    """Expiry dates, CVVs and PINs after their words, and expiry and CVV after a card."""
    details = [
        Finding(kind, *m.span("value"))
        for kind, (pattern, not_the_value) in _DETAILS_AFTER_WORDS.items()
        for m in pattern.finditer(text)
        if not_the_value is None or not not_the_value.search(m["gap"])
    ]
    for card in (f for f in found if f.kind == "CARD"):
        position = card.end
        for _ in range(_CHAINED_DETAILS):
            match = _NEXT_DETAIL.match(text, position)
            if match is None:
                break
            kind, group = ("EXPIRY", "expiry") if match["expiry"] else ("CVV", "code")
            details.append(Finding(kind, *match.span(group)))
            position = match.end()
    return details
