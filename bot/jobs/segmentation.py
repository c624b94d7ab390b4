"""The segmentation job: features from the store, clusters from `analytics`, versioned segments
back into the store, with ids that carry over from the previous run."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from analytics.features import FeatureScaler
from analytics.segment_traits import SegmentSummary, summarise_segments
from analytics.segments import CustomerSegmenter, match_segments
from bot.crm.store.activity import ActivityStore
from bot.crm.store.segments import SegmentDraft
from bot.jobs.base import JobContext, JobResult


@dataclass(frozen=True)
class Segmentation:
    """A fitted run before it is saved: `summaries[i]` continues segment `matched[i]`."""

    customer_ids: np.ndarray
    labels: np.ndarray
    summaries: list[SegmentSummary]
    matched: list[int | None]
    segmenter: CustomerSegmenter


def read_features(
    activity: ActivityStore,
    as_of: datetime,
    progress: Callable[..., Iterable[pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """Every active customer's features, read chunk by chunk."""
    chunks: Iterable[pd.DataFrame] = activity.features(as_of)
    if progress is not None:
        chunks = progress(chunks, desc="reading customer features", unit="chunk")
    frames = list(chunks)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def fit_segments(
    frame: pd.DataFrame, method: str, previous: Mapping[int, Mapping[str, float]]
) -> Segmentation:
    """Scale, cluster, describe, and match each cluster to the previous run's segments."""
    features = frame.drop(columns="customer_id")
    scaler = FeatureScaler().fit(features)
    log_space = scaler.to_log_space(features)
    scaled = scaler.standardise(log_space)
    segmenter = CustomerSegmenter(method=method).fit(scaled)
    summaries = summarise_segments(features, scaled, log_space, segmenter.labels_)
    columns = scaler.columns_
    centroids = np.array(
        [[summary.profile["features"][c]["z"] for c in columns] for summary in summaries]
    )
    earlier = {
        segment_id: scaler.standardise(np.array([centroid[c] for c in columns]))[0]
        for segment_id, centroid in previous.items()
        if all(c in centroid for c in columns)
    }
    return Segmentation(
        customer_ids=frame["customer_id"].to_numpy(),
        labels=segmenter.labels_,
        summaries=summaries,
        matched=match_segments(centroids, earlier),
        segmenter=segmenter,
    )


class SegmentationJob:
    name = "segmentation"
    description = (
        "Group customers by value, activity, contact channels and satisfaction; segments keep "
        "their ids across runs and every customer's segment history is kept."
    )

    def run(self, context: JobContext) -> JobResult:
        as_of = datetime.now(timezone.utc)
        method = context.settings.segment_method
        frame = read_features(context.store.activity, as_of, context.progress)
        if frame.empty:
            nobody = np.array([], dtype=np.int64)
            saved = context.store.segments.save_run(
                context.run_id, method, [], nobody, nobody, as_of
            )
            return JobResult(
                rows={"customers": 0, "segments_retired": saved.retired},
                figures={"method": method, "k": 0},
            )
        result = fit_segments(frame, method, context.store.segments.previous_centroids(method))
        drafts = [
            SegmentDraft(
                segment_id, summary.name, summary.description, summary.profile, summary.size
            )
            for summary, segment_id in zip(result.summaries, result.matched, strict=True)
        ]
        draft_of_label = np.full(result.labels.max() + 1, -1)
        for index, summary in enumerate(result.summaries):
            draft_of_label[summary.label] = index
        saved = context.store.segments.save_run(
            context.run_id,
            method,
            drafts,
            result.customer_ids,
            draft_of_label[result.labels],
            as_of,
        )
        return JobResult(
            rows={
                "customers": len(frame),
                "segments": len(drafts),
                "segments_created": saved.created,
                "segments_retired": saved.retired,
                "assignments_opened": saved.opened,
                "assignments_closed": saved.closed,
            },
            figures=figures(result, saved.segment_ids, method, as_of),
        )


def figures(result: Segmentation, ids: list[int], method: str, as_of: datetime) -> dict:
    """What the run's record shows: the k search, and each segment's id, name and size."""
    segmenter = result.segmenter
    out = {
        "method": method,
        "as_of": as_of.isoformat(),
        "k": segmenter.k_,
        "silhouette": {
            str(k): _rounded_or_none(score) for k, score in segmenter.silhouette_.items()
        },
        "sizes": {summary.name: summary.size for summary in result.summaries},
        "segments": [
            {
                "id": segment_id,
                "name": summary.name,
                "description": summary.description,
                "size": summary.size,
                "traits": list(summary.profile["traits"]),
            }
            for segment_id, summary in zip(ids, result.summaries, strict=True)
        ],
    }
    if hasattr(segmenter, "noise_share_"):
        out["noise_share"] = round(segmenter.noise_share_, 4)
    return out


def _rounded_or_none(value: float) -> float | None:
    """A score rounded to 4 places; NaN (undefined, e.g. one cluster) as None for JSON."""
    return None if math.isnan(value) else round(value, 4)
