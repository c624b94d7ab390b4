"""Each customer's preferred contact channel, and how sure we can be of it.

A contact counts less the older it is (half-life `half_life_days`): someone who phoned for
years and has chatted for the last six months now prefers chat. Weighted counts are
smoothed towards the population's channel mix with `prior_strength` pseudo-contacts, so
one chat is weak evidence and twenty are strong. The confidence is the margin between the
best and the second-best smoothed share: near 0 when channels are mixed or contacts few,
near 1 when one channel clearly dominates a long history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from bot.crm.enums import ContactChannel

DAY_SECONDS = 86_400.0


class ChannelPreference(BaseEstimator):
    """Preferred `ContactChannel` per customer from a contact history.

    `fit` and `predict` take a frame with `customer_id`, `channel` and `at` (UTC) columns;
    `as_of` is the moment ages are measured from (now when omitted).
    """

    def __init__(
        self,
        half_life_days: float = 180.0,
        prior_strength: float = 2.0,
        channels: Sequence[str] = tuple(channel.value for channel in ContactChannel),
    ) -> None:
        self.half_life_days = half_life_days
        self.prior_strength = prior_strength
        self.channels = channels

    def fit(self, contacts: pd.DataFrame, as_of: datetime | None = None) -> ChannelPreference:
        """Learn the population's recency-weighted channel mix, the smoothing prior."""
        self.channels_ = list(self.channels)
        totals = self._weighted(contacts, as_of).sum(axis=0).to_numpy()
        uniform = np.full(len(self.channels_), 1.0 / len(self.channels_))
        self.prior_ = totals / totals.sum() if totals.sum() > 0 else uniform
        return self

    def predict(self, contacts: pd.DataFrame, as_of: datetime | None = None) -> pd.DataFrame:
        """One row per customer with contacts: `customer_id`, `channel`, `confidence`,
        `contacts` (how many the choice rests on)."""
        check_is_fitted(self, "prior_")
        weighted = self._weighted(contacts, as_of)
        smoothed = weighted + self.prior_strength * self.prior_
        shares = smoothed.div(smoothed.sum(axis=1), axis=0).to_numpy()
        order = np.argsort(-shares, axis=1, kind="stable")
        rows = np.arange(len(shares))
        best, second = shares[rows, order[:, 0]], shares[rows, order[:, 1]]
        counts = contacts.groupby("customer_id").size().reindex(weighted.index)
        return pd.DataFrame(
            {
                "customer_id": weighted.index.to_numpy(),
                "channel": np.asarray(self.channels_, dtype=object)[order[:, 0]],
                "confidence": best - second,
                "contacts": counts.to_numpy(dtype="int64"),
            }
        )

    def _weighted(self, contacts: pd.DataFrame, as_of: datetime | None) -> pd.DataFrame:
        """Recency-weighted contact counts: a row per customer, a column per channel."""
        known = contacts[contacts["channel"].isin(self.channels_)]
        at = pd.to_datetime(known["at"], utc=True)
        now = pd.Timestamp(as_of or datetime.now(timezone.utc))
        now = now.tz_localize("UTC") if now.tzinfo is None else now
        age_days = ((now - at).dt.total_seconds() / DAY_SECONDS).clip(lower=0)
        weight = np.power(0.5, age_days / self.half_life_days)
        table = pd.crosstab(known["customer_id"], known["channel"], values=weight, aggfunc="sum")
        return table.reindex(columns=self.channels_).fillna(0.0)
