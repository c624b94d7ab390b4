"""BM25 postings of the indexed tickets, kept both by ticket and by term.

The matrices hold BM25's saturated term frequencies, which do not depend on IDF, so adding
tickets never rewrites them. Recent adds live in a small second segment, merged into the main
one when it reaches `merge_ratio` of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


@dataclass
class Segment:
    """Consecutive tickets, by ticket (for explanations) and by term (for search)."""

    by_ticket: sp.csr_matrix
    by_term: sp.csr_matrix

    @classmethod
    def from_rows(cls, by_ticket: sp.csr_matrix) -> Segment:
        return cls(by_ticket, by_ticket.T.tocsr())

    @classmethod
    def empty(cls, width: int) -> Segment:
        return cls.from_rows(sp.csr_matrix((0, width), dtype=np.float32))

    def __len__(self) -> int:
        return self.by_ticket.shape[0]


def _with_columns(matrix: sp.csr_matrix, n_columns: int) -> sp.csr_matrix:
    """The same rows seen with a grown vocabulary (new columns are empty)."""
    return sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_columns)
    )


class Postings:
    """The main and the recent segment, and each term's largest value (a bound for search)."""

    def __init__(self, main: Segment, recent: Segment, term_max: np.ndarray) -> None:
        self.main = main
        self.recent = recent
        self.term_max = term_max

    @classmethod
    def empty(cls) -> Postings:
        segment = Segment.empty(0)
        return cls(segment, segment, np.zeros(0, dtype=np.float32))

    def add(self, rows: sp.csr_matrix, merge_ratio: float) -> None:
        """Append tickets' rows, as wide as the vocabulary now is."""
        width = rows.shape[1]
        self.term_max = np.maximum(
            np.concatenate([self.term_max, np.zeros(width - len(self.term_max), np.float32)]),
            rows.max(axis=0).toarray().ravel(),
        )
        recent = sp.vstack([_with_columns(self.recent.by_ticket, width), rows], format="csr")
        if len(self.main) == 0 or recent.shape[0] >= merge_ratio * len(self.main):
            main = sp.vstack([_with_columns(self.main.by_ticket, width), recent], format="csr")
            self.main = Segment.from_rows(main)
            recent = sp.csr_matrix((0, width), dtype=np.float32)
        self.recent = Segment.from_rows(recent)

    def term_scores(self, term_ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted BM25 of every ticket for these terms, reading only their postings."""
        parts = []
        for segment in (self.main, self.recent):
            inside = term_ids < segment.by_term.shape[0]
            if len(segment) and inside.any():
                parts.append(segment.by_term[term_ids[inside]].T @ weights[inside])
            elif len(segment):
                parts.append(np.zeros(len(segment), dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def row_scores(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted BM25 of these tickets (`weights` by term id), reading only their rows."""
        scores = np.zeros(len(rows), dtype=np.float32)
        in_main = rows < len(self.main)
        for segment, mask, start in [
            (self.main, in_main, 0),
            (self.recent, ~in_main, len(self.main)),
        ]:
            if mask.any():
                block = segment.by_ticket[rows[mask] - start]
                scores[mask] = block @ weights[: block.shape[1]]
        return scores

    def row(self, row: int) -> dict[int, float]:
        """One ticket's saturated term frequencies, by term id."""
        segment, local = (
            (self.main, row) if row < len(self.main) else (self.recent, row - len(self.main))
        )
        tickets = segment.by_ticket
        span = slice(tickets.indptr[local], tickets.indptr[local + 1])
        return dict(zip(tickets.indices[span].tolist(), tickets.data[span].tolist(), strict=True))

    def save(self, folder: Path) -> None:
        """Write both segments as one (the recent one merged in) and the term bounds."""
        main = self.main
        if len(self.recent):
            width = self.recent.by_ticket.shape[1]
            main = Segment.from_rows(
                sp.vstack(
                    [_with_columns(self.main.by_ticket, width), self.recent.by_ticket],
                    format="csr",
                )
            )
        sp.save_npz(folder / "by_ticket.npz", main.by_ticket, compressed=False)
        sp.save_npz(folder / "by_term.npz", main.by_term, compressed=False)
        np.save(folder / "term_max.npy", self.term_max)

    @classmethod
    def load(cls, folder: Path, width: int) -> Postings:
        main = Segment(
            sp.load_npz(folder / "by_ticket.npz").tocsr(),
            sp.load_npz(folder / "by_term.npz").tocsr(),
        )
        return cls(main, Segment.empty(width), np.load(folder / "term_max.npy"))
