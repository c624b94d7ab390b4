"""Redact personal data before a message is stored, logged or indexed.

Detection runs on a normalised copy of the text (`nlp.pii.normalise`: NFKC, plain spaces, no
zero-width characters) and each finding is mapped back, so the redaction replaces the
characters the customer typed. The detectors, one module per concern:

- `nlp.pii.identifiers`: EMAIL, CREDENTIALS, IBAN (any letter case), NI_NUMBER, IP_ADDRESS
  (Presidio's pattern recognizers with their gaps filled);
- `nlp.pii.cards`: CARD (Luhn), and EXPIRY, CVV and PIN after their words or a card;
- `nlp.pii.accounts`: SORT_CODE and ACCOUNT_NUMBER, next to their labels or each other;
- `nlp.pii.phones`: PHONE, valid numbers and phone-shaped ones.

When findings overlap, the more reliable kind wins (checksums before shapes, phones last),
then the longer span. What must stay stays: a card's last four digits on their own, amounts,
dates, times, years, and order or reference numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.pii.accounts import sort_codes_and_accounts
from nlp.pii.cards import find_card_details, find_cards
from nlp.pii.findings import PLACEHOLDERS, Finding, replaced, resolve
from nlp.pii.identifiers import (
    emails_and_credentials,
    ibans,
    ip_addresses,
    ni_numbers,
    outside_iban_shapes,
    recognizers,
)
from nlp.pii.normalise import normalised
from nlp.pii.phones import find_phones

__all__ = [
    "CARD_LAST_FOUR",
    "PLACEHOLDERS",
    "Finding",
    "Redaction",
    "find_pii",
    "redact",
    "redact_text",
]

# What a card becomes when its last four digits are kept; the lost-card flow reads them back.
CARD_LAST_FOUR = re.compile(r"\[CARD ending (\d{4})\]")
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found, with spans into the original text."""

    text: str
    findings: list[Finding]


def _find(text: str) -> list[Finding]:
    """Findings in already normalised text."""
    has_at, has_digit = "@" in text, bool(_HAS_DIGIT.search(text))
    if not (has_at or has_digit):
        return []
    found = recognizers()
    candidates: list[Finding] = []
    if has_at:
        candidates += emails_and_credentials(text, found.email)
    if not has_digit:
        return resolve(candidates)
    candidates += ibans(text, found.iban)
    candidates += outside_iban_shapes(text, find_cards(text, found.luhn))
    candidates += sort_codes_and_accounts(text) + ni_numbers(text, found.nino)
    candidates += ip_addresses(text, found.ipv4)
    kept = resolve(candidates)
    kept = resolve(kept + find_card_details(text, kept))
    # Phones last, on the text with the other findings blanked: a phone loses every overlap,
    # and its matcher is the slow part.
    blanked = replaced(text, kept, lambda f: " " * (f.end - f.start))
    return resolve(kept + outside_iban_shapes(text, find_phones(blanked, found.phones)))


def find_pii(text: str) -> list[Finding]:
    """Spans of personal data in `text`, sorted and non-overlapping."""
    normal = normalised(text)
    return [Finding(f.kind, *normal.original_span(f.start, f.end)) for f in _find(normal.text)]


def _placeholder(finding: Finding, text: str, keep_card_last_four: bool) -> str:
    if finding.kind == "CARD" and keep_card_last_four:
        digits = re.sub(r"[^0-9]", "", normalised(text[finding.start : finding.end]).text)
        return f"[CARD ending {digits[-4:]}]"
    return PLACEHOLDERS[finding.kind]


def redact(text: str, keep_card_last_four: bool = True) -> Redaction:
    """`text` with each piece of personal data replaced by a typed placeholder.

    A card becomes `[CARD ending 1234]` when `keep_card_last_four` (the lost-card flow needs
    the last four digits; `CARD_LAST_FOUR` reads them back), otherwise `[CARD]`.
    """
    findings = find_pii(text)
    redacted = replaced(text, findings, lambda f: _placeholder(f, text, keep_card_last_four))
    return Redaction(redacted, findings)


def redact_text(text: str) -> str:
    """The redacted text alone, card last four kept."""
    return redact(text).text
