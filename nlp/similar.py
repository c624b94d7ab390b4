"""Similar past tickets for agents: top-k resolved tickets for a customer message, explained.

How it ranks. A ticket's score mixes two parts, `label_weight` of the second:

* **Lexical**: BM25 over word lemmas (the shared `nlp.text` lemmatiser), divided by the
  query's score against a ticket with exactly its words, so about 1 means "the same words".
  This is what makes a result explainable: `Match.matched_terms` are the query lemmas that
  added most to it.
* **Category agreement**: past tickets carry a category in the CRM (an intent, a reason
  code). A linear classifier (TF-IDF of word 1-2-grams and character 2-5-grams, LinearSVC)
  is trained on the indexed tickets' categories; a query agrees with a ticket as much as the
  classifier believes the query belongs to the ticket's category.

Why both: on BANKING77 lexical matching alone tops out near P@5 0.72, because customers
describe one problem in different words; the classifier generalises over paraphrases, and
the lexical part orders tickets within a category and carries the ranking when the classifier
is unsure. So the quality needs labelled past tickets: without labels (or with a single
category) the index is plain BM25, and a ticket without a category the classifier knows
(unlabelled, or added later with a new one) agrees through the category the classifier
predicts for it, weighted by its probability. The classifier learns from the indexed tickets
only, never from queries.

Incremental adds. The matrix holds BM25's saturated term frequencies, which do not depend on
IDF; IDF is computed at query time from document frequencies that `add` keeps current, so a
term first seen by `add` joins the vocabulary and is searchable at once. Frozen at `fit` are
the average ticket length (BM25's length norm) and the classifier (a ticket added with a
category it never saw agrees through the category it predicts); the reindex job calls `fit`
on all resolved tickets to refresh them.

Scale. Postings are kept term-major (a CSR matrix of terms x tickets), so a query reads only
the postings of its own terms. Search is exact but lazy, in the spirit of MaxScore: postings
of very common terms and the agreement of unlikely categories are left out of the first pass
over all tickets, their largest possible contribution is bounded, and only tickets that could
still reach the top k are scored in full. Recent adds live in a small second segment, merged
into the main one when it reaches `merge_ratio` of it. Tickets must already be redacted: the
index stores their text as given.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from nlp.text import lemmas

FORMAT_VERSION = 1
MAX_MATCHED_TERMS = 5
# Terms in more than this share of tickets are scored only for tickets that could reach the top.
COMMON_TERM_SHARE = 0.05
# Categories less likely than this are left out of the first pass (their agreement is bounded).
AGREEMENT_FLOOR = 0.02
# Tickets sampled to guess the k-th best score before the full candidates are scored.
THRESHOLD_SAMPLE = 4096
# Past this share of candidate tickets, scoring all tickets term by term is cheaper.
FULL_SCORING_SHARE = 0.05


@dataclass(frozen=True)
class Ticket:
    """A resolved ticket: what the customer wrote, how it was resolved, its category if any."""

    ticket_id: str
    text: str
    resolution: str
    label: str | None = None


@dataclass(frozen=True)
class Match:
    """One similar ticket; `matched_terms` are the query lemmas that added most to its score.

    `label` is the ticket's category, or the predicted one for a ticket indexed without it."""

    ticket_id: str
    score: float
    text: str
    resolution: str
    matched_terms: tuple[str, ...]
    label: str | None


@lru_cache(maxsize=1 << 20)
def _chunk_lemmas(chunk: str) -> tuple[str, ...]:
    return tuple(lemmas(chunk))


def ticket_lemmas(text: str) -> list[str]:
    """`nlp.text.lemmas(text)`, cached per whitespace-separated chunk.

    spaCy tokenises each whitespace-separated chunk on its own and the lookup lemmatiser has
    no context, so this gives the same lemmas, ten times faster on repetitive tickets.
    """
    return [lemma for chunk in text.split() for lemma in _chunk_lemmas(chunk)]


def default_classifier() -> Pipeline:
    """TF-IDF word 1-2-grams + character 2-5-grams and a LinearSVC, on space-joined lemmas."""
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    return make_pipeline(features, LinearSVC(C=1.0))


@dataclass
class _Segment:
    """Consecutive tickets, by ticket (for explanations) and by term (for search)."""

    by_ticket: sp.csr_matrix
    by_term: sp.csr_matrix

    @classmethod
    def from_rows(cls, by_ticket: sp.csr_matrix) -> _Segment:
        return cls(by_ticket, by_ticket.T.tocsr())

    def __len__(self) -> int:
        return self.by_ticket.shape[0]


@dataclass
class _Plan:
    """One query's first pass and what it left out.

    A ticket's full score is `first_pass[row] + late terms' BM25 + late_agreement[label]`,
    and what was left out adds at most `slack`."""

    term_ids: np.ndarray
    term_weights: np.ndarray
    first_pass: np.ndarray
    late_ids: np.ndarray
    late_weights: np.ndarray
    late_agreement: np.ndarray
    slack: float


def _with_columns(matrix: sp.csr_matrix, n_columns: int) -> sp.csr_matrix:
    """The same rows seen with a grown vocabulary (new columns are empty)."""
    return sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_columns)
    )


def _kth_largest(values: np.ndarray, k: int) -> float:
    return (
        float(np.partition(values, len(values) - k)[len(values) - k])
        if len(values) >= k
        else -np.inf
    )


def _rows_by_label(labels: np.ndarray, n_classes: int, offset: int = 0) -> list[np.ndarray]:
    """For each class, the rows (plus `offset`) that carry it, in order."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_classes + 1))
    return [(order[bounds[c] : bounds[c + 1]] + offset).astype(np.int64) for c in range(n_classes)]


class SimilarTicketIndex(BaseEstimator):
    """Top-k similar resolved tickets: BM25 on lemmas mixed with category agreement.

    Parameters
    ----------
    k1, b:
        BM25's term-frequency saturation and length normalisation.
    label_weight:
        Share of the score that comes from category agreement (the rest is lexical); ignored
        when no classifier could be trained. 0.7 and `temperature` 3 were chosen on a split
        of BANKING77's training set.
    temperature:
        Turns a classifier's decision scores into probabilities (softmax of score x
        temperature) when it has no `predict_proba`.
    classifier:
        Any scikit-learn classifier over space-joined lemmas; None uses
        `default_classifier()`. It is cloned and fitted on the labelled tickets.
    max_classifier_tickets:
        The classifier learns from a random sample of at most this many labelled tickets,
        which keeps a million-ticket build within minutes.
    merge_ratio:
        Recently added tickets are merged into the main segment once they reach this share
        of it.
    random_state:
        Seed of that sample.
    verbose:
        Show a progress bar while tickets are lemmatised (the long part of a large build).
    """

    def __init__(
        self,
        k1: float = 1.2,
        b: float = 0.75,
        label_weight: float = 0.7,
        temperature: float = 3.0,
        classifier: ClassifierMixin | None = None,
        max_classifier_tickets: int = 20_000,
        merge_ratio: float = 0.1,
        random_state: int = 0,
        verbose: bool = False,
    ) -> None:
        self.k1 = k1
        self.b = b
        self.label_weight = label_weight
        self.temperature = temperature
        self.classifier = classifier
        self.max_classifier_tickets = max_classifier_tickets
        self.merge_ratio = merge_ratio
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, tickets: Iterable[Ticket], y: None = None) -> SimilarTicketIndex:
        """Build the index from scratch: vocabulary, length norm and classifier."""
        tickets = list(tickets)
        self.vocabulary_: dict[str, int] = {}
        self.terms_: list[str] = []
        self.doc_freq_ = np.zeros(0, dtype=np.int64)
        self.ticket_ids_: list[str] = []
        self.texts_: list[str] = []
        self.resolutions_: list[str] = []
        self.classes_: list[str] = []
        self.labels_ = np.zeros(0, dtype=np.int32)
        self.agreement_class_ = np.zeros(0, dtype=np.int32)
        self.agreement_weight_ = np.zeros(0, dtype=np.float32)
        self.classifier_: ClassifierMixin | None = None
        self._term_max = np.zeros(0, dtype=np.float32)
        self._main = self._recent = _Segment.from_rows(sp.csr_matrix((0, 0), dtype=np.float32))
        self._seen_ids: set[str] = set()
        self._check_new_ids(tickets)
        tokens = self._lemmatise(tickets)
        lengths = [len(t) for t in tokens]
        self.avg_length_ = float(np.mean(lengths)) if sum(lengths) else 1.0
        self.classifier_ = self._fit_classifier(tickets, tokens)
        if self.classifier_ is not None:
            self.classes_ = [str(c) for c in self.classifier_.classes_]
        self._members: list[np.ndarray] = [
            np.zeros(0, dtype=np.int64) for _ in range(self._n_known_classes)
        ]
        self._append(tickets, tokens)
        return self

    def add(self, tickets: Iterable[Ticket]) -> SimilarTicketIndex:
        """Index more tickets without a rebuild; new terms become searchable at once.

        An index fitted on no tickets takes its length norm from the first ones added."""
        check_is_fitted(self, "vocabulary_")
        tickets = list(tickets)
        self._check_new_ids(tickets)
        tokens = self._lemmatise(tickets)
        if not self.ticket_ids_ and any(tokens):
            self.avg_length_ = float(np.mean([len(t) for t in tokens]))
        self._append(tickets, tokens)
        return self

    def query(self, text: str, k: int = 5) -> list[Match]:
        """The `k` best tickets for `text`, best first (fewer if fewer have any score)."""
        check_is_fitted(self, "vocabulary_")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        tokens = ticket_lemmas(text)
        if not tokens or not self.ticket_ids_:
            return []
        plan = self._plan(tokens)
        rows, scores = self._top(plan, k)
        pairs = zip(rows.tolist(), scores.tolist(), strict=True)
        return [self._match(row, score, plan) for row, score in pairs if score > 0]

    def __len__(self) -> int:
        return len(self.ticket_ids_)

    def save(self, path: str | Path) -> None:
        """Write the index as a folder, replacing any index already there."""
        check_is_fitted(self, "vocabulary_")
        path = Path(path)
        staging = path.with_name(path.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        segment = self._merged()
        sp.save_npz(staging / "by_ticket.npz", segment.by_ticket, compressed=False)
        sp.save_npz(staging / "by_term.npz", segment.by_term, compressed=False)
        for name, array in [
            ("doc_freq", self.doc_freq_),
            ("labels", self.labels_),
            ("agreement_class", self.agreement_class_),
            ("agreement_weight", self.agreement_weight_),
            ("term_max", self._term_max),
        ]:
            np.save(staging / f"{name}.npy", array)
        tickets = {"ids": self.ticket_ids_, "texts": self.texts_, "resolutions": self.resolutions_}
        (staging / "tickets.json").write_text(json.dumps(tickets, ensure_ascii=False), "utf-8")
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "classifier"}
        meta = {
            "format_version": FORMAT_VERSION,
            "params": params,
            "avg_length": self.avg_length_,
            "classes": self.classes_,
            "terms": self.terms_,
        }
        (staging / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        joblib.dump((self.classifier, self.classifier_), staging / "classifier.joblib")
        previous = path.with_name(path.name + ".old")
        shutil.rmtree(previous, ignore_errors=True)
        if path.exists():
            path.rename(previous)
        staging.rename(path)
        shutil.rmtree(previous, ignore_errors=True)

    @classmethod
    def load(cls, path: str | Path) -> SimilarTicketIndex:
        """Read an index written by `save` (the classifier is a pickle: load only your own)."""
        path = Path(path)
        meta = json.loads((path / "meta.json").read_text("utf-8"))
        if meta["format_version"] != FORMAT_VERSION:
            raise ValueError(
                f"{path}: index format {meta['format_version']}, expected {FORMAT_VERSION}"
            )
        classifier, fitted = joblib.load(path / "classifier.joblib")
        index = cls(classifier=classifier, **meta["params"])
        index.terms_ = meta["terms"]
        index.vocabulary_ = {term: i for i, term in enumerate(index.terms_)}
        index.avg_length_ = meta["avg_length"]
        index.classes_ = meta["classes"]
        index.classifier_ = fitted
        index.doc_freq_ = np.load(path / "doc_freq.npy")
        index.labels_ = np.load(path / "labels.npy")
        index.agreement_class_ = np.load(path / "agreement_class.npy")
        index.agreement_weight_ = np.load(path / "agreement_weight.npy")
        index._term_max = np.load(path / "term_max.npy")
        tickets = json.loads((path / "tickets.json").read_text("utf-8"))
        index.ticket_ids_ = tickets["ids"]
        index.texts_ = tickets["texts"]
        index.resolutions_ = tickets["resolutions"]
        index._seen_ids = set(index.ticket_ids_)
        index._members = _rows_by_label(index.agreement_class_, index._n_known_classes)
        index._main = _Segment(
            sp.load_npz(path / "by_ticket.npz").tocsr(), sp.load_npz(path / "by_term.npz").tocsr()
        )
        index._recent = _Segment.from_rows(sp.csr_matrix((0, len(index.terms_)), dtype=np.float32))
        return index

    def _lemmatise(self, tickets: Sequence[Ticket]) -> list[list[str]]:
        progress = tqdm(tickets, desc="lemmatise tickets", disable=not self.verbose, mininterval=2)
        return [ticket_lemmas(t.text) for t in progress]

    def _check_new_ids(self, tickets: Sequence[Ticket]) -> None:
        ids = [t.ticket_id for t in tickets]
        repeated = self._seen_ids.intersection(ids)
        if repeated or len(set(ids)) != len(ids):
            known = sorted(repeated) or ids
            raise ValueError(f"ticket ids already indexed or repeated: {known[:5]}")

    def _fit_classifier(
        self, tickets: Sequence[Ticket], tokens: Sequence[list[str]]
    ) -> ClassifierMixin | None:
        labelled = [i for i, t in enumerate(tickets) if t.label is not None]
        if len({tickets[i].label for i in labelled}) < 2:
            return None
        if len(labelled) > self.max_classifier_tickets:
            rng = np.random.default_rng(self.random_state)
            labelled = sorted(rng.choice(labelled, self.max_classifier_tickets, replace=False))
        model = clone(self.classifier if self.classifier is not None else default_classifier())
        return model.fit(
            [" ".join(tokens[i]) for i in labelled], [tickets[i].label for i in labelled]
        )

    def _append(self, tickets: Sequence[Ticket], tokens: Sequence[list[str]]) -> None:
        if not tickets:
            return
        vocabulary = self.vocabulary_
        columns = np.fromiter(
            (vocabulary.setdefault(term, len(vocabulary)) for doc in tokens for term in doc),
            dtype=np.int32,
        )
        new_terms = list(islice(reversed(vocabulary), len(vocabulary) - len(self.terms_)))
        self.terms_.extend(reversed(new_terms))
        width = len(vocabulary)
        lengths = np.array([len(doc) for doc in tokens])
        rows = np.repeat(np.arange(len(tokens), dtype=np.int32), lengths)
        counts = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, columns)), shape=(len(tokens), width)
        )
        counts.sum_duplicates()
        grow = width - len(self.doc_freq_)
        self.doc_freq_ = np.concatenate([self.doc_freq_, np.zeros(grow, dtype=np.int64)])
        self.doc_freq_ += np.bincount(counts.indices, minlength=width)
        norm = self.k1 * (1.0 - self.b + self.b * lengths / self.avg_length_)
        tf = counts.data
        saturated = tf * (self.k1 + 1.0) / (tf + np.repeat(norm, np.diff(counts.indptr)))
        counts.data = saturated.astype(np.float32)
        self._term_max = np.maximum(
            np.concatenate([self._term_max, np.zeros(grow, dtype=np.float32)]),
            counts.max(axis=0).toarray().ravel(),
        )
        self._append_labels(tickets, tokens)
        self._add_rows(counts)
        self.ticket_ids_.extend(t.ticket_id for t in tickets)
        self._seen_ids.update(t.ticket_id for t in tickets)
        self.texts_.extend(t.text for t in tickets)
        self.resolutions_.extend(t.resolution for t in tickets)

    def _add_rows(self, rows: sp.csr_matrix) -> None:
        width = rows.shape[1]
        recent = sp.vstack([_with_columns(self._recent.by_ticket, width), rows], format="csr")
        if len(self._main) == 0 or recent.shape[0] >= self.merge_ratio * len(self._main):
            main = sp.vstack([_with_columns(self._main.by_ticket, width), recent], format="csr")
            self._main = _Segment.from_rows(main)
            recent = sp.csr_matrix((0, width), dtype=np.float32)
        self._recent = _Segment.from_rows(recent)

    @property
    def _n_known_classes(self) -> int:
        """How many categories the classifier knows: the first ones of `classes_`."""
        return 0 if self.classifier_ is None else len(self.classifier_.classes_)

    def _append_labels(self, tickets: Sequence[Ticket], tokens: Sequence[list[str]]) -> None:
        """Record categories; a ticket without one the classifier knows agrees through the
        category the classifier predicts for it, weighted by its probability."""
        positions = {label: i for i, label in enumerate(self.classes_)}
        for label in (t.label for t in tickets):
            if label is not None and label not in positions:
                positions[label] = len(self.classes_)
                self.classes_.append(label)
        labels = np.array([positions.get(t.label, -1) for t in tickets], dtype=np.int32)
        known = self._n_known_classes
        agreement_class = np.where(labels < known, labels, -1).astype(np.int32)
        weight = (agreement_class >= 0).astype(np.float32)
        guess = np.flatnonzero(agreement_class < 0)
        if known and len(guess):
            proba = self._probabilities([" ".join(tokens[i]) for i in guess])
            agreement_class[guess] = proba.argmax(axis=1)
            weight[guess] = proba.max(axis=1)
        offset = len(self.labels_)
        new_members = _rows_by_label(agreement_class, known, offset)
        self._members = [
            np.concatenate([old, new]) if len(new) else old
            for old, new in zip(self._members, new_members, strict=True)
        ]
        self.labels_ = np.concatenate([self.labels_, labels])
        self.agreement_class_ = np.concatenate([self.agreement_class_, agreement_class])
        self.agreement_weight_ = np.concatenate([self.agreement_weight_, weight])

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        """Class probabilities in the order of the classifier's classes (first of `classes_`)."""
        with config_context(assume_finite=True):
            if hasattr(self.classifier_, "predict_proba"):
                return self.classifier_.predict_proba(texts)
            scores = self.classifier_.decision_function(texts)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        scores = scores * self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def _query_terms(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Known query terms and their weights (query term frequency x current IDF).

        The weights are divided by the query's score against a ticket identical to it."""
        known = [self.vocabulary_[t] for t in tokens if t in self.vocabulary_]
        term_ids, query_tf = np.unique(np.array(known, dtype=np.int64), return_counts=True)
        n = len(self.ticket_ids_)
        df = self.doc_freq_[term_ids]
        weights = query_tf * np.log1p((n - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1.0 - self.b + self.b * len(tokens) / self.avg_length_)
        self_score = float(np.sum(weights * query_tf * (self.k1 + 1.0) / (query_tf + norm)))
        return term_ids, (weights / self_score if self_score else weights).astype(np.float32)

    def _plan(self, tokens: list[str]) -> _Plan:
        """Score every ticket on rare terms and likely categories; bound the rest."""
        term_ids, term_weights = self._query_terms(tokens)
        alpha = self.label_weight if self.classifier_ is not None else 0.0
        lexical = (1.0 - alpha) * term_weights
        late = self.doc_freq_[term_ids] > COMMON_TERM_SHARE * len(self)
        if late.all():
            late[:] = False
        first_pass = self._term_scores(term_ids[~late], lexical[~late])
        late_agreement = np.zeros(self._n_known_classes + 1, dtype=np.float32)
        if alpha:
            agreement = alpha * self._probabilities([" ".join(tokens)])[0].astype(np.float32)
            likely = agreement >= alpha * AGREEMENT_FLOOR
            for c in np.flatnonzero(likely):
                members = self._members[c]
                first_pass[members] += agreement[c] * self.agreement_weight_[members]
            late_agreement[:-1] = np.where(likely, 0.0, agreement)
        late_ids, late_weights = term_ids[late], lexical[late]
        slack = float(np.sum(late_weights * self._term_max[late_ids]) + late_agreement.max())
        return _Plan(
            term_ids, term_weights, first_pass, late_ids, late_weights, late_agreement, slack
        )

    def _term_scores(self, term_ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted BM25 of every ticket for these terms, reading only their postings."""
        parts = []
        for segment in (self._main, self._recent):
            inside = term_ids < segment.by_term.shape[0]
            if len(segment) and inside.any():
                parts.append(segment.by_term[term_ids[inside]].T @ weights[inside])
            elif len(segment):
                parts.append(np.zeros(len(segment), dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _full_scores(self, plan: _Plan, rows: np.ndarray) -> np.ndarray:
        """The complete scores of these rows: the first pass plus what it left out."""
        scores = plan.first_pass[rows]
        if len(plan.late_ids):
            weights = np.zeros(len(self.terms_), dtype=np.float32)
            weights[plan.late_ids] = plan.late_weights
            in_main = rows < len(self._main)
            for segment, mask, start in [
                (self._main, in_main, 0),
                (self._recent, ~in_main, len(self._main)),
            ]:
                if mask.any():
                    block = segment.by_ticket[rows[mask] - start]
                    scores[mask] += block @ weights[: block.shape[1]]
        if plan.late_agreement.any():
            scores += (
                plan.late_agreement[self.agreement_class_[rows]] * self.agreement_weight_[rows]
            )
        return scores

    def _top(self, plan: _Plan, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top k: the best rows of a sample bound the k-th best score from below, then
        only rows within reach of that bound (first pass >= bound - slack) are scored in full.
        """
        first_pass = plan.first_pass
        guess = _kth_largest(first_pass[:: max(1, len(first_pass) // THRESHOLD_SAMPLE)], k)
        rows = np.flatnonzero(first_pass >= guess if guess > 0 else first_pass > 0)
        bound = _kth_largest(self._full_scores(plan, rows), k)
        if bound > 0:
            rows = np.flatnonzero(first_pass >= bound - plan.slack * (1 + 1e-4) - 1e-6)
        if bound > 0 and len(rows) <= FULL_SCORING_SHARE * len(first_pass):
            scores = self._full_scores(plan, rows)
        else:
            scores = self._complete(plan)
            rows = np.flatnonzero(scores > 0)
            scores = scores[rows]
        if len(rows) > k:
            best = np.argpartition(-scores, k - 1)[:k]
            rows, scores = rows[best], scores[best]
        order = np.lexsort((rows, -scores))
        return rows[order], scores[order]

    def _complete(self, plan: _Plan) -> np.ndarray:
        """Every row's full score, when too many or too few tickets stand out on the first pass."""
        scores = plan.first_pass + self._term_scores(plan.late_ids, plan.late_weights)
        if plan.late_agreement.any():
            scores += plan.late_agreement[self.agreement_class_] * self.agreement_weight_
        return scores

    def _match(self, row: int, score: float, plan: _Plan) -> Match:
        segment, local = (
            (self._main, row) if row < len(self._main) else (self._recent, row - len(self._main))
        )
        tickets = segment.by_ticket
        span = slice(tickets.indptr[local], tickets.indptr[local + 1])
        present = dict(
            zip(tickets.indices[span].tolist(), tickets.data[span].tolist(), strict=True)
        )
        pairs = zip(plan.term_ids.tolist(), plan.term_weights.tolist(), strict=True)
        contributions = sorted(((w * present[j], j) for j, w in pairs if j in present))[::-1]
        label = self.labels_[row] if self.labels_[row] >= 0 else self.agreement_class_[row]
        return Match(
            ticket_id=self.ticket_ids_[row],
            score=float(score),
            text=self.texts_[row],
            resolution=self.resolutions_[row],
            matched_terms=tuple(self.terms_[j] for _, j in contributions[:MAX_MATCHED_TERMS]),
            label=self.classes_[label] if label >= 0 else None,
        )

    def _merged(self) -> _Segment:
        if not len(self._recent):
            return self._main
        width = len(self.terms_)
        return _Segment.from_rows(
            sp.vstack(
                [_with_columns(self._main.by_ticket, width), self._recent.by_ticket], format="csr"
            )
        )
