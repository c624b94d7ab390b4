"""Customer data quality: normalised e-mails, phones and names, the fixes they imply, and
duplicate customers found by blocking and fuzzy name matching (rapidfuzz).

Decision rule for a duplicate, documented here because merging cannot be argued with later:
two customers are the same person when they share a normalised e-mail or phone number AND
their names are similar (rapidfuzz token-sort ratio >= `name_threshold`, 85 by default:
a typo or a re-ordering, not another person). Sharing a name alone is never enough (two
people called John Smith), nor is sharing a phone alone (a partner on the same landline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import combinations

import pandas as pd
import phonenumbers
from rapidfuzz import fuzz, utils
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NAME_PARTS = re.compile(r"([-' ])")
REGION = "GB"
COLUMNS = ("id", "name", "email", "phone", "city")


@dataclass(frozen=True)
class Fix:
    """One field a rule changes; `new` None clears an invalid value (it is kept in the trace)."""

    customer_id: int
    field: str
    old: str | None
    new: str | None
    rule: str


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip()


def normalise_email(value: str | None) -> str | None:
    """Lower-cased and stripped; None when blank. The shape is not checked here."""
    return None if _blank(value) else str(value).strip().lower()


def valid_email(value: str | None) -> bool:
    return value is not None and bool(EMAIL_SHAPE.match(value))


def normalise_phone(value: str | None, region: str = REGION) -> str | None:
    """E.164 (`+441214960260`), or None when it does not parse as a possible number."""
    if _blank(value):
        return None
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_name(value: str) -> str:
    """Single spaces, no padding; an all-lower or all-upper name is title-cased by part
    (`o'brien-smith` -> `O'Brien-Smith`). Mixed case is the customer's own and stays."""
    name = " ".join(str(value).split())
    if name.islower() or name.isupper():
        name = "".join(part.capitalize() for part in NAME_PARTS.split(name.lower()))
    return name


def name_key(value: str) -> str:
    """Lower-case letters of each word, words sorted: the blocking key for names."""
    return " ".join(sorted(utils.default_process(str(value)).split()))


def normalise_city(value: str | None) -> str | None:
    """Single spaces, no padding; blank is missing (None)."""
    return None if _blank(value) else " ".join(str(value).split())


def fixes(customers: pd.DataFrame) -> list[Fix]:
    """What the validation rules change, per customer and field. The normalisers are
    idempotent, so data they fixed yields no further fixes.

    Rules: `name_format` (padding, case), `email_format` (case, padding), `invalid_email`
    (no valid shape: cleared), `phone_format` (to E.164), `invalid_phone` (does not parse:
    cleared), `city_format` (padding), `blank_email`/`blank_phone`/`blank_city` (blank is
    missing: cleared). A cleared value stays in the trace.
    """
    return [
        Fix(int(row.id), field, _value(getattr(row, field)), new, rule)
        for row in customers[list(COLUMNS)].itertuples(index=False)
        for field, new, rule in _rules(row)
    ]


def _value(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _rules(row: tuple) -> Iterator[tuple[str, str | None, str]]:
    name = normalise_name(row.name)
    if name != row.name:
        yield "name", name, "name_format"
    for field in ("email", "phone", "city"):
        value = _value(getattr(row, field))
        if value is None:
            continue
        if not value.strip():
            yield field, None, f"blank_{field}"
        elif field == "email":
            new = normalise_email(value)
            if not valid_email(new):
                yield field, None, "invalid_email"
            elif new != value:
                yield field, new, "email_format"
        elif field == "phone":
            new = normalise_phone(value)
            if new is None:
                yield field, None, "invalid_phone"
            elif new != value:
                yield field, new, "phone_format"
        elif normalise_city(value) != value:
            yield field, normalise_city(value), "city_format"


def missing(
    customers: pd.DataFrame, fields: Iterable[str] = ("email", "phone", "city")
) -> dict[str, int]:
    """How many customers have no value, per field."""
    return {field: int(customers[field].map(_blank).sum()) for field in fields}


class DuplicateFinder(BaseEstimator):
    """Candidate pairs by blocking on normalised e-mail, phone and name key; each scored with
    rapidfuzz and decided by the rule in this module's docstring.

    `fit(customers)` takes a frame with `id, name, email, phone, city`. Learned:
    `candidates_` (every pair sharing a block: `left_id, right_id, score, name_similarity,
    matched_on, duplicate`), `pairs_` (the duplicates, each merged customer once, into the
    oldest id of its group: `kept_id, merged_id, score, matched_on`) and `skipped_blocks_`:
    blocks larger than `max_block` (a shared office e-mail, a very common name) say nothing
    about who is who and would cost a quadratic number of comparisons, so they are left out.
    """

    def __init__(
        self, name_threshold: float = 85.0, region: str = REGION, max_block: int = 50
    ) -> None:
        self.name_threshold = name_threshold
        self.region = region
        self.max_block = max_block

    def fit(self, customers: pd.DataFrame) -> DuplicateFinder:
        frame = pd.DataFrame(
            {
                "id": customers["id"].astype(int),
                "name": customers["name"].map(lambda v: normalise_name(v).lower()),
                "email": customers["email"].map(normalise_email),
                "phone": customers["phone"].map(lambda v: normalise_phone(v, self.region)),
                "name_key": customers["name"].map(name_key),
            }
        ).set_index("id", drop=False)
        shared: dict[tuple[int, int], set[str]] = {}
        self.skipped_blocks_: list[tuple[str, str, int]] = []
        for field, block in (("email", "email"), ("phone", "phone"), ("name", "name_key")):
            for key, ids in frame.dropna(subset=[block]).groupby(block)["id"]:
                if len(ids) > self.max_block:
                    self.skipped_blocks_.append((field, str(key), len(ids)))
                    continue
                for pair in combinations(sorted(ids), 2):
                    shared.setdefault(pair, set()).add(field)
        rows = [self._score(frame, pair, matched) for pair, matched in sorted(shared.items())]
        self.candidates_ = pd.DataFrame(
            rows,
            columns=["left_id", "right_id", "score", "name_similarity", "matched_on", "duplicate"],
        )
        # .loc with a boolean mask: an empty frame's object column would be read as labels.
        self.pairs_ = self._groups(self.candidates_.loc[self.candidates_["duplicate"].astype(bool)])
        return self

    def _score(
        self, frame: pd.DataFrame, pair: tuple[int, int], matched: set[str]
    ) -> tuple[int, int, float, float, list[str], bool]:
        left, right = frame.loc[pair[0]], frame.loc[pair[1]]
        similarity = fuzz.token_sort_ratio(
            left["name"], right["name"], processor=utils.default_process
        )
        contact = bool(matched & {"email", "phone"})
        if similarity >= self.name_threshold:
            matched = matched | {"name"}
        score = 0.5 * similarity / 100 + 0.25 * ("email" in matched) + 0.25 * ("phone" in matched)
        duplicate = contact and similarity >= self.name_threshold
        return pair[0], pair[1], round(score, 4), round(similarity, 2), sorted(matched), duplicate

    @staticmethod
    def _groups(duplicates: pd.DataFrame) -> pd.DataFrame:
        """Connected duplicates form one person: every other id merges into the oldest."""
        parent: dict[int, int] = {}

        def root(node: int) -> int:
            while parent.setdefault(node, node) != node:
                node = parent[node]
            return node

        for left, right in duplicates[["left_id", "right_id"]].itertuples(index=False):
            a, b = root(left), root(right)
            parent[max(a, b)] = min(a, b)
        best: dict[int, tuple[float, list[str]]] = {}
        for row in duplicates.itertuples(index=False):
            for member in (row.left_id, row.right_id):
                if member != root(member) and row.score > best.get(member, (-1.0, []))[0]:
                    best[member] = (row.score, row.matched_on)
        return pd.DataFrame(
            [(root(m), m, score, matched) for m, (score, matched) in sorted(best.items())],
            columns=["kept_id", "merged_id", "score", "matched_on"],
        )

    def duplicates(self) -> list[tuple[int, int, float, list[str]]]:
        """The merges to make: (kept_id, merged_id, score, matched_on), oldest kept."""
        check_is_fitted(self, "pairs_")
        return [
            (int(kept), int(merged), float(score), list(matched))
            for kept, merged, score, matched in self.pairs_.itertuples(index=False)
        ]
