"""Customer segmentation: K-means with k chosen by silhouette inside the range a strategy can
use, DBSCAN or HDBSCAN as options, and stable segment ids across runs.

Silhouette alone prefers the coarsest split (on CDNOW it picks k=2: one-time versus repeat
buyers), which no strategy can use, so k is searched within [k_min, k_max] only (4 to 8:
enough groups to treat differently, few enough for supervisors to give each a strategy).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn import config_context
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN, KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin, silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array, check_is_fitted

METHODS = ("kmeans", "dbscan", "hdbscan")
SILHOUETTE_MEMORY_MB = 256
"""Chunk size of silhouette's pairwise distances (scikit-learn's default is 1 GB)."""
MATCH_DISTANCE = 1.5
"""How far (in z-score units, Euclidean) a centroid may move between runs and keep its id."""


class CustomerSegmenter(ClusterMixin, BaseEstimator):
    """Clusters standardised customer features; every customer gets a cluster.

    K-means tries each k in [k_min, k_max] and keeps the best silhouette, measured on a
    random sample of `silhouette_sample` rows (exact silhouette is quadratic). Above
    `minibatch_above` rows the search runs on `search_sample` random rows and
    MiniBatchKMeans, started from the chosen centres, then fits every row: the k search
    costs the same for any size and the whole data set is read in a few passes.

    DBSCAN and HDBSCAN cluster a sample of `density_sample` rows; their noise points and
    every other row join the nearest cluster centre, and only the `k_max` largest clusters
    are kept, since a segment nobody can write a strategy for is of no use.

    `silhouette_` maps each k tried (or found) to its score.
    """

    def __init__(
        self,
        method: str = "kmeans",
        k_min: int = 4,
        k_max: int = 8,
        minibatch_above: int = 50_000,
        search_sample: int = 20_000,
        silhouette_sample: int = 5_000,
        density_sample: int = 20_000,
        eps: float | None = None,
        min_samples: int = 10,
        min_cluster_size: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.k_min = k_min
        self.k_max = k_max
        self.minibatch_above = minibatch_above
        self.search_sample = search_sample
        self.silhouette_sample = silhouette_sample
        self.density_sample = density_sample
        self.eps = eps
        self.min_samples = min_samples
        self.min_cluster_size = min_cluster_size
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: None = None) -> CustomerSegmenter:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"need 2 <= k_min <= k_max, got {self.k_min} and {self.k_max}")
        X = check_array(X, dtype=np.float64)
        rng = np.random.default_rng(self.random_state)
        if self.method == "kmeans":
            self._fit_kmeans(X, rng)
        else:
            self._fit_density(X, rng)
        self.k_ = len(self.cluster_centers_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "cluster_centers_")
        return pairwise_distances_argmin(check_array(X, dtype=np.float64), self.cluster_centers_)

    def _fit_kmeans(self, X: np.ndarray, rng: np.random.Generator) -> None:
        """Search k with K-means on the rows (a sample of big inputs), then fit big inputs
        whole with MiniBatchKMeans from the chosen centres."""
        big = len(X) > self.minibatch_above
        search = X[_sample(rng, len(X), self.search_sample)] if big else X
        self.sample_ = _sample(rng, len(search), self.silhouette_sample)
        self.silhouette_: dict[int, float] = {}
        best: tuple[float, KMeans] | None = None
        for k in range(self.k_min, min(self.k_max, len(search) - 1) + 1):
            model = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(search)
            score = self._silhouette(search, model.labels_)
            self.silhouette_[k] = score
            if best is None or score > best[0]:
                best = (score, model)
        if best is None:
            self.labels_ = np.zeros(len(X), dtype=np.int64)
            self.cluster_centers_ = X.mean(axis=0, keepdims=True)
            return
        model = best[1]
        if big:
            model = MiniBatchKMeans(
                n_clusters=model.n_clusters,
                init=model.cluster_centers_,
                n_init=1,
                batch_size=4096,
                random_state=self.random_state,
            ).fit(X)
        self.labels_ = np.asarray(model.labels_, dtype=np.int64)
        self.cluster_centers_ = model.cluster_centers_

    def _fit_density(self, X: np.ndarray, rng: np.random.Generator) -> None:
        rows = _sample(rng, len(X), self.density_sample)
        sample = X[rows]
        found = self._density_model(sample).fit_predict(sample)
        self.noise_share_ = float(np.mean(found < 0))
        clusters, sizes = np.unique(found[found >= 0], return_counts=True)
        kept = clusters[np.argsort(-sizes, kind="stable")][: self.k_max]
        if len(kept) == 0:
            self.cluster_centers_ = X.mean(axis=0, keepdims=True)
        else:
            self.cluster_centers_ = np.vstack([sample[found == c].mean(axis=0) for c in kept])
        self.labels_ = self.predict(X)
        self.sample_ = _sample(rng, len(X), self.silhouette_sample)
        k = len(self.cluster_centers_)
        self.silhouette_ = {k: self._silhouette(X, self.labels_)}

    def _density_model(self, sample: np.ndarray) -> ClusterMixin:
        if self.method == "hdbscan":
            from hdbscan import HDBSCAN

            size = self.min_cluster_size or max(10, len(sample) // 100)
            return HDBSCAN(min_cluster_size=size, min_samples=self.min_samples)
        return DBSCAN(
            eps=self.eps or _knee_eps(sample, self.min_samples), min_samples=self.min_samples
        )

    def _silhouette(self, X: np.ndarray, labels: np.ndarray) -> float:
        found = len(np.unique(labels[self.sample_]))
        if not 1 < found < len(self.sample_):
            return float("nan")
        with config_context(working_memory=SILHOUETTE_MEMORY_MB):
            return float(silhouette_score(X[self.sample_], labels[self.sample_]))


def match_segments(
    centroids: np.ndarray,
    previous: Mapping[int, np.ndarray],
    max_distance: float = MATCH_DISTANCE,
) -> list[int | None]:
    """The previous run's segment id each centroid continues, or None for a new segment.

    One-to-one (Hungarian assignment on Euclidean distance, `linear_sum_assignment`), and a
    pair further apart than `max_distance` is not a match: a segment that moved that far is
    a different group of customers, and reusing its id would carry its edited strategy over.
    """
    matched: list[int | None] = [None] * len(centroids)
    if not previous or not len(centroids):
        return matched
    ids = list(previous)
    distances = cdist(np.atleast_2d(centroids), np.vstack([previous[i] for i in ids]))
    for row, column in zip(*linear_sum_assignment(distances), strict=True):
        if distances[row, column] <= max_distance:
            matched[row] = ids[column]
    return matched


def _sample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Sorted row indices of a random sample (every row when there are few)."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _knee_eps(sample: np.ndarray, min_samples: int) -> float:
    """DBSCAN's radius from the data: twice the median distance from a point to its
    `min_samples`-th neighbour. A tighter radius (the usual k-distance knee) splits real
    groups into fragments in a dozen dimensions; twice the typical spacing joins each group
    while a gap between groups, several spacings wide, still separates them."""
    neighbours = min(min_samples, len(sample) - 1)
    if neighbours < 1:
        return 1.0
    distances, _ = NearestNeighbors(n_neighbors=neighbours + 1).fit(sample).kneighbors(sample)
    return float(2 * np.median(distances[:, -1])) or 1.0
