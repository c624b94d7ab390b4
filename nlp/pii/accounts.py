"""UK sort codes and account numbers (Presidio has no recognizer for them).

Alone they look like dates and order numbers, so a sort code or 8-digit account number only
counts next to its label or next to the other one.
"""

from __future__ import annotations

import re

from nlp.pii.findings import Finding, preceded_by

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


def sort_codes_and_accounts(text: str) -> list[Finding]:
    sort_codes = list(_SORT_CODE.finditer(text))
    accounts = list(_ACCOUNT.finditer(text))

    def adjacent(first: re.Match[str], second: re.Match[str]) -> bool:
        return first.end() <= second.start() and bool(
            _SORT_ACCOUNT_GAP.fullmatch(text[first.end() : second.start()])
        )

    findings = [
        Finding("SORT_CODE", s.start(), s.end())
        for s in sort_codes
        if preceded_by(text, s.start(), _SORT_LABEL) or any(adjacent(s, a) for a in accounts)
    ]
    findings += [
        Finding("ACCOUNT_NUMBER", a.start(), a.end())
        for a in accounts
        if preceded_by(text, a.start(), _ACCOUNT_LABEL) or any(adjacent(s, a) for s in sort_codes)
    ]
    return findings
