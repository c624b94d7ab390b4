"""Exact top k without scoring every ticket in full, in the spirit of MaxScore.

A first pass scores every ticket on what is cheap to read and bounds what it left out
(`slack`); only tickets that could still reach the top k are then scored in full.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Tickets sampled to guess the k-th best score before the full candidates are scored.
THRESHOLD_SAMPLE = 4096
# Past this share of candidate tickets, scoring all tickets term by term is cheaper.
FULL_SCORING_SHARE = 0.05


def _kth_largest(values: np.ndarray, k: int) -> float:
    return (
        float(np.partition(values, len(values) - k)[len(values) - k])
        if len(values) >= k
        else -np.inf
    )


def exact_top_k(
    first_pass: np.ndarray,
    slack: float,
    k: int,
    full_scores: Callable[[np.ndarray], np.ndarray],
    all_scores: Callable[[], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows and their full scores, best first (ties by row).

    The best rows of a sample bound the k-th best score from below, then only rows within
    reach of that bound (first pass >= bound - slack) are scored in full with `full_scores`;
    `all_scores` scores every row when too many or too few rows stand out.
    """
    guess = _kth_largest(first_pass[:: max(1, len(first_pass) // THRESHOLD_SAMPLE)], k)
    rows = np.flatnonzero(first_pass >= guess if guess > 0 else first_pass > 0)
    bound = _kth_largest(full_scores(rows), k)
    if bound > 0:
        rows = np.flatnonzero(first_pass >= bound - slack * (1 + 1e-4) - 1e-6)
    if bound > 0 and len(rows) <= FULL_SCORING_SHARE * len(first_pass):
        scores = full_scores(rows)
    else:
        scores = all_scores()
        rows = np.flatnonzero(scores > 0)
        scores = scores[rows]
    if len(rows) > k:
        best = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[best], scores[best]
    order = np.lexsort((rows, -scores))
    return rows[order], scores[order]
