"""Phone numbers: valid ones found by `phonenumbers`, the rest by shape and context.

- Valid numbers: Presidio's `PhoneRecognizer` (`phonenumbers`, numbers valid in their
  numbering plan; numbers written with a + or 00 prefix are found for any country). Its
  default regions spell the United Kingdom "UK", which `phonenumbers` does not know: UK
  national numbers were found only when they happened to be valid German, Indian or
  Brazilian numbers, plans that also accept many order numbers. Here the regions are GB and
  US, and a region's pass (about 1 ms) runs only when a digit run could be one of its
  national numbers.
- By shape: a number outside the allocated ranges (a drama number 07700 900xxx, a NANP 555
  number, a new mobile range) is still the customer's phone number. A run of digit groups
  is one when it starts with + (8-15 digits) or with 00 and a country code; when it has
  10-13 digits grouped like a national number ("020 7946 0958", "(415) 555-2671",
  "06.12.34.56.78", "07700_900_123") or is 10-11 unbroken digits starting with a trunk 0;
  or when it has 7-13 digits after a phone word ("call", "mobile", "Telefon", "móvil",
  "portable"...). Dates, times, amounts (a currency next to it, or thousands groups),
  dotted runs shaped like an IP address and runs starting with a year ("2024-000123") are
  not.
- Digits right after an identifier label ("order", "ref", "invoice"...) or "version" are not a
  phone number unless written with +: an order number is often a valid US number.
"""

from __future__ import annotations

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from nlp.pii.findings import ID_LABEL, VERSION_LABEL, Finding, from_presidio, preceded_by

_PHONE_HINT = re.compile(r"\+?\d(?:[\s().\-/_]{0,3}\d){6,}")
_GAP = r"(?: ?[-._] ?| )"
_PHONE_RUN = re.compile(
    rf"(?<![\w+@/:.,£$€#-])(?:\+ ?|\(\+?)?\d+\)?(?:(?:{_GAP}|(?<=\))|(?=\())\(?\d+\)?)*"
)
_BAD_RUN_END = re.compile(
    r"[\w@/:%]|[.,]\d| ?(?:[£$€]|(?:gbp|eur|usd|chf|pln|pounds?|euros?|dollars?)\b)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_LAST_SINGLE_DIGIT = re.compile(r"\d \d$")
_DATE = re.compile(r"\d{1,2}([ ./-])\d{1,2}\1(?:\d{4}|\d{2})|(?:19|20)\d\d([ ./-])\d{1,2}\2\d{1,2}")
_YEAR_FIRST = re.compile(r"\(?(?:19|20)\d\d(?!\d)")
_YEAR_AND_SEPARATOR = re.compile(r"(?:19|20)\d\d[-/.]")
# A number glued to a word ("INV-2024-000123", "T-4155552671") is a reference.
_IN_A_TOKEN = re.compile(r"[\w#]-?$")
_PHONE_WORDS = re.compile(
    r"\b(?:phone|mobile|mob|cell(?:phone)?|tel|telephone|landline|whats\s?app|call(?:ed|ing)?"
    r"|ring|text|sms|fax|contact|reach|dial|(?:my|new|home|work|daytime|other)\s+(?:number|no)"
    r"|tel[eé]fono|m[oó]vil|celular|llam\w*|fijo|t[eé]l[eé]phone|portable|appel\w*|joindre"
    r"|telefon\w*|handy\w*|mobil\w*|anruf\w*|rufnummer|festnetz\w*)\b",
    re.IGNORECASE,
)
_PHONE_WORD_WINDOW = 30


def _regions(text: str) -> set[str]:
    """Regions whose matcher pass can find the digit runs of `text` (each pass costs ~1 ms).

    A GB pass finds GB numbers (trunk prefix 0, or 44 without the +) and every number written
    with + or 00; a US pass finds the national numbers that start with 1-9.
    """
    regions = set()
    for hint in _PHONE_HINT.finditer(text):
        if hint[0].startswith(("+", "0", "44")):
            regions.add("GB")
        if hint[0][0] in "123456789":
            regions.add("US")
    return regions


def _valid_phones(text: str, recognizers: dict[str, PhoneRecognizer]) -> list[Finding]:
    findings = [
        finding
        for region in sorted(_regions(text))
        for finding in from_presidio(
            "PHONE", text, recognizers[region].analyze(text, ["PHONE_NUMBER"])
        )
    ]
    return [
        f
        for f in findings
        if not (
            preceded_by(text, f.start, ID_LABEL)
            or _IN_A_TOKEN.search(text[max(0, f.start - 2) : f.start])
            or _YEAR_AND_SEPARATOR.match(text, f.start)
        )
    ]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without an unmatched bracket at either end, brackets around all of it, or a
    last single digit ("07700 900123 2 days ago")."""
    if _LAST_SINGLE_DIGIT.search(text, start, end):
        end -= 2
    value = text[start:end]
    if value.startswith("(") and (")" not in value or value.index(")") == len(value) - 1):
        start += 1
    if text[end - 1] == ")" and "(" not in text[start:end]:
        end -= 1
    return start, end


def _has_country_code(digits: str) -> bool:
    return any(int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE for size in (1, 2, 3))


def _national_shape(value: str, groups: list[re.Match[str]], count: int) -> bool:
    """10-13 digits grouped like a national number, or 10-11 unbroken after a trunk 0."""
    if not 10 <= count <= 13:
        return False
    sizes = [len(g[0]) for g in groups]
    if len(groups) == 1:
        return count <= 11 and value.lstrip("(")[0] == "0"
    gaps = {
        value[a.end() : b.start()].strip() or " "
        for a, b in zip(groups, groups[1:], strict=False)
        if "(" not in value[a.end() : b.start()] and ")" not in value[a.end() : b.start()]
    }
    thousands = value.lstrip("(")[0] != "0" and all(size == 3 for size in sizes[1:])
    ip_shaped = gaps == {"."} and len(sizes) == 4 and max(sizes) <= 3
    return (
        len(gaps) <= 1
        and len(sizes) <= 6
        and max(sizes) <= 8
        and all(size >= 2 for size in sizes[1:])
        and (sizes[0] >= 2 or groups[0][0] == "1")
        and not thousands
        and not ip_shaped
        and not _YEAR_FIRST.match(value)
    )


def _shaped_phone(text: str, run: re.Match[str]) -> Finding | None:
    if _BAD_RUN_END.match(text, run.end()):
        return None
    start, end = _trimmed(text, *run.span())
    value = text[start:end]
    groups = list(_DIGITS.finditer(value))
    digits = "".join(g[0] for g in groups)
    if value.lstrip("(").startswith("+"):
        return Finding("PHONE", start, end) if 8 <= len(digits) <= 15 else None
    if preceded_by(text, start, ID_LABEL) or preceded_by(text, start, VERSION_LABEL):
        return None
    if digits.startswith("00") and len(digits) > 4 and _has_country_code(digits[2:]):
        phone = 8 <= len(digits) - 2 <= 15
    else:
        phone = (
            7 <= len(digits) <= 13
            and not _DATE.fullmatch(value)
            and preceded_by(text, start, _PHONE_WORDS, _PHONE_WORD_WINDOW)
        ) or _national_shape(value, groups, len(digits))
    return Finding("PHONE", start, end) if phone else None


def find_phones(text: str, recognizers: dict[str, PhoneRecognizer]) -> list[Finding]:
    """Valid phone numbers, and phone-shaped runs of digits where none was found."""
    if not _PHONE_HINT.search(text):
        return []
    valid = _valid_phones(text, recognizers)
    shaped = [f for run in _PHONE_RUN.finditer(text) if (f := _shaped_phone(text, run))]
    return valid + [s for s in shaped if all(s.end <= v.start or s.start >= v.end for v in valid)]
