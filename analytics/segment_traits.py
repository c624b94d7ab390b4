"""What a segment is, in words: traits from its centroid's z-scores, then a name and a
description generated from them.

A trait is a direction relative to everyone (z-scores of the log-scaled, standardised
features), so "high value" means "spends well above the typical customer" on any data set,
and the strategies job can derive a treatment from the traits alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bot.crm.enums import SegmentTrait

TRAIT_Z = 0.5
"""A centroid half a standard deviation from everyone's mean shows a trait."""
STRONG_Z = 1.5
"""From here the name says "very" (or its equivalent)."""

WORDS: dict[SegmentTrait, tuple[str, str]] = {
    SegmentTrait.NEW: ("new customers", "new customers"),
    SegmentTrait.HIGH_VALUE: ("high value", "very high value"),
    SegmentTrait.LOW_VALUE: ("low value", "very low value"),
    SegmentTrait.LONG_STANDING: ("long-standing", "long-standing"),
    SegmentTrait.ACTIVE: ("active", "very active"),
    SegmentTrait.DORMANT: ("dormant", "long dormant"),
    SegmentTrait.AT_RISK: ("at risk", "at risk"),
    SegmentTrait.SATISFIED: ("satisfied", "very satisfied"),
    SegmentTrait.DIGITAL: ("digital", "digital"),
    SegmentTrait.PREFERS_PHONE: ("prefer phone", "prefer phone"),
    SegmentTrait.PREFERS_EMAIL: ("prefer email", "prefer email"),
    SegmentTrait.PREFERS_BRANCH: ("prefer a branch", "prefer a branch"),
}
"""Plain and strong wording, in the order the words appear in a name."""
TYPICAL = "Typical customers"
CHANNEL_TRAITS = frozenset(
    {
        SegmentTrait.DIGITAL,
        SegmentTrait.PREFERS_PHONE,
        SegmentTrait.PREFERS_EMAIL,
        SegmentTrait.PREFERS_BRANCH,
    }
)
OVERRIDES = (
    (SegmentTrait.AT_RISK, SegmentTrait.SATISFIED),
    (SegmentTrait.NEW, SegmentTrait.DORMANT),
)


@dataclass(frozen=True)
class SegmentSummary:
    """One cluster described: `profile` is the JSON the CRM stores with the segment."""

    label: int
    size: int
    traits: tuple[SegmentTrait, ...]
    name: str
    description: str
    profile: dict[str, Any]


def trait_strengths(z: Mapping[str, float]) -> dict[SegmentTrait, float]:
    """How strongly a centroid shows each trait its features can speak to (in z units).

    Opposite traits are negatives of one score. At risk is the worse of dissatisfaction
    (low sentiment and CSAT, many handoffs) and lapsing value (high spend, long since the
    last transaction), so plain RFM data can show it too.
    """

    def mean(*terms: float | None) -> float | None:
        present = [term for term in terms if term is not None and not math.isnan(term)]
        return sum(present) / len(present) if present else None

    def get(name: str, sign: float = 1.0) -> float | None:
        value = z.get(name)
        return None if value is None else sign * value

    value = get("monetary")
    tenure = get("tenure_days")
    dormancy = mean(get("recency_days"), get("frequency", -1))
    unhappy = mean(get("sentiment", -1), get("csat", -1), get("handoffs"))
    lapsing = min(value, get("recency_days")) if value is not None and "recency_days" in z else None
    risk = max((s for s in (unhappy, lapsing) if s is not None), default=None)
    scores: dict[SegmentTrait, float | None] = {
        SegmentTrait.HIGH_VALUE: value,
        SegmentTrait.LOW_VALUE: None if value is None else -value,
        SegmentTrait.NEW: None if tenure is None else -tenure,
        SegmentTrait.LONG_STANDING: tenure,
        SegmentTrait.ACTIVE: None if dormancy is None else -dormancy,
        SegmentTrait.DORMANT: dormancy,
        SegmentTrait.AT_RISK: risk,
        SegmentTrait.SATISFIED: None if unhappy is None else -unhappy,
        SegmentTrait.DIGITAL: get("share_chat"),
        SegmentTrait.PREFERS_PHONE: get("share_phone"),
        SegmentTrait.PREFERS_EMAIL: get("share_email"),
        SegmentTrait.PREFERS_BRANCH: get("share_branch"),
    }
    return {trait: round(score, 4) for trait, score in scores.items() if score is not None}


def traits_of(strengths: Mapping[SegmentTrait, float]) -> tuple[SegmentTrait, ...]:
    """The traits shown, strongest first. At risk overrides satisfied, and new overrides
    dormant: a customer of a few weeks has few transactions because they just arrived."""
    shown = [trait for trait, score in strengths.items() if score >= TRAIT_Z]
    for winner, loser in OVERRIDES:
        if winner in shown and loser in shown:
            shown.remove(loser)
    return tuple(sorted(shown, key=lambda trait: -strengths[trait]))


def name_for(
    traits: Sequence[SegmentTrait], strengths: Mapping[SegmentTrait, float], words: int
) -> str:
    """`words` traits as a phrase in reading order: "High value, at risk".

    Value, newness and risk are what a strategy turns on, so they are named first; then the
    strongest other traits, and the channel only when nothing else stands out.
    """
    ranked = sorted(traits, key=lambda trait: (_salience(trait), -strengths[trait]))
    chosen = sorted(ranked[:words], key=list(WORDS).index)
    if not chosen:
        return TYPICAL
    parts = [WORDS[trait][strengths[trait] >= STRONG_Z] for trait in chosen]
    text = ", ".join(parts)
    return text[0].upper() + text[1:]


def _salience(trait: SegmentTrait) -> int:
    if trait in (SegmentTrait.HIGH_VALUE, SegmentTrait.LOW_VALUE, SegmentTrait.NEW):
        return 0
    if trait is SegmentTrait.AT_RISK:
        return 1
    if trait in CHANNEL_TRAITS:
        return 3
    return 2


def summarise_segments(
    frame: pd.DataFrame,
    scaled: np.ndarray,
    log_space: np.ndarray,
    labels: np.ndarray,
    currency: str = "£",
) -> list[SegmentSummary]:
    """Traits, a unique name, a description and the stored profile of every cluster.

    `frame` holds the raw features (for the means a description quotes), `scaled` their
    z-scores (the centroid's z-scores give the traits) and `log_space` the unstandardised
    values the next run matches centroids in.
    """
    columns = list(frame.columns)
    raw = frame.reset_index(drop=True).assign(_label=labels).groupby("_label").mean()
    z = pd.DataFrame(scaled, columns=columns).assign(_label=labels).groupby("_label").mean()
    centroid = (
        pd.DataFrame(log_space, columns=columns).assign(_label=labels).groupby("_label").mean()
    )
    sizes = pd.Series(labels).value_counts()
    summaries = []
    taken: set[str] = set()
    for label in sizes.index:
        zs = {column: float(z.at[label, column]) for column in columns}
        strengths = trait_strengths(zs)
        traits = traits_of(strengths)
        name = _unique_name(traits, strengths, taken)
        size = int(sizes[label])
        means = {column: _json_float(raw.at[label, column]) for column in columns}
        profile = {
            "features": {
                column: {"mean": means[column], "z": round(zs[column], 4)} for column in columns
            },
            "centroid": {column: float(centroid.at[label, column]) for column in columns},
            "traits": [trait.value for trait in traits],
            "trait_strengths": {trait.value: score for trait, score in strengths.items()},
            "share": round(size / len(labels), 4),
        }
        description = describe(size, len(labels), means, currency)
        summaries.append(SegmentSummary(int(label), size, traits, name, description, profile))
    return summaries


def describe(size: int, total: int, means: Mapping[str, float | None], currency: str) -> str:
    """One sentence of what the segment's average customer looks like, from raw means."""
    clauses = []
    tenure = means.get("tenure_days")
    if tenure is not None:
        years = tenure / 365
        clauses.append(
            f"customers for {years:.1f} years" if years >= 1 else f"customers for {tenure:.0f} days"
        )
    if means.get("frequency") is not None and means.get("monetary") is not None:
        clauses.append(
            f"{means['frequency']:.1f} transactions worth {currency}{means['monetary']:,.0f}"
        )
    if means.get("recency_days") is not None:
        clauses.append(f"last one {means['recency_days']:.0f} days ago")
    channels = {
        name.removeprefix("share_"): share
        for name, share in means.items()
        if name.startswith("share_") and share and share >= 0.1
    }
    if channels:
        channel, share = max(channels.items(), key=lambda item: item[1])
        clauses.append(
            f"{means.get('contacts_90d') or 0:.1f} contacts in 90 days, {share:.0%} by {channel}"
        )
    if means.get("csat") is not None:
        clauses.append(f"CSAT {means['csat']:.1f}/5")
    if means.get("sentiment") is not None:
        clauses.append(f"sentiment {means['sentiment']:+.2f}")
    if means.get("handoffs") is not None:
        clauses.append(f"{means['handoffs']:.1f} handoffs a year")
    if means.get("products") is not None:
        clauses.append(f"{means['products']:.1f} products")
    head = f"{size:,} customers ({size / total:.0%})"
    return f"{head}: {'; '.join(clauses)}." if clauses else f"{head}."


def _unique_name(
    traits: Sequence[SegmentTrait], strengths: Mapping[SegmentTrait, float], taken: set[str]
) -> str:
    """The shortest name (two traits, then more) not given to a larger segment yet."""
    for words in range(2, max(len(traits), 2) + 1):
        name = name_for(traits, strengths, words)
        if name not in taken:
            taken.add(name)
            return name
    base, number = name_for(traits, strengths, len(traits)), 2
    while f"{base} ({number})" in taken:
        number += 1
    taken.add(f"{base} ({number})")
    return f"{base} ({number})"


def _json_float(value: float) -> float | None:
    """A mean for JSON: NaN (nobody in the segment gave a rating) becomes null."""
    return None if value is None or math.isnan(value) else round(float(value), 4)
