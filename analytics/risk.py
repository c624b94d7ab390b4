"""Churn risk: a calibrated classifier that proves itself against baselines and explains
each score by the features that pushed it up.

`RiskModel.fit` first measures itself: out-of-fold ROC AUC (every customer scored by a
model that never saw them) for the model, a majority-class baseline and a one-feature
logistic regression, on the same folds. Only then does it fit the model that scores, on
every row. A model that cannot beat one feature is not worth a hint withheld, and the
report makes that visible in every run.

Numeric columns get a median imputation, a missing-value indicator (a column never
observed, such as sentiment before any message was scored, is only that) and, when they
take enough distinct values, a cubic spline on quantile knots: churn tends to fall steeply in
the first months of tenure and then flatten, which a straight line misses. Text or
categorical columns are one-hot encoded. Scores are calibrated (`CalibratedClassifierCV`),
so 0.3 means about three in ten such customers leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, SplineTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from analytics.thresholds import AT_RISK_SCORE

MIN_PER_CLASS = 4
"""Fewer leavers (or stayers) than this and a held-out AUC is noise: `fit` refuses."""


class NotEnoughLabels(ValueError):
    """Too few examples of a class to fit and evaluate a risk model."""


@dataclass(frozen=True)
class Driver:
    """A feature that pushed a customer's score up: by how much, at what value."""

    feature: str
    value: Any
    contribution: float


class RiskModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn classifier with its own held-out evaluation against baselines.

    `model` is "logistic" (splines on numeric columns, one-hot categoricals, L2) or
    "boosting" (histogram gradient boosting with native categoricals). `cv` folds are used
    for the held-out report (0 skips it, e.g. when a benchmark runs its own folds);
    `baseline_feature` is the one feature of the simple baseline.
    """

    def __init__(
        self,
        model: Literal["logistic", "boosting"] = "logistic",
        *,
        C: float = 0.3,
        n_knots: int = 5,
        calibration: Literal["sigmoid", "isotonic"] = "sigmoid",
        calibration_cv: int = 3,
        cv: int = 5,
        baseline_feature: str = "recency_days",
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.C = C
        self.n_knots = n_knots
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.cv = cv
        self.baseline_feature = baseline_feature
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> RiskModel:
        """Measure the model and its baselines out of fold (`report_`), then fit on all rows."""
        labels = np.asarray(y).astype(int)
        counts = np.bincount(labels, minlength=2)
        if counts.min() < MIN_PER_CLASS:
            raise NotEnoughLabels(
                f"a risk model needs at least {MIN_PER_CLASS} customers of each class; "
                f"got {int(counts[0])} stayed and {int(counts[1])} left"
            )
        X = X.reset_index(drop=True)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.categorical_ = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        self.reference_ = {c: _typical(X[c], c in self.categorical_) for c in X.columns}
        self.report_ = self._evaluate(X, labels) if self.cv else {}
        self.estimator_ = self._calibrated(X, labels).fit(X, labels)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X[list(self.feature_names_in_)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 for customers at or above `AT_RISK_SCORE`."""
        return (self.predict_proba(X)[:, 1] >= AT_RISK_SCORE).astype(int)

    def drivers(self, X: pd.DataFrame, top: int = 3) -> list[list[Driver]]:
        """Per row, the features that pushed its score up most, largest first.

        A feature's contribution is how far the score would fall if that feature alone
        were at the reference value (median, or most common category) of the training
        rows: it works for either model and reads in score points. Features that pull
        the score down are left out.
        """
        check_is_fitted(self, "estimator_")
        X = X[list(self.feature_names_in_)].reset_index(drop=True)
        score = self.estimator_.predict_proba(X)[:, 1]
        deltas = np.empty((len(X), len(self.feature_names_in_)))
        for j, column in enumerate(self.feature_names_in_):
            typical = X.copy()
            typical[column] = self.reference_[column]
            deltas[:, j] = score - self.estimator_.predict_proba(typical)[:, 1]
        order = np.argsort(-deltas, axis=1, kind="stable")[:, :top]
        result = []
        for i, columns in enumerate(order):
            result.append(
                [
                    Driver(
                        feature=str(self.feature_names_in_[j]),
                        value=_plain(X.iat[i, j]),
                        contribution=float(deltas[i, j]),
                    )
                    for j in columns
                    if deltas[i, j] > 0
                ]
            )
        return result

    def _evaluate(self, X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
        """Mean out-of-fold AUC of the model and of both baselines, on the same folds."""
        folds = StratifiedKFold(
            n_splits=min(self.cv, int(np.bincount(y).min())),
            shuffle=True,
            random_state=self.random_state,
        )
        one = X[[self.baseline_feature]]
        aucs: dict[str, list[float]] = {"model": [], "majority": [], "one_feature": []}
        for train, test in folds.split(X, y):
            systems = {
                "model": (self._calibrated(X.iloc[train], y[train]), X),
                "majority": (DummyClassifier(strategy="prior"), X),
                "one_feature": (_one_feature_baseline(), one),
            }
            for name, (estimator, data) in systems.items():
                estimator.fit(data.iloc[train], y[train])
                score = estimator.predict_proba(data.iloc[test])[:, 1]
                aucs[name].append(float(roc_auc_score(y[test], score)))
        return {
            "auc": float(np.mean(aucs["model"])),
            "auc_majority": float(np.mean(aucs["majority"])),
            "auc_one_feature": float(np.mean(aucs["one_feature"])),
            "one_feature": self.baseline_feature,
            "folds": folds.get_n_splits(),
            "rows": int(len(y)),
            "positives": int(y.sum()),
        }

    def _calibrated(self, X: pd.DataFrame, y: np.ndarray) -> CalibratedClassifierCV:
        folds = StratifiedKFold(
            n_splits=max(2, min(self.calibration_cv, int(np.bincount(y).min()))),
            shuffle=True,
            random_state=self.random_state,
        )
        return CalibratedClassifierCV(
            base_estimator=self._classifier(X), method=self.calibration, cv=folds
        )

    def _classifier(self, X: pd.DataFrame) -> Pipeline:
        categorical = [c for c in X.columns if c in self.categorical_]
        numeric = [c for c in X.columns if c not in self.categorical_]
        if self.model == "boosting":
            encode = ColumnTransformer(
                [
                    ("numeric", "passthrough", numeric),
                    (
                        "categorical",
                        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                        categorical,
                    ),
                ]
            )
            boosting = HistGradientBoostingClassifier(
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=8,
                min_samples_leaf=min(40, max(5, len(X) // 20)),
                l2_regularization=1.0,
                categorical_features=list(range(len(numeric), len(numeric) + len(categorical)))
                or None,
                random_state=self.random_state,
            )
            return make_pipeline(encode, boosting)
        observed = [c for c in numeric if X[c].notna().any()]
        curved = [c for c in observed if X[c].nunique() > 2 * self.n_knots]
        straight = [c for c in observed if c not in curved]
        impute = SimpleImputer(strategy="median")
        encode = ColumnTransformer(
            [
                (
                    "curved",
                    make_pipeline(
                        clone(impute), SplineTransformer(n_knots=self.n_knots, knots="quantile")
                    ),
                    curved,
                ),
                ("straight", clone(impute), straight),
                ("missing", MissingIndicator(features="all"), numeric),
                ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ]
        )
        return make_pipeline(
            encode,
            StandardScaler(with_mean=False),
            LogisticRegression(C=self.C, max_iter=5000),
        )


def _one_feature_baseline() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    )


def _typical(column: pd.Series, categorical: bool) -> Any:
    """The value a driver is measured against: the most common category, or the median."""
    if categorical:
        return column.mode().iloc[0]
    return column.median() if column.notna().any() else np.nan


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a feature value (None for a missing one)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
