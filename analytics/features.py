"""Scaling of per-customer features before clustering.

Money, counts and day spans are heavily right-skewed (a few customers spend a hundred times
the median); without `log1p` they would dominate every Euclidean distance and K-means would
split off the outliers instead of finding groups. Missing sentiment or CSAT (the customer
never gave one) is imputed with the median, so "no rating" reads as typical, not as bad.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

SKEWED: tuple[str, ...] = (
    "tenure_days",
    "recency_days",
    "frequency",
    "monetary",
    "contacts_90d",
    "handoffs",
    "products",
)
"""Non-negative counts, money and day spans: log-scaled before standardising."""


class FeatureScaler(TransformerMixin, BaseEstimator):
    """log1p on the skewed columns, median imputation, then standardisation (z-scores).

    The unstandardised "log space" is kept separately (`to_log_space`) because a segment's
    centroid is stored there: the next run standardises it with its own statistics, so
    centroids of two runs are compared on the same scale.
    """

    def __init__(self, skewed: Sequence[str] = SKEWED) -> None:
        self.skewed = skewed

    def fit(self, frame: pd.DataFrame, y: None = None) -> FeatureScaler:
        self.columns_ = list(frame.columns)
        self.log_columns_ = [column for column in self.columns_ if column in self.skewed]
        logged = self._log(frame)
        medians = logged.median()
        self.medians_ = medians.fillna(0.0)
        self.scaler_ = StandardScaler().fit(logged.fillna(self.medians_).to_numpy(dtype=float))
        return self

    def to_log_space(self, frame: pd.DataFrame) -> np.ndarray:
        """Features log-scaled and imputed, not yet standardised."""
        check_is_fitted(self, "scaler_")
        return self._log(frame[self.columns_]).fillna(self.medians_).to_numpy(dtype=float)

    def standardise(self, log_space: np.ndarray) -> np.ndarray:
        """Z-scores of log-space values (a centroid from an earlier run, for instance)."""
        check_is_fitted(self, "scaler_")
        return self.scaler_.transform(np.atleast_2d(log_space))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.standardise(self.to_log_space(frame))

    def _log(self, frame: pd.DataFrame) -> pd.DataFrame:
        logged = frame.astype(float)
        for column in self.log_columns_:
            logged[column] = np.log1p(logged[column].clip(lower=0))
        return logged
