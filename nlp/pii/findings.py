"""Findings, the order in which overlapping kinds win, and labels the detectors look behind."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import RecognizerResult

PLACEHOLDERS = {
    "CREDENTIALS": "[CREDENTIALS]",
    "EMAIL": "[EMAIL]",
    "IBAN": "[IBAN]",
    "CARD": "[CARD]",
    "NI_NUMBER": "[NI_NUMBER]",
    "SORT_CODE": "[SORT_CODE]",
    "ACCOUNT_NUMBER": "[ACCOUNT_NUMBER]",
    "IP_ADDRESS": "[IP_ADDRESS]",
    "EXPIRY": "[EXPIRY]",
    "CVV": "[CVV]",
    "PIN": "[PIN]",
    "PHONE": "[PHONE]",
}
# Overlap resolution order: the dict above lists kinds from most to least reliable.
PRIORITY = {kind: rank for rank, kind in enumerate(PLACEHOLDERS)}
# How far before a value its label may start ("sort code is ...", "order no. ...").
LABEL_WINDOW = 40
# Identifier labels: digits right after one are an order or reference number (an order number
# is often a valid US phone number).
ID_LABEL = re.compile(
    r"\b(?:order|ref|reference|invoice|inv|policy|tracking|transaction|txn|case|ticket|claim"
    r"|booking|parcel|consignment|customer|member|membership|account|acct|loan|mortgage"
    r"|payment|receipt|confirmation|id|serial)"
    r"(?:\s*(?:no\.?|number|num|id|code))?(?:\s+is)?\s*[:#.]?\s*$",
    re.IGNORECASE,
)
# A four-part version number is a valid IPv4 address and a dotted run of digits.
VERSION_LABEL = re.compile(r"\b(?:version|ver|v|build|release)\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """A span of personal data in the text it was found in."""

    kind: str
    start: int
    end: int


def preceded_by(text: str, start: int, label: re.Pattern[str], window: int = LABEL_WINDOW) -> bool:
    """Whether `label` matches in the `window` characters before `start`."""
    return bool(label.search(text[max(0, start - window) : start]))


def stripped(kind: str, text: str, start: int, end: int) -> Finding:
    """The span without surrounding spaces or an opening bracket that is not closed in it."""
    while start < end and (
        text[start].isspace() or (text[start] == "(" and ")" not in text[start:end])
    ):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Finding(kind, start, end)


def from_presidio(kind: str, text: str, results: list[RecognizerResult]) -> list[Finding]:
    return [stripped(kind, text, r.start, r.end) for r in results]


def resolve(candidates: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: the most reliable kind first, then the longest span."""
    kept: list[Finding] = []
    for candidate in sorted(candidates, key=lambda f: (PRIORITY[f.kind], f.start - f.end, f.start)):
        if candidate.end > candidate.start and all(
            candidate.end <= k.start or candidate.start >= k.end for k in kept
        ):
            kept.append(candidate)
    return sorted(kept, key=lambda f: f.start)


def replaced(text: str, findings: list[Finding], replacement: Callable[[Finding], str]) -> str:
    """`text` with each (sorted, non-overlapping) finding replaced."""
    parts, cursor = [], 0
    for finding in findings:
        parts += [text[cursor : finding.start], replacement(finding)]
        cursor = finding.end
    parts.append(text[cursor:])
    return "".join(parts)
