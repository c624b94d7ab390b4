"""E-mail addresses, URL credentials, IBANs, NI numbers and IP addresses.

Detection uses Microsoft Presidio's pattern recognizers, called directly on the text: no
`AnalyzerEngine`, so no spaCy model and nothing downloaded. Where Presidio was not enough:

- EMAIL: Presidio's `EmailRecognizer`. Its domain check calls `tldextract`, which fetches
  the public-suffix list from the internet on first use; here the check runs on the list
  bundled with tldextract instead (no network, no cache file).
- IBAN: Presidio's `IbanRecognizer` (mod-97 check, country format), then cut to the
  registry length of its country and checked again: Presidio only checks that the format
  matches a prefix (its formats for PT, QA, PS and MU are too short to be matched whole), so
  a word after an IBAN ("... 2273 BIC") was swallowed whenever the check passed (1 in 97).
  Its pattern is upper case only, and customers type "gb82west...": a country code not in
  capitals with its check digits right after it ("de 12 ..." is more likely a word and a
  number) is upper-cased for the check, with the rest of its country's length (no further:
  an upper-cased "and" after it would be read as part of it). Presidio's pattern also
  misses IBANs spelt out one character at a time ("G B 3 3 B U K B ...") or grouped with
  underscores ("GB33_BUKB_..."): any IBAN with an upper-case country code and single
  spaces, hyphens or underscores between any of its characters is checked in its compact
  form too.
- NI_NUMBER: Presidio's `UkNinoRecognizer`, without lower-case spaced forms ("on 12 34 56
  a" is more likely words than a national insurance number).
- IP_ADDRESS: Presidio's `IpRecognizer` for IPv4, except right after "version" or "build"
  (a four-part version number is a valid address). Its IPv6 pattern stops at the first
  "::" ("2001:db8::1" gives "2001:db8::"), so IPv6 is an own pattern checked by `ipaddress`.
- CREDENTIALS: the user:password part of a URL, an own pattern.

The raw text is never logged: Presidio's own logger, which can print a candidate IBAN when
its check fails, gets its arguments blanked.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from functools import lru_cache

import tldextract
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
)

from nlp.pii.findings import VERSION_LABEL, Finding, from_presidio, preceded_by

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

_IBAN_HINT = re.compile(r"[A-Z]{2}[ -]?\d{2}")
_CASUAL_IBAN_START = re.compile(r"\b[A-Za-z]{2}\d{2}")
_IBAN_SHAPE = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b", re.IGNORECASE
)
_LOOSE_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z][ _-]?[A-Z][ _-]?\d[ _-]?\d(?:[ _-]?[A-Za-z0-9])+")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s:/@]+:[^\s/@]+)@", re.IGNORECASE)


class _OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, its domain check on tldextract's bundled suffix list."""

    def __init__(self) -> None:
        super().__init__()
        self.suffixes = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool:
        return self.suffixes(pattern_text.rpartition("@")[2]).fqdn != ""


class Recognizers:
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
def recognizers() -> Recognizers:
    logging.getLogger("presidio-analyzer").addFilter(_BlankArguments())
    return Recognizers()


def emails_and_credentials(text: str, recognizer: EmailRecognizer) -> list[Finding]:
    found = from_presidio("EMAIL", text, recognizer.analyze(text, ["EMAIL_ADDRESS"]))
    return found + [Finding("CREDENTIALS", *m.span(1)) for m in _URL_CREDENTIALS.finditer(text)]


def ni_numbers(text: str, recognizer: UkNinoRecognizer) -> list[Finding]:
    findings = from_presidio("NI_NUMBER", text, recognizer.analyze(text, ["UK_NINO"]))
    return [f for f in findings if not (" " in text[f.start : f.end] and text[f.start].islower())]


def ip_addresses(text: str, recognizer: IpRecognizer) -> list[Finding]:
    findings = from_presidio("IP_ADDRESS", text, recognizer.analyze(text, ["IP_ADDRESS"]))
    findings = [f for f in findings if not preceded_by(text, f.start, VERSION_LABEL)]
    for match in _IPV6.finditer(text):
        if sum(1 for group in match[0].split(":") if group) < 2:
            continue
        try:
            ipaddress.IPv6Address(match[0])
        except ValueError:
            continue
        findings.append(Finding("IP_ADDRESS", *match.span()))
    return findings


def _casual_ibans_upper_cased(text: str) -> str:
    """`text` with IBANs typed in lower or mixed case upper-cased, offsets unchanged."""
    chars = list(text)
    for match in _CASUAL_IBAN_START.finditer(text):
        country = match[0][:2]
        wanted = IBAN_LENGTHS.get(country.upper())
        if country.isupper() or wanted is None:
            continue
        index, seen = match.start(), 0
        while (
            index < len(text) and seen < wanted and (text[index].isalnum() or text[index] in " -")
        ):
            seen += text[index].isalnum()
            chars[index] = text[index].upper() if text[index].isascii() else text[index]
            index += 1
    return "".join(chars)


def ibans(text: str, recognizer: IbanRecognizer) -> list[Finding]:
    """Presidio's IBANs in any letter case, cut to their country's length and checked again."""
    upper = _casual_ibans_upper_cased(text)
    findings = _loose_ibans(text, recognizer)
    if not _IBAN_HINT.search(upper):
        return findings
    for result in recognizer.analyze(upper, ["IBAN_CODE"]):
        wanted = IBAN_LENGTHS.get(upper[result.start : result.start + 2])
        end, seen = result.start, 0
        while end < result.end and seen != wanted:
            seen += upper[end].isalnum()
            end += 1
        if seen == wanted and recognizer.validate_result(upper[result.start : end]):
            findings.append(Finding("IBAN", result.start, end))
    return findings


def _loose_ibans(text: str, recognizer: IbanRecognizer) -> list[Finding]:
    """IBANs with a space, hyphen or underscore between any characters, checked compact."""
    findings = []
    for match in _LOOSE_IBAN.finditer(text):
        compact = [i for i in range(match.start(), match.end()) if text[i].isalnum()]
        wanted = IBAN_LENGTHS.get(text[compact[0]] + text[compact[1]])
        if wanted is None or len(compact) < wanted:
            continue
        end = compact[wanted - 1] + 1
        if end < len(text) and text[end].isalnum():
            continue
        iban = "".join(text[i] for i in compact[:wanted]).upper()
        if recognizer.validate_result(iban):
            findings.append(Finding("IBAN", match.start(), end))
    return findings


def outside_iban_shapes(text: str, candidates: list[Finding]) -> list[Finding]:
    """`candidates` not inside an IBAN-shaped string: a mistyped IBAN can hold a Luhn-valid
    run of digits, or a phone-shaped one."""
    shapes = [m.span() for m in _IBAN_SHAPE.finditer(text)]
    return [
        c for c in candidates if not any(start <= c.start and c.end <= end for start, end in shapes)
    ]
