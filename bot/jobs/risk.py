"""The risk job: learn who left from features as they were 90 days ago, then score everyone now.

Features come from `ActivityStore.features(as_of=cutoff)`, which only sees what was known at
the cutoff; the label is whether the customer left in the 90 days after it. The fitted
model's held-out AUC and both baselines are the run's figures, so every run shows whether
the model still earns its place. Today's features are then scored, with their drivers.
With too few leavers to learn from, the run records why and leaves earlier scores alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from analytics.risk import NotEnoughLabels, RiskModel
from analytics.thresholds import AT_RISK_SCORE
from bot.crm.store.activity import FEATURE_COLUMNS, ActivityStore
from bot.crm.store.insights import RiskScore
from bot.jobs.base import JobContext, JobResult

HORIZON = timedelta(days=90)
"""How far ahead a score looks: the share of customers like this one who leave within it."""
SCORE_CHUNK = 50_000


class RiskJob:
    name = "risk"
    description = (
        "Learn who left in the last 90 days from their activity before, then give every "
        "customer a calibrated risk of leaving and the features that drive it."
    )

    def __init__(self, today: datetime | None = None) -> None:
        self.today = today

    def run(self, context: JobContext) -> JobResult:
        today = self.today or datetime.now(timezone.utc)
        cutoff = today - HORIZON
        activity = context.store.activity
        past = _read(activity, cutoff, context, "features at the cutoff")
        left = activity.left_between(cutoff, today)
        labels = past["customer_id"].isin(left).to_numpy(dtype=int)
        figures: dict = {
            "cutoff": cutoff.isoformat(),
            "horizon_days": HORIZON.days,
            "at_risk_score": AT_RISK_SCORE,
        }
        rows = {"customers_at_cutoff": len(past), "left_after_cutoff": int(labels.sum())}
        try:
            model = RiskModel().fit(past.drop(columns="customer_id"), labels)
        except NotEnoughLabels as error:
            return JobResult(rows={**rows, "scored": 0}, figures={**figures, "skipped": str(error)})
        figures.update({k: _round_floats(v) for k, v in model.report_.items()})
        current = _read(activity, today, context, "features today")
        scores = list(_scores(model, current))
        saved = context.store.insights.save_risk(context.run_id, scores)
        risks = np.array([score["risk"] for score in scores])
        top = Counter(score["drivers"][0]["feature"] for score in scores if score["drivers"])
        figures.update(
            {
                "at_risk": int((risks >= AT_RISK_SCORE).sum()),
                "mean_risk": _round_floats(float(risks.mean())) if len(risks) else None,
                "top_drivers": dict(top.most_common()),
            }
        )
        return JobResult(rows={**rows, "scored": saved}, figures=figures)


def _read(activity: ActivityStore, as_of: datetime, context: JobContext, desc: str) -> pd.DataFrame:
    frames = list(context.progress(activity.features(as_of), desc=desc, unit="chunk"))
    if not frames:
        return pd.DataFrame(columns=list(FEATURE_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _scores(model: RiskModel, current: pd.DataFrame) -> Iterator[RiskScore]:
    """Scores and drivers chunk by chunk: drivers copy the frame once per feature."""
    for start in range(0, len(current), SCORE_CHUNK):
        chunk = current.iloc[start : start + SCORE_CHUNK]
        features = chunk.drop(columns="customer_id")
        risk = model.predict_proba(features)[:, 1]
        drivers = model.drivers(features)
        for customer_id, score, pushed in zip(chunk["customer_id"], risk, drivers, strict=True):
            yield {
                "customer_id": int(customer_id),
                "risk": float(score),
                "drivers": [
                    {
                        "feature": d.feature,
                        "value": _round_floats(d.value),
                        "contribution": _round_floats(d.contribution),
                    }
                    for d in pushed
                ],
            }


def _round_floats(value: object) -> object:
    """A float rounded to 4 places for the run's figures; any other value as it is."""
    return round(value, 4) if isinstance(value, float) else value
