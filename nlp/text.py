"""Shared text normalisation: spaCy's blank English pipeline with the lookup lemmatiser.

No model is downloaded: the lemma tables come from the `spacy-lookups-data` package.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import spacy
from spacy.language import Language


@lru_cache(maxsize=1)
def english() -> Language:
    """A blank English pipeline with a lookup lemmatiser, built once per process."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def lemmas(text: str) -> list[str]:
    """Lower-cased lemmas of the words and numbers in `text` (punctuation and spaces dropped)."""
    return [
        token.lemma_.lower() for token in english()(text) if not (token.is_punct or token.is_space)
    ]


def lemmatized(texts: Iterable[str], batch_size: int = 256) -> list[str]:
    """Each text as its space-joined lemmas, for vectorisers that expect strings."""
    return [
        " ".join(t.lemma_.lower() for t in doc if not (t.is_punct or t.is_space))
        for doc in english().pipe(texts, batch_size=batch_size)
    ]


def word_set(words: str) -> frozenset[str]:
    """A word list written as one space-separated string, as a set."""
    return frozenset(words.split())
