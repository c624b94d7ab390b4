"""The retrieval systems the similar-ticket benchmark compares, behind one `build`/`search`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

from nlp.similar import SimilarTicketIndex, Ticket

K = 10


def top_k(scores: np.ndarray, k: int = K) -> np.ndarray:
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]


def tfidf_categories() -> Pipeline:
    """The index's category classifier before the sentence encoders: TF-IDF word 1-2-grams and
    character 2-5-grams, LinearSVC."""
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    return make_pipeline(features, LinearSVC(C=1.0))


class OurIndex:
    """`SimilarTicketIndex`; with `use_labels=False` the tickets carry no category (BM25 only);
    `classifier` replaces its category classifier."""

    def __init__(self, use_labels: bool = True, classifier: Any = None) -> None:
        self.use_labels = use_labels
        self.classifier = classifier

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        self.labels = labels
        self.index = SimilarTicketIndex(verbose=progress, classifier=self.classifier).fit(
            Ticket(str(i), text, f"resolved: {label}", label if self.use_labels else None)
            for i, (text, label) in enumerate(zip(texts, labels, strict=True))
        )

    def search(self, query: str) -> list[str]:
        return [self.labels[int(m.ticket_id)] for m in self.index.query(query, K)]


class TfidfCosine:
    """The plain baseline: scikit-learn TF-IDF on word 1-2-grams, cosine, exhaustive."""

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        self.labels = labels
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), dtype=np.float32)
        self.matrix = self.vectorizer.fit_transform(texts)

    def search(self, query: str) -> list[str]:
        scores = (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()
        return [self.labels[i] for i in top_k(scores)]


class Bm25s:
    """BM25 from the `bm25s` package (its defaults: Lucene variant, English stop words)."""

    def build(self, texts: Sequence[str], labels: Sequence[str], progress: bool = False) -> None:
        import bm25s

        self.bm25s = bm25s
        self.labels = labels
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), show_progress=progress)
        self.retriever.index(tokens, show_progress=progress)

    def search(self, query: str) -> list[str]:
        tokens = self.bm25s.tokenize([query], show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = self.retriever.retrieve(tokens, k=K, show_progress=False)
        return [self.labels[i] for i in docs[0]]


SYSTEMS: dict[str, Callable[[], OurIndex | TfidfCosine | Bm25s]] = {
    "similar_index": OurIndex,
    "similar_index_tfidf_categories": lambda: OurIndex(classifier=tfidf_categories()),
    "similar_index_without_labels": lambda: OurIndex(use_labels=False),
    "tfidf_cosine": TfidfCosine,
    "bm25s": Bm25s,
}
