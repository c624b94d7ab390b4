"""Segmentation on planted customer groups: recovered (adjusted Rand), k kept within what a
strategy can use, ids stable across runs, names and traits that say what each group is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analytics.features import FeatureScaler
from analytics.segment_traits import summarise_segments, trait_strengths, traits_of
from analytics.segments import CustomerSegmenter, match_segments
from bot.crm.enums import SegmentTrait
from bot.jobs.segmentation import fit_segments

NAN = float("nan")
ARCHETYPES = {
    # tenure, recency, frequency, monetary, contacts_90d, chat, phone, email, branch,
    # sentiment, csat, handoffs, products
    "new": (30, 4, 12, 300, 2, 0.8, 0.05, 0.15, 0.0, 0.3, 4.2, 0, 1.5),
    "loyal_high_value": (2500, 2, 300, 40_000, 1, 0.2, 0.5, 0.1, 0.2, 0.5, 4.7, 0, 5),
    "high_value_at_risk": (2000, 80, 40, 25_000, 6, 0.1, 0.7, 0.2, 0.0, -0.6, 1.6, 3, 4),
    "everyday": (900, 3, 150, 3000, 1, 0.6, 0.2, 0.2, 0.0, 0.1, 3.8, 0.2, 2),
    "dormant": (1500, 260, 2, 60, 0, 0.0, 0.0, 0.0, 0.0, NAN, NAN, 0, 1),
}
COLUMNS = [
    "tenure_days",
    "recency_days",
    "frequency",
    "monetary",
    "contacts_90d",
    "share_chat",
    "share_phone",
    "share_email",
    "share_branch",
    "sentiment",
    "csat",
    "handoffs",
    "products",
]
SKEWED = {"tenure_days", "recency_days", "frequency", "monetary", "contacts_90d"}


def planted(per_group: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers drawn around each archetype: multiplicative noise on money, counts and
    days, additive noise on shares and ratings."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for group, centre in enumerate(ARCHETYPES.values()):
        for _ in range(per_group):
            row = {}
            for column, value in zip(COLUMNS, centre, strict=True):
                if column in SKEWED:
                    row[column] = value * rng.lognormal(0, 0.25)
                elif column in ("handoffs", "products"):
                    row[column] = max(0.0, round(value + rng.normal(0, 0.5)))
                elif column.startswith("share_"):
                    row[column] = float(np.clip(value + rng.normal(0, 0.05), 0, 1))
                else:
                    row[column] = value + rng.normal(0, 0.2)
            rows.append(row)
            truth.append(group)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.insert(0, "customer_id", np.arange(1, len(frame) + 1))
    return frame, np.array(truth)


def scaled(frame: pd.DataFrame) -> np.ndarray:
    return FeatureScaler().fit_transform(frame.drop(columns="customer_id"))


def test_kmeans_recovers_planted_groups_within_the_strategy_range() -> None:
    frame, truth = planted()

    segmenter = CustomerSegmenter().fit(scaled(frame))

    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9
    assert segmenter.k_ == 5
    assert sorted(segmenter.silhouette_) == [4, 5, 6, 7, 8]
    assert segmenter.silhouette_[5] == max(segmenter.silhouette_.values())
    assert (segmenter.predict(scaled(frame)) == segmenter.labels_).all()


def test_k_stays_in_range_even_when_silhouette_prefers_two_groups() -> None:
    rng = np.random.default_rng(1)
    two_blobs = np.vstack([rng.normal(-5, 1, (200, 3)), rng.normal(5, 1, (200, 3))])

    unbounded = CustomerSegmenter(k_min=2, k_max=8).fit(two_blobs)
    bounded = CustomerSegmenter().fit(two_blobs)

    assert unbounded.k_ == 2
    assert 4 <= bounded.k_ <= 8
    assert set(bounded.silhouette_) == set(range(4, 9))


def test_minibatch_and_sampled_silhouette_still_recover_the_groups() -> None:
    frame, truth = planted()

    segmenter = CustomerSegmenter(
        minibatch_above=100, search_sample=150, silhouette_sample=100
    ).fit(scaled(frame))

    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_density_methods_run_and_give_everyone_a_segment(method: str) -> None:
    frame, truth = planted()

    segmenter = CustomerSegmenter(method=method).fit(scaled(frame))

    assert len(segmenter.labels_) == len(frame)
    assert segmenter.labels_.min() >= 0
    assert 1 <= segmenter.k_ <= 8
    assert 0.0 <= segmenter.noise_share_ < 1.0
    assert adjusted_rand_score(truth, segmenter.labels_) >= 0.9


def test_ids_stay_with_the_same_groups_when_rerun_on_shuffled_perturbed_data() -> None:
    frame, truth = planted(seed=0)
    first = fit_segments(frame, "kmeans", previous={})
    ids = {summary.label: 100 + index for index, summary in enumerate(first.summaries)}
    previous = {ids[s.label]: s.profile["centroid"] for s in first.summaries}
    id_of_group = {
        group: ids[int(np.bincount(first.labels[truth == group]).argmax())] for group in range(5)
    }

    again, again_truth = planted(seed=1)
    order = np.random.default_rng(2).permutation(len(again))
    again, again_truth = again.iloc[order].reset_index(drop=True), again_truth[order]
    second = fit_segments(again, "kmeans", previous=previous)

    assert sorted(filter(None, second.matched)) == sorted(ids.values())
    matched = {s.label: m for s, m in zip(second.summaries, second.matched, strict=True)}
    for group in range(5):
        label = int(np.bincount(second.labels[again_truth == group]).argmax())
        assert matched[label] == id_of_group[group]


def test_matching_is_one_to_one_and_capped() -> None:
    centroids = np.array([[0.0, 0.0], [3.0, 0.0], [10.0, 10.0]])
    previous = {7: np.array([3.1, 0.0]), 9: np.array([0.1, 0.1]), 11: np.array([0.2, 0.0])}

    assert match_segments(centroids, previous) == [9, 7, None]
    assert match_segments(centroids, {}) == [None, None, None]


def test_names_and_traits_come_from_the_planted_groups() -> None:
    frame, truth = planted()
    result = fit_segments(frame, "kmeans", previous={})
    by_group = {}
    for summary in result.summaries:
        group = int(np.bincount(truth[result.labels == summary.label]).argmax())
        by_group[list(ARCHETYPES)[group]] = summary

    assert SegmentTrait.NEW in by_group["new"].traits
    assert by_group["new"].name.startswith("New customers")
    assert SegmentTrait.HIGH_VALUE in by_group["loyal_high_value"].traits
    assert {SegmentTrait.HIGH_VALUE, SegmentTrait.AT_RISK} <= set(
        by_group["high_value_at_risk"].traits
    )
    assert "at risk" in by_group["high_value_at_risk"].name
    assert SegmentTrait.DORMANT in by_group["dormant"].traits
    assert SegmentTrait.AT_RISK not in by_group["loyal_high_value"].traits
    names = [summary.name for summary in result.summaries]
    assert len(set(names)) == len(names)
    at_risk = by_group["high_value_at_risk"]
    assert at_risk.profile["traits"] == [trait.value for trait in at_risk.traits]
    assert at_risk.profile["features"]["csat"]["z"] < 0
    assert at_risk.profile["features"]["handoffs"]["mean"] > 2
    assert at_risk.description.startswith("120 customers (20%): customers for")


def test_traits_follow_the_z_scores() -> None:
    strengths = trait_strengths({"monetary": 1.2, "recency_days": 0.9, "frequency": -0.4})

    assert traits_of(strengths) == (
        SegmentTrait.HIGH_VALUE,
        SegmentTrait.AT_RISK,
        SegmentTrait.DORMANT,
    )
    assert SegmentTrait.DIGITAL not in strengths


def test_a_segment_nobody_rated_stores_null_means() -> None:
    frame, _ = planted(per_group=20)
    features = frame.drop(columns="customer_id")
    scaler = FeatureScaler().fit(features)
    log_space = scaler.to_log_space(features)
    labels = np.repeat(np.arange(5), 20)

    summaries = summarise_segments(features, scaler.standardise(log_space), log_space, labels)

    dormant = next(s for s in summaries if s.label == 4)
    assert dormant.profile["features"]["csat"]["mean"] is None
    assert dormant.size == 20 and dormant.profile["share"] == 0.2


def test_new_customers_are_not_called_dormant() -> None:
    strengths = trait_strengths({"tenure_days": -2.0, "recency_days": 0.4, "frequency": -1.2})

    assert strengths[SegmentTrait.DORMANT] >= 0.5
    assert traits_of(strengths) == (SegmentTrait.NEW,)
