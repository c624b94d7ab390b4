"""Which language a customer wrote in, so a message the English model cannot read is not
taken for a misunderstanding.

langid.py ships its model inside the package (no download at run time); it is restricted
to the languages the assistant has a reply in, which makes short messages far more reliable
than the full 97-language model. Short Latin-script English is still sometimes taken for
Spanish or Italian ("card lost abroad"), so callers trust a Latin-script guess only when the
intent classifier could not read the message either (see nlp.rasa_language).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from langid.langid import LanguageIdentifier, model

ENGLISH = "en"
UNDETERMINED = "und"
"""ISO 639-2's code for a language not told apart: a non-Latin script none of LANGUAGES fits."""
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")
"""ISO 639-1 codes the detector chooses from: English and those domain.yml answers in."""
CONFIDENT_AT = 0.95
"""Normalised probability a guess needs; below it the message is treated as English."""


@dataclass(frozen=True)
class Detection:
    language: str
    probability: float
    latin: bool
    """Whether the letters are Latin: a non-Latin script is itself strong evidence."""

    @property
    def foreign(self) -> bool:
        """Not English: a non-Latin script, or a confident guess of another language."""
        return not self.latin or self.language != ENGLISH


def _latin(text: str) -> bool:
    """Whether most letters are Latin ones; digits, emoji and punctuation do not count."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return True
    latin = sum(1 for char in letters if "LATIN" in unicodedata.name(char, ""))
    return latin * 2 >= len(letters)


class LanguageDetector:
    """scikit-learn-style: `predict` maps texts to `Detection`s; the model loads once."""

    def __init__(self, languages: Sequence[str] = LANGUAGES) -> None:
        self.languages = tuple(languages)
        self._identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        self._identifier.set_languages(list(self.languages))

    def detect(self, text: str) -> Detection:
        if not any(char.isalpha() for char in text):
            return Detection(ENGLISH, 0.0, latin=True)
        language, probability = self._identifier.classify(text)
        latin = _latin(text)
        if probability < CONFIDENT_AT or (language == ENGLISH and not latin):
            language = ENGLISH if latin else UNDETERMINED
        return Detection(str(language), float(probability), latin=latin)

    def predict(self, texts: Iterable[str]) -> list[Detection]:
        return [self.detect(text) for text in texts]


@lru_cache(maxsize=1)
def language_detector() -> LanguageDetector:
    """The process's detector: building it decodes a 3 MB model, about a second."""
    return LanguageDetector()
