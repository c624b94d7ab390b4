"""Intent classification: two sentence embeddings beside word and character TF-IDF, a linear SVM.

The embeddings (all-MiniLM-L6-v2 and the Universal Sentence Encoder, `nlp.encoder`) carry
meaning across phrasings that share no words ("take cash out" / "withdraw money"); word n-grams
keep the exact terms a bank's intents turn on ("top up" / "transfer"); character n-grams catch
typos. A linear SVM on their union trains in seconds where DIET needs hours on the same data. An
SVM's scores are not probabilities, so one temperature, fitted on out-of-fold scores, turns them
into confidences that Rasa's FallbackClassifier can compare with a threshold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from nlp.encoder import shared_encoder, shared_universal_encoder

# Words of one letter ("a", "i") and digits carry meaning in short banking queries.
WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"
# Bounds of log(scale): from 20x softer to 150x sharper than the raw SVM scores.
LOG_SCALE_BOUNDS = (-3.0, 5.0)
# The Universal Sentence Encoder's weight: the best mean accuracy on 4-fold splits of BANKING77's
# and HWU64's training sets, with C kept at 0.5 (1.0 and 1.5 were within 0.05 points).
UNIVERSAL_WEIGHT = 1.25
# Above this many texts, computing their embeddings shows a progress bar.
PROGRESS_MIN_TEXTS = 500


def _two_columns(scores: np.ndarray) -> np.ndarray:
    """A binary SVM's single score column as one column per class, as for three or more."""
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _texts(X: Iterable[str]) -> list[str]:
    texts = [X] if isinstance(X, str) else list(X)
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("IntentClassifier expects an iterable of strings")
    return texts


@dataclass(frozen=True)
class TermWeights:
    """A fitted TfidfVectorizer's row for one text, as its nonzero columns and values.

    The numbers of `vectorizer.transform([text])` (up to the last bit of rounding: the sums run
    in another order), without the input checks and the four sparse matrices sklearn builds
    per call: 1.1-1.3 ms for one short message, a fifth of the whole parse, where counting
    its terms takes tens of microseconds.
    """

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer) -> TermWeights:
        if vectorizer.norm != "l2" or not vectorizer.use_idf or vectorizer.binary:
            raise ValueError("TermWeights reproduces l2-normalised idf-weighted counts only")
        return cls(
            vectorizer.build_analyzer(),
            vectorizer.vocabulary_,
            vectorizer.idf_,
            vectorizer.sublinear_tf,
        )

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(term for term in self.analyzer(text) if term in self.vocabulary)
        columns = np.fromiter((self.vocabulary[term] for term in counts), np.intp, len(counts))
        values = np.fromiter(counts.values(), np.float64, len(counts))
        if self.sublinear_tf:
            values = np.log(values) + 1.0
        values *= self.idf[columns]
        length = np.sqrt(values @ values)
        return columns, values / length if length else values

    def score(self, text: str, weights: np.ndarray) -> np.ndarray:
        """This text's row times `weights` (one row per column of the vectorizer)."""
        columns, values = self(text)
        return values @ weights[columns]


class IntentClassifier(ClassifierMixin, BaseEstimator):
    """Predicts intents from raw texts; `predict_proba` columns follow `classes_`.

    `embedding_weight` scales the unit-length MiniLM embedding against the TF-IDF rows (also
    unit length), `universal_weight` the Universal Sentence Encoder's; 0 leaves one out and never
    loads its encoder. `lemmas` feeds spaCy lemmas instead of the words to the word vectoriser:
    off by default, as beside the MiniLM embedding (before the second encoder) they gained 0.35
    points on a BANKING77 validation split, lost 0.25 on HWU64's and cost 0.75 ms a message.
    `C` and `multi_class` are passed to `LinearSVC`; `calibration_folds` out-of-fold fits give
    the scores the temperature is fitted on (below 2: no calibration). The defaults were chosen
    on 4-fold splits of both training sets. With
    `embedding_weight=0, universal_weight=0, lemmas=True, char_ngram_range=(1, 4), C=1.0` this
    is the classifier shipped before the embeddings.
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        sublinear_tf: bool = True,
        C: float = 0.5,
        multi_class: str = "ovr",
        class_weight: dict[str, float] | str | None = None,
        embedding_weight: float = 1.5,
        universal_weight: float = UNIVERSAL_WEIGHT,
        lemmas: bool = False,
        calibration_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.multi_class = multi_class
        self.class_weight = class_weight
        self.embedding_weight = embedding_weight
        self.universal_weight = universal_weight
        self.lemmas = lemmas
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _word_vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=tuple(self.word_ngram_range),
            sublinear_tf=self.sublinear_tf,
            token_pattern=WORD_TOKEN_PATTERN,
        )

    def _char_vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.char_ngram_range),
            sublinear_tf=self.sublinear_tf,
            lowercase=True,
        )

    def _svm(self) -> LinearSVC:
        return LinearSVC(
            C=self.C,
            multi_class=self.multi_class,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )

    def _words(self, texts: list[str]) -> list[str]:
        if not self.lemmas:
            return texts
        # Imported here: spaCy (and TensorFlow, which thinc imports) cost seconds to load.
        from nlp.text import lemmatized

        return lemmatized(texts)

    def _embeddings(self, texts: list[str]) -> list[np.ndarray]:
        blocks = []
        if self.embedding_weight:
            vectors = shared_encoder().encode(texts, progress=len(texts) > PROGRESS_MIN_TEXTS)
            blocks.append(vectors * np.float32(self.embedding_weight))
        if self.universal_weight:
            vectors = shared_universal_encoder().encode(texts)
            blocks.append(vectors * np.float32(self.universal_weight))
        return blocks

    def __setstate__(self, state: dict) -> None:
        # Pickled before the Universal Sentence Encoder existed: fit without it.
        state.setdefault("universal_weight", 0.0)
        super().__setstate__(state)

    def uses_encoders(self) -> bool:
        """Whether it is fit on sentence embeddings, and so valid only for their encoders."""
        return bool(self.embedding_weight or self.universal_weight)

    def fit(self, X: Iterable[str], y: Sequence[str]) -> IntentClassifier:
        texts = _texts(X)
        labels = np.asarray(y)
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError("IntentClassifier needs at least two intents")
        self.word_vectorizer_ = self._word_vectorizer()
        self.char_vectorizer_ = self._char_vectorizer()
        blocks = [
            self.word_vectorizer_.fit_transform(self._words(texts)),
            self.char_vectorizer_.fit_transform(texts),
            *self._embeddings(texts),
        ]
        features = hstack([csr_matrix(block) for block in blocks], format="csr")
        svm = self._svm().fit(features, labels)
        # The weights split by feature block: scoring one message then needs no sparse hstack,
        # which cost more than the SVM itself (1.3 ms of 4).
        bounds = np.cumsum([block.shape[1] for block in blocks])[:-1]
        self.coef_blocks_ = [np.ascontiguousarray(w) for w in np.split(svm.coef_.T, bounds)]
        self.intercept_ = svm.intercept_
        self.word_terms_ = TermWeights.of(self.word_vectorizer_)
        self.char_terms_ = TermWeights.of(self.char_vectorizer_)
        self.scale_ = self._fit_scale(features, labels)
        return self

    def _fit_scale(self, features: csr_matrix, labels: np.ndarray) -> float:
        """The softmax scale that minimises the log-loss of out-of-fold SVM scores.

        Intents with fewer examples than folds cannot be held out in every fold, so the scale
        is fitted on the others (it is one number for all intents); with fewer than two such
        intents, fewer folds are tried, down to two, before leaving the scores as they are.
        """
        classes, counts = np.unique(labels, return_counts=True)
        for folds in range(self.calibration_folds, 1, -1):
            kept_classes = classes[counts >= folds]
            if len(kept_classes) >= 2:
                break
        else:
            return 1.0
        kept = np.isin(labels, kept_classes)
        scores = cross_val_predict(
            self._svm(),
            features[kept],
            labels[kept],
            cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state),
            method="decision_function",
        )
        scores = _two_columns(scores)
        rows = np.arange(len(scores))
        columns = np.searchsorted(kept_classes, labels[kept])

        def log_loss(log_scale: float) -> float:
            return -log_softmax(scores * np.exp(log_scale), axis=1)[rows, columns].mean()

        result = minimize_scalar(log_loss, bounds=LOG_SCALE_BOUNDS, method="bounded")
        return float(np.exp(result.x))

    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        check_is_fitted(self)
        texts = _texts(X)
        word_weights, char_weights, *embedding_weights = self.coef_blocks_
        scores = np.array(
            [
                self.word_terms_.score(words, word_weights)
                + self.char_terms_.score(text, char_weights)
                for words, text in zip(self._words(texts), texts, strict=True)
            ]
        ).reshape(len(texts), -1)
        for embeddings, weights in zip(self._embeddings(texts), embedding_weights, strict=True):
            scores += embeddings @ weights
        scores += self.intercept_
        return _two_columns(scores[:, 0] if scores.shape[1] == 1 else scores)

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        return softmax(self.decision_function(X) * self.scale_, axis=1)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        scores = self.decision_function(X)
        return self.classes_[scores.argmax(axis=1)]


@dataclass(frozen=True)
class FallbackThreshold:
    """A confidence threshold and what it did on the held-out data it was chosen on."""

    threshold: float
    handled_rate: float
    fallback_rate: float
    accuracy_answered: float


def choose_fallback_threshold(
    confidences: Sequence[float],
    correct: Sequence[bool],
    fallback_cost: float = 1.0,
    max_threshold: float = 0.95,
) -> FallbackThreshold:
    """The threshold that minimises wrong answers plus `fallback_cost` per needless fallback.

    A message below the threshold goes to the fallback. Answering wrongly costs 1; sending a
    message that would have been answered correctly to the fallback costs `fallback_cost`;
    sending a would-be-wrong message there costs nothing. With the default cost of 1 this is
    "accuracy with rejection": a message is handled well when it is answered correctly or
    when a wrong answer is held back. Ties go to the lowest threshold (fewest fallbacks).
    """
    conf = np.asarray(confidences, dtype=float)
    right = np.asarray(correct, dtype=bool)
    if conf.shape != right.shape or conf.size == 0:
        raise ValueError("confidences and correct must be non-empty and of equal length")
    order = np.argsort(conf, kind="stable")
    conf, right = conf[order], right[order]
    candidates = np.unique(np.concatenate([[0.0], conf[conf <= max_threshold]]))
    # With the texts sorted by confidence, a threshold sends the first `rejected` to fallback.
    rejected = np.searchsorted(conf, candidates, side="left")
    right_rejected = np.concatenate([[0], np.cumsum(right)])[rejected]
    wrong_rejected = rejected - right_rejected
    cost = (np.count_nonzero(~right) - wrong_rejected) + fallback_cost * right_rejected
    best = int(np.argmin(cost))
    chosen = conf >= candidates[best]
    return FallbackThreshold(
        threshold=float(candidates[best]),
        handled_rate=float(((chosen & right) | (~chosen & ~right)).mean()),
        fallback_rate=float((~chosen).mean()),
        accuracy_answered=float(right[chosen].mean()) if chosen.any() else 0.0,
    )
