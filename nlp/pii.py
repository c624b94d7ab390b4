"""Redact personal data before a message is stored, logged or indexed.

Detection uses Microsoft Presidio's pattern recognizers, called directly on the text: no
`AnalyzerEngine`, so no spaCy model and nothing downloaded. Each kind, and where Presidio
was not enough:

- EMAIL: Presidio's `EmailRecognizer`. Its domain check calls `tldextract`, which fetches
  the public-suffix list from the internet on first use; here the check runs on the list
  bundled with tldextract instead (no network, no cache file).
- PHONE: Presidio's `PhoneRecognizer` (`phonenumbers`, numbers valid in their numbering plan;
  numbers written with a + or 00 prefix are found for any country). Its default regions
  spell the United Kingdom "UK", which `phonenumbers` does not know: UK national numbers
  were found only when they happened to be valid German, Indian or Brazilian numbers, plans
  that also accept many order numbers. Here the regions are GB and US, and a region's pass
  (about 1 ms) runs only when a digit run could be one of its national numbers. Own
  addition: digits right after an identifier label ("order", "ref", "invoice"...) are not
  a phone number, since an order number is often a valid US number.
- CARD: Presidio's Luhn check (`CreditCardRecognizer.validate_result`) on own candidates.
  Presidio's pattern misses 2-series Mastercards (2221-2720) and 18-19 digit cards
  (Maestro, UnionPay, Visa), so candidates are runs of card-shaped digit groups (13-19
  digits, as printed: 4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4, or unbroken) starting with an
  issuer prefix, at the start of a run of digit groups; a card followed by more digits (a
  CVV, "2 days") is still found. Cards inside IBAN-shaped strings and right after a + (an
  international phone number) are not cards.
- IBAN: Presidio's `IbanRecognizer` (mod-97 check, country format), then cut to the
  registry length of its country and checked again: Presidio only checks that the format
  matches a prefix (its formats for PT, QA, PS and MU are too short to be matched whole), so
  a word after an IBAN ("... 2273 BIC") was swallowed whenever the check passed (1 in 97).
- NI_NUMBER: Presidio's `UkNinoRecognizer`, without lower-case spaced forms ("on 12 34 56
  a" is more likely words than a national insurance number).
- IP_ADDRESS: Presidio's `IpRecognizer` for IPv4, except right after "version" or "build"
  (a four-part version number is a valid address). Its IPv6 pattern stops at the first
  "::" ("2001:db8::1" gives "2001:db8::"), so IPv6 is an own pattern checked by `ipaddress`.
- SORT_CODE, ACCOUNT_NUMBER, CREDENTIALS: own patterns, Presidio has none. A UK sort code or
  8-digit account number only counts next to its label or next to each other, because
  alone they look like dates and order numbers; CREDENTIALS is the user:password part of a
  URL.

When findings overlap, the more reliable kind wins (checksums before shapes, phones last),
then the longer span. The raw text is never logged: Presidio's own logger, which can print a
candidate IBAN when its check fails, gets its arguments blanked.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import tldextract
from presidio_analyzer import RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
)

PLACEHOLDERS = {
    "CREDENTIALS": "[CREDENTIALS]",
    "EMAIL": "[EMAIL]",
    "IBAN": "[IBAN]",
    "CARD": "[CARD]",
    "NI_NUMBER": "[NI_NUMBER]",
    "SORT_CODE": "[SORT_CODE]",
    "ACCOUNT_NUMBER": "[ACCOUNT_NUMBER]",
    "IP_ADDRESS": "[IP_ADDRESS]",
    "PHONE": "[PHONE]",
}
# Overlap resolution order: the dict above lists kinds from most to least reliable.
PRIORITY = {kind: rank for rank, kind in enumerate(PLACEHOLDERS)}
# What a card becomes when its last four digits are kept; the lost-card flow reads them back.
CARD_LAST_FOUR = re.compile(r"\[CARD ending (\d{4})\]")
# IBAN length per country, from the ISO 13616 registry.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TL": 23, "TN": 24, "TR": 26, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_HAS_DIGIT = re.compile(r"\d")
_PHONE_HINT = re.compile(r"\+?\d(?:[\s().\-/]{0,3}\d){6,}")
_IBAN_HINT = re.compile(r"[A-Z]{2}[ -]?\d{2}")
_IBAN_SHAPE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b")
_DIGIT_RUN = re.compile(r"(?<![\w./,+])(?<!\w-)\d+(?:[ -]\d+)*(?![\w/]|[.,]\d)")
_DIGITS = re.compile(r"\d+")
_CARD_IIN = re.compile(r"4|5|6|3[04-9]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)")
_ID_LABEL = re.compile(
    r"\b(?:order|ref|reference|invoice|inv|policy|tracking|transaction|txn|case|ticket|claim"
    r"|booking|parcel|consignment|customer|member|membership|account|acct|loan|mortgage"
    r"|payment|receipt|confirmation|id|serial)"
    r"(?:\s*(?:no\.?|number|num|id|code))?(?:\s+is)?\s*[:#.]?\s*$",
    re.IGNORECASE,
)
_VERSION_LABEL = re.compile(r"\b(?:version|ver|v|build|release)\.?\s*$", re.IGNORECASE)
_SORT_CODE = re.compile(r"(?<![\w-])\d{2}([- ]?)\d{2}\1\d{2}(?![\w-])")
_ACCOUNT = re.compile(r"(?<![\w-])\d{8}(?![\w-])")
_SORT_LABEL = re.compile(r"\bsort[\s-]?code(?:\s+is)?\W{0,3}$", re.IGNORECASE)
_ACCOUNT_LABEL = re.compile(
    r"\b(?:account|acct|acc|a/c)(?:\s*(?:no\.?|number|num|#))?(?:\s+is)?\W{0,3}$", re.IGNORECASE
)
_SORT_ACCOUNT_GAP = re.compile(
    r"[\s,;:/-]*(?:(?:account|acct|acc|a/c)(?:\s*(?:no\.?|number|num|#))?)?[\s,;:./-]*",
    re.IGNORECASE,
)
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s:/@]+:[^\s/@]+)@", re.IGNORECASE)
_LABEL_WINDOW = 40


@dataclass(frozen=True)
class Finding:
    """A span of personal data in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found, with spans into the original text."""

    text: str
    findings: list[Finding]


class _OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, its domain check on tldextract's bundled suffix list."""

    def __init__(self) -> None:
        super().__init__()
        self.suffixes = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return self.suffixes(pattern_text.rpartition("@")[2]).fqdn != ""


class _Recognizers:
    """Presidio recognizers, built once per process (their regexes compile lazily)."""

    def __init__(self) -> None:
        self.email = _OfflineEmailRecognizer()
        self.phones = {
            region: PhoneRecognizer(supported_regions=(region,)) for region in ("GB", "US")
        }
        self.luhn = CreditCardRecognizer()
        self.iban = IbanRecognizer()
        self.nino = UkNinoRecognizer()
        self.ipv4 = IpRecognizer(patterns=[p for p in IpRecognizer.PATTERNS if p.name == "IPv4"])


class _BlankArguments(logging.Filter):
    """Drop the arguments of log records, which may carry a piece of a message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg, record.args = f"{record.msg} (arguments withheld)", ()
        return True


@lru_cache(maxsize=1)
def _recognizers() -> _Recognizers:
    logging.getLogger("presidio-analyzer").addFilter(_BlankArguments())
    return _Recognizers()


def _stripped(kind: str, text: str, start: int, end: int) -> Finding:
    """The span without surrounding spaces or an opening bracket that is not closed in it."""
    while start < end and (
        text[start].isspace() or (text[start] == "(" and ")" not in text[start:end])
    ):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Finding(kind, start, end)


def _from_presidio(kind: str, text: str, results: list[RecognizerResult]) -> list[Finding]:
    return [_stripped(kind, text, r.start, r.end) for r in results]


def _is_card(text: str, groups: list[tuple[int, int]], luhn: CreditCardRecognizer) -> bool:
    sizes = [end - start for start, end in groups]
    if not 13 <= sum(sizes) <= 19:
        return False
    separators = {text[a[1] : b[0]] for a, b in zip(groups, groups[1:], strict=False)}
    if len(separators) > 1:
        return False
    shaped = (
        len(sizes) == 1
        or sizes in ([4, 6, 5], [4, 6, 4])
        or (len(sizes) >= 4 and all(s == 4 for s in sizes[:-1]) and sizes[-1] <= 4)
    )
    digits = "".join(text[start:end] for start, end in groups)
    return shaped and bool(_CARD_IIN.match(digits)) and bool(luhn.validate_result(digits))


def _cards(text: str, luhn: CreditCardRecognizer) -> list[Finding]:
    """Cards at the start of each run of digit groups, longest first.

    Later groups may be an expiry or a CVV; a card never starts inside a run (a 22-digit
    parcel tracking number holds Luhn-valid 16-digit stretches).
    """
    findings = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [m.span() for m in _DIGITS.finditer(text, run.start(), run.end())]
        i = 0
        while i < len(groups):
            ends = range(len(groups) - 1, i - 1, -1)
            last = next((j for j in ends if _is_card(text, groups[i : j + 1], luhn)), None)
            if last is None:
                break
            findings.append(Finding("CARD", groups[i][0], groups[last][1]))
            i = last + 1
    return findings


def _phone_regions(text: str) -> set[str]:
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


def _phones(text: str, recognizers: dict[str, PhoneRecognizer]) -> list[Finding]:
    findings = [
        finding
        for region in sorted(_phone_regions(text))
        for finding in _from_presidio(
            "PHONE", text, recognizers[region].analyze(text, ["PHONE_NUMBER"])
        )
    ]
    return [
        f for f in findings if not _ID_LABEL.search(text[max(0, f.start - _LABEL_WINDOW) : f.start])
    ]


def _sort_codes_and_accounts(text: str) -> list[Finding]:
    sort_codes = list(_SORT_CODE.finditer(text))
    accounts = list(_ACCOUNT.finditer(text))

    def adjacent(first: re.Match[str], second: re.Match[str]) -> bool:
        return first.end() <= second.start() and bool(
            _SORT_ACCOUNT_GAP.fullmatch(text[first.end() : second.start()])
        )

    def labelled(match: re.Match[str], label: re.Pattern[str]) -> bool:
        return bool(label.search(text[max(0, match.start() - _LABEL_WINDOW) : match.start()]))

    findings = [
        Finding("SORT_CODE", s.start(), s.end())
        for s in sort_codes
        if labelled(s, _SORT_LABEL) or any(adjacent(s, a) for a in accounts)
    ]
    findings += [
        Finding("ACCOUNT_NUMBER", a.start(), a.end())
        for a in accounts
        if labelled(a, _ACCOUNT_LABEL) or any(adjacent(s, a) for s in sort_codes)
    ]
    return findings


def _ni_numbers(text: str, recognizer: UkNinoRecognizer) -> list[Finding]:
    findings = _from_presidio("NI_NUMBER", text, recognizer.analyze(text, ["UK_NINO"]))
    return [f for f in findings if not (" " in text[f.start : f.end] and text[f.start].islower())]


def _ipv4(text: str, recognizer: IpRecognizer) -> list[Finding]:
    findings = _from_presidio("IP_ADDRESS", text, recognizer.analyze(text, ["IP_ADDRESS"]))
    return [
        f
        for f in findings
        if not _VERSION_LABEL.search(text[max(0, f.start - _LABEL_WINDOW) : f.start])
    ]


def _ipv6(text: str) -> list[Finding]:
    findings = []
    for match in _IPV6.finditer(text):
        if sum(1 for group in match[0].split(":") if group) < 2:
            continue
        try:
            ipaddress.IPv6Address(match[0])
        except ValueError:
            continue
        findings.append(Finding("IP_ADDRESS", *match.span()))
    return findings


def _ibans(text: str, recognizer: IbanRecognizer) -> list[Finding]:
    """Presidio's IBANs cut to their country's length, the cut one checked again."""
    findings = []
    for result in recognizer.analyze(text, ["IBAN_CODE"]):
        wanted = IBAN_LENGTHS.get(text[result.start : result.start + 2].upper())
        end, seen = result.start, 0
        while end < result.end and seen != wanted:
            seen += text[end].isalnum()
            end += 1
        if seen == wanted and recognizer.validate_result(text[result.start : end]):
            findings.append(Finding("IBAN", result.start, end))
    return findings


def _outside_iban_shapes(text: str, candidates: list[Finding]) -> list[Finding]:
    """Drop cards inside IBAN-shaped strings: a mistyped IBAN can hold a Luhn-valid run."""
    shapes = [m.span() for m in _IBAN_SHAPE.finditer(text)]
    return [
        c
        for c in candidates
        if c.kind != "CARD" or not any(start <= c.start and c.end <= end for start, end in shapes)
    ]


def _resolve(candidates: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: the most reliable kind first, then the longest span."""
    kept: list[Finding] = []
    for candidate in sorted(candidates, key=lambda f: (PRIORITY[f.kind], f.start - f.end, f.start)):
        if candidate.end > candidate.start and all(
            candidate.end <= k.start or candidate.start >= k.end for k in kept
        ):
            kept.append(candidate)
    return sorted(kept, key=lambda f: f.start)


def find_pii(text: str) -> list[Finding]:
    """Spans of personal data in `text`, sorted and non-overlapping."""
    has_at, has_digit = "@" in text, bool(_HAS_DIGIT.search(text))
    if not (has_at or has_digit):
        return []
    recognizers = _recognizers()
    candidates: list[Finding] = []
    if has_at:
        candidates += _from_presidio(
            "EMAIL", text, recognizers.email.analyze(text, ["EMAIL_ADDRESS"])
        )
        candidates += [Finding("CREDENTIALS", *m.span(1)) for m in _URL_CREDENTIALS.finditer(text)]
    if has_digit:
        candidates += _cards(text, recognizers.luhn)
        candidates += _sort_codes_and_accounts(text)
        candidates += _ni_numbers(text, recognizers.nino)
        candidates += _ipv4(text, recognizers.ipv4)
        candidates += _ipv6(text)
        if _IBAN_HINT.search(text):
            candidates += _ibans(text, recognizers.iban)
            candidates = _outside_iban_shapes(text, candidates)
    found = _resolve(candidates)
    if not has_digit:
        return found
    # Phones last, on the text with the other findings blanked: a phone loses every overlap,
    # and its matcher is the slow part.
    blanked = _replaced(text, found, lambda f: " " * (f.end - f.start))
    return _resolve(found + _phones(blanked, recognizers.phones))


def _replaced(text: str, findings: list[Finding], replacement: Callable[[Finding], str]) -> str:
    parts, cursor = [], 0
    for finding in findings:
        parts += [text[cursor : finding.start], replacement(finding)]
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)


def _placeholder(finding: Finding, text: str, keep_card_last_four: bool) -> str:
    if finding.kind == "CARD" and keep_card_last_four:
        digits = re.sub(r"\D", "", text[finding.start : finding.end])
        return f"[CARD ending {digits[-4:]}]"
    return PLACEHOLDERS[finding.kind]


def redact(text: str, keep_card_last_four: bool = True) -> Redaction:
    """`text` with each piece of personal data replaced by a typed placeholder.

    A card becomes `[CARD ending 1234]` when `keep_card_last_four` (the lost-card flow needs
    the last four digits; `CARD_LAST_FOUR` reads them back), otherwise `[CARD]`.
    """
    findings = find_pii(text)
    redacted = _replaced(text, findings, lambda f: _placeholder(f, text, keep_card_last_four))
    return Redaction(redacted, findings)


def redact_text(text: str) -> str:
    """The redacted text alone, card last four kept."""
    return redact(text).text
