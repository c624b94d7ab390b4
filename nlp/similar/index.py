"""`SimilarTicketIndex`: BM25 on ticket lemmas mixed with category agreement (see `nlp.similar`)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from nlp.encoder import encoder_id
from nlp.similar.categories import (
    classifier_encoder,
    fit_classifier,
    probabilities,
    rows_by_label,
)
from nlp.similar.lemmas import ticket_lemmas
from nlp.similar.postings import Postings
from nlp.similar.records import Match, Ticket
from nlp.similar.topk import exact_top_k

FORMAT_VERSION = 1
MAX_MATCHED_TERMS = 5
# Terms in more than this share of tickets are scored only for tickets that could reach the top.
COMMON_TERM_SHARE = 0.05
# Categories less likely than this are left out of the first pass (their agreement is bounded).
AGREEMENT_FLOOR = 0.02
# Per-ticket arrays written by `save`, each to `<name>.npy` (the attribute is `<name>_`).
_ARRAYS = ("doc_freq", "labels", "agreement_class", "agreement_weight")


class EncoderChangedError(ValueError):
    """A saved index's classifier was fit on embeddings this sentence encoder does not make."""


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


class SimilarTicketIndex(BaseEstimator):
    """Top-k similar resolved tickets: BM25 on lemmas mixed with category agreement.

    Parameters
    ----------
    k1, b:
        BM25's term-frequency saturation and length normalisation.
    label_weight:
        Share of the score that comes from category agreement (the rest is lexical); ignored
        when no classifier could be trained. 0.7 and `temperature` 3 were chosen on a split
        of BANKING77's training set with the TF-IDF classifier the index had before the
        encoder's, and kept.
    temperature:
        Turns a classifier's decision scores into probabilities (softmax of score x
        temperature); a classifier without decision scores gives its `predict_proba`.
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
        self._postings = Postings.empty()
        self._seen_ids: set[str] = set()
        self._check_new_ids(tickets)
        tokens = self._lemmatise(tickets)
        lengths = [len(t) for t in tokens]
        self.avg_length_ = float(np.mean(lengths)) if sum(lengths) else 1.0
        self.classifier_ = fit_classifier(
            self.classifier, tickets, tokens, self.max_classifier_tickets, self.random_state
        )
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
        rows, scores = exact_top_k(
            plan.first_pass,
            plan.slack,
            k,
            lambda rows: self._full_scores(plan, rows),
            lambda: self._complete(plan),
        )
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
        self._postings.save(staging)
        for name in _ARRAYS:
            np.save(staging / f"{name}.npy", getattr(self, f"{name}_"))
        tickets = {"ids": self.ticket_ids_, "texts": self.texts_, "resolutions": self.resolutions_}
        (staging / "tickets.json").write_text(json.dumps(tickets, ensure_ascii=False), "utf-8")
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "classifier"}
        meta = {
            "format_version": FORMAT_VERSION,
            "params": params,
            "avg_length": self.avg_length_,
            "classes": self.classes_,
            "terms": self.terms_,
            "encoder": classifier_encoder(self.classifier_),
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
        if "encoder" not in meta:
            raise EncoderChangedError(
                f"{path}: saved before indexes recorded their sentence encoder; rebuild it "
                "(crm reindex) for the encoder's category classifier"
            )
        if meta["encoder"] not in (None, encoder_id()):
            raise EncoderChangedError(
                f"{path}: its classifier was fit on another sentence encoder's embeddings; "
                "rebuild it (crm reindex)"
            )
        classifier, fitted = joblib.load(path / "classifier.joblib")
        index = cls(classifier=classifier, **meta["params"])
        index.terms_ = meta["terms"]
        index.vocabulary_ = {term: i for i, term in enumerate(index.terms_)}
        index.avg_length_ = meta["avg_length"]
        index.classes_ = meta["classes"]
        index.classifier_ = fitted
        for name in _ARRAYS:
            setattr(index, f"{name}_", np.load(path / f"{name}.npy"))
        tickets = json.loads((path / "tickets.json").read_text("utf-8"))
        index.ticket_ids_ = tickets["ids"]
        index.texts_ = tickets["texts"]
        index.resolutions_ = tickets["resolutions"]
        index._seen_ids = set(index.ticket_ids_)
        index._members = rows_by_label(index.agreement_class_, index._n_known_classes)
        index._postings = Postings.load(path, len(index.terms_))
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
        self._append_labels(tickets, tokens)
        self._postings.add(counts, self.merge_ratio)
        self.ticket_ids_.extend(t.ticket_id for t in tickets)
        self._seen_ids.update(t.ticket_id for t in tickets)
        self.texts_.extend(t.text for t in tickets)
        self.resolutions_.extend(t.resolution for t in tickets)

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
        new_members = rows_by_label(agreement_class, known, offset)
        self._members = [
            np.concatenate([old, new]) if len(new) else old
            for old, new in zip(self._members, new_members, strict=True)
        ]
        self.labels_ = np.concatenate([self.labels_, labels])
        self.agreement_class_ = np.concatenate([self.agreement_class_, agreement_class])
        self.agreement_weight_ = np.concatenate([self.agreement_weight_, weight])

    def _probabilities(self, texts: list[str]) -> np.ndarray:
        return probabilities(self.classifier_, texts, self.temperature)

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
        first_pass = self._postings.term_scores(term_ids[~late], lexical[~late])
        late_agreement = np.zeros(self._n_known_classes + 1, dtype=np.float32)
        if alpha:
            agreement = alpha * self._probabilities([" ".join(tokens)])[0].astype(np.float32)
            likely = agreement >= alpha * AGREEMENT_FLOOR
            for c in np.flatnonzero(likely):
                members = self._members[c]
                first_pass[members] += agreement[c] * self.agreement_weight_[members]
            late_agreement[:-1] = np.where(likely, 0.0, agreement)
        late_ids, late_weights = term_ids[late], lexical[late]
        term_max = self._postings.term_max
        slack = float(np.sum(late_weights * term_max[late_ids]) + late_agreement.max())
        return _Plan(
            term_ids, term_weights, first_pass, late_ids, late_weights, late_agreement, slack
        )

    def _full_scores(self, plan: _Plan, rows: np.ndarray) -> np.ndarray:
        """The complete scores of these rows: the first pass plus what it left out."""
        scores = plan.first_pass[rows]
        if len(plan.late_ids):
            weights = np.zeros(len(self.terms_), dtype=np.float32)
            weights[plan.late_ids] = plan.late_weights
            scores += self._postings.row_scores(rows, weights)
        if plan.late_agreement.any():
            scores += (
                plan.late_agreement[self.agreement_class_[rows]] * self.agreement_weight_[rows]
            )
        return scores

    def _complete(self, plan: _Plan) -> np.ndarray:
        """Every row's full score, when too many or too few tickets stand out on the first pass."""
        scores = plan.first_pass + self._postings.term_scores(plan.late_ids, plan.late_weights)
        if plan.late_agreement.any():
            scores += plan.late_agreement[self.agreement_class_] * self.agreement_weight_
        return scores

    def _match(self, row: int, score: float, plan: _Plan) -> Match:
        present = self._postings.row(row)
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
