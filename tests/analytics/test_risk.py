"""The risk model beats its baselines on planted signal, is calibrated and names its drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.risk import NotEnoughLabels, RiskModel
from analytics.thresholds import AT_RISK_SCORE


def planted(rows: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Activity-like features where leaving depends mostly on handoffs and low CSAT, and only
    faintly on recency (the one-feature baseline's feature)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_days": rng.uniform(30, 3000, rows),
            "recency_days": rng.exponential(40, rows),
            "frequency": rng.poisson(30, rows),
            "monetary": rng.lognormal(7, 1, rows),
            "handoffs": rng.poisson(1.0, rows),
            "csat": rng.uniform(1, 5, rows),
        }
    )
    frame.loc[rng.random(rows) < 0.2, "csat"] = np.nan
    logit = (
        -2.0
        + 1.6 * (frame["handoffs"] - 1.0)
        + 0.9 * (3.0 - frame["csat"].fillna(3.0))
        + 0.004 * (frame["recency_days"] - 40)
    )
    left = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, left


@pytest.mark.parametrize("model", ["logistic", "boosting"])
def test_the_model_beats_the_majority_and_one_feature_baselines(model: str) -> None:
    X, y = planted()
    report = RiskModel(model=model).fit(X, y).report_
    assert report["auc_majority"] == pytest.approx(0.5)
    assert report["one_feature"] == "recency_days"
    assert report["auc"] > 0.8
    assert report["auc"] > report["auc_one_feature"] + 0.15
    assert report["folds"] == 5
    assert report["rows"] == 600
    assert report["positives"] == int(y.sum())


def test_scores_are_calibrated_probabilities() -> None:
    X, y = planted(rows=2000, seed=1)
    model = RiskModel().fit(X.iloc[:1500], y[:1500])
    risk = model.predict_proba(X.iloc[1500:])[:, 1]
    assert ((risk >= 0) & (risk <= 1)).all()
    held_out = y[1500:]
    assert risk.mean() == pytest.approx(held_out.mean(), abs=0.05)
    high = risk >= AT_RISK_SCORE
    assert held_out[high].mean() > 0.5 > held_out[~high].mean()
    np.testing.assert_array_equal(model.predict(X.iloc[1500:]), high.astype(int))


def test_drivers_name_the_planted_feature_with_positive_contributions() -> None:
    X, y = planted()
    model = RiskModel().fit(X, y)
    frequent_handoffs = X.assign(handoffs=5, csat=4.5)
    for drivers in model.drivers(frequent_handoffs.head(20), top=2):
        assert drivers[0].feature == "handoffs"
        assert drivers[0].value == 5
        assert all(driver.contribution > 0 for driver in drivers)
        assert [d.contribution for d in drivers] == sorted(
            (d.contribution for d in drivers), reverse=True
        )
    unhappy = X.assign(handoffs=0, csat=1.0).head(20)
    assert all(d[0].feature == "csat" for d in model.drivers(unhappy, top=1))


def test_a_typical_customer_has_no_driver_pushing_them_up() -> None:
    X, y = planted()
    model = RiskModel().fit(X, y)
    typical = pd.DataFrame([{c: model.reference_[c] for c in X.columns}])
    assert model.drivers(typical) == [[]]


def test_categorical_columns_are_encoded_and_named_as_drivers() -> None:
    X, y = planted(rows=800, seed=2)
    rng = np.random.default_rng(3)
    contract = np.where(rng.random(len(y)) < 0.4, "monthly", "yearly")
    y = np.where(contract == "monthly", y | (rng.random(len(y)) < 0.5), y)
    X = X.assign(contract=contract)
    model = RiskModel(baseline_feature="handoffs").fit(X, y)
    assert model.report_["auc"] > model.report_["auc_one_feature"]
    monthly = X[X["contract"] == "monthly"].assign(handoffs=1, csat=3.0).head(10)
    assert model.reference_["contract"] == "yearly"
    for drivers in model.drivers(monthly):
        assert (drivers[0].feature, drivers[0].value) == ("contract", "monthly")


def test_too_few_leavers_is_refused_rather_than_reported_as_noise() -> None:
    X, _ = planted(rows=50)
    y = np.zeros(50, dtype=int)
    y[:3] = 1
    with pytest.raises(NotEnoughLabels, match="3 left"):
        RiskModel().fit(X, y)


def test_the_smallest_allowed_data_still_fits_and_reports() -> None:
    X, y = planted(rows=40, seed=4)
    y = np.zeros(40, dtype=int)
    y[:4] = 1
    model = RiskModel().fit(X, y)
    assert model.report_["folds"] == 4
    assert model.predict_proba(X).shape == (40, 2)
