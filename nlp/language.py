"""Which language a customer wrote in, so a message the English model cannot read is not
taken for a misunderstanding.

The script decides first: Hangul is Korean, kana Japanese, Han characters without kana
Chinese, Cyrillic Russian and Arabic script Arabic (of the languages the assistant has a
reply in); another non-Latin script is a language without a reply (`UNDETERMINED`). Only
Latin-script text is left to langid.py, which ships its model inside the package (no download
at run time) and chooses among the Latin-script languages the assistant answers in: far more
reliable on short messages than its full 97-language model, and unable to call an English
message Korean because of an emoji (langid reads UTF-8 bytes, and an emoji's bytes look
Korean to it). langid reads only the words: emoji, digits and other symbols are left out.
Short Latin-script English is still sometimes taken for Spanish or Italian ("card lost
abroad"), so callers trust a Latin-script guess only when the intent classifier could not
read the message either (see nlp.rasa_language).

langid always names some language, keyboard mashing included ("qwpeoir zxmcnv", "asdf jkl"),
so `gibberish` tells such text apart: none of its words is a word of a language we answer in
(spaCy's stop words of each and its English lemma table) and some are not even pronounceable
(no vowel, or six consonants in a row). Greetings a wordlist lacks ("hola", "danke") are
pronounceable, so they are still another language.
"""

from __future__ import annotations

import gzip
import importlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langid.langid import LanguageIdentifier, model

ENGLISH = "en"
UNDETERMINED = "und"
"""ISO 639-2's code for a language not told apart: a non-Latin script none of LANGUAGES fits."""
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")
"""ISO 639-1 codes the detector chooses from: English and those domain.yml answers in."""
LATIN_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr")
"""The ones written in Latin script: the only ones langid has to tell apart."""
SCRIPT_LANGUAGES = (
    ("HANGUL", "ko"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
)
"""Unicode script (the first word of a letter's name) -> the language it is taken for, in
order of precedence: kana anywhere makes Han characters Japanese rather than Chinese."""
CONFIDENT_AT = 0.95
"""Normalised probability a Latin-script guess needs; below it the message is English."""


VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœı")
CONSONANT_RUN = re.compile(r"[^aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœı]{6,}")
"""Six consonants in a row ("asdfghjkl"): English has five ("strengths"), German compounds
more, but rarely a chat message of one such word alone."""
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@lru_cache(maxsize=1)
def wordlist() -> frozenset[str]:
    """Words of the languages we answer in: spaCy's stop words for each Latin-script one (the
    function words every sentence has) and spaCy-lookups-data's English lemma table (English
    content words); a missing package leaves its part out."""
    words: set[str] = set()
    for language in LATIN_LANGUAGES:
        try:
            module = importlib.import_module(f"spacy.lang.{language}.stop_words")
        except ImportError:
            continue
        words.update(word.lower() for word in module.STOP_WORDS)
    try:
        lookups = importlib.import_module("spacy_lookups_data")
        path = Path(lookups.__file__).parent / "data" / "en_lemma_lookup.json.gz"
        with gzip.open(path, "rt", encoding="utf-8") as table:
            lemmas = json.load(table)
        words.update(form.lower() for form in lemmas)
        words.update(lemma.lower() for lemma in lemmas.values() if isinstance(lemma, str))
    except (ImportError, OSError, ValueError):
        pass
    return frozenset(words)


def pronounceable(word: str) -> bool:
    """Whether a word could be one: it has a vowel and no six consonants in a row."""
    folded = word.lower()
    return any(char in VOWELS for char in folded) and not CONSONANT_RUN.search(folded)


def gibberish(text: str) -> bool:
    """Latin-script letters that are no language's words: none is in `wordlist` and some are
    not pronounceable ("qwpeoir zxmcnv", "lkjhg poiuy", "asdf jkl")."""
    if not _latin(text):
        return False
    words = [word.lower() for word in _WORD.findall(text)]
    if not words:
        return False
    known = wordlist()
    if any(word in known or word.replace("'", "") in known for word in words):
        return False
    return not all(pronounceable(word) for word in words)


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


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def _latin(text: str) -> bool:
    """Whether most letters are Latin ones; digits, emoji and punctuation do not count."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return True
    latin = sum(1 for char in letters if "LATIN" in unicodedata.name(char, ""))
    return latin * 2 >= len(letters)


def script_language(text: str) -> str:
    """The language a non-Latin script names, or UNDETERMINED for a script none of ours uses."""
    scripts = {_script(char) for char in text if char.isalpha()}
    for script, language in SCRIPT_LANGUAGES:
        if script in scripts:
            return language
    return UNDETERMINED


def words_only(text: str) -> str:
    """The text without emoji, digits or other symbols: what langid should read."""
    kept = (
        char if char.isalpha() or unicodedata.category(char)[0] in "MP" else " " for char in text
    )
    return " ".join("".join(kept).split())


class LanguageDetector:
    """scikit-learn-style: `predict` maps texts to `Detection`s; the model loads once."""

    def __init__(self, languages: Sequence[str] = LANGUAGES) -> None:
        self.languages = tuple(languages)
        self._identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        self._latin = [language for language in LATIN_LANGUAGES if language in self.languages]
        self._identifier.set_languages(self._latin)

    def _latin_guess(self, text: str) -> tuple[str, float]:
        """langid's best Latin-script language for the words, with its probability."""
        language, probability = self._identifier.classify(words_only(text))
        return str(language), float(probability)

    def detect(self, text: str) -> Detection:
        if not any(char.isalpha() for char in text):
            return Detection(ENGLISH, 0.0, latin=True)
        if not _latin(text):
            language = script_language(text)
            if language not in self.languages:
                language = UNDETERMINED
            return Detection(language, 1.0, latin=False)
        language, probability = self._latin_guess(text)
        if probability < CONFIDENT_AT:
            language = ENGLISH
        return Detection(language, probability, latin=True)

    def predict(self, texts: Iterable[str]) -> list[Detection]:
        return [self.detect(text) for text in texts]


@lru_cache(maxsize=1)
def language_detector() -> LanguageDetector:
    """The process's detector: building it decodes a 3 MB model, about a second."""
    return LanguageDetector()


@lru_cache(maxsize=4096)
def detect_language(text: str) -> Detection:
    """The process's detector's reading of a message, remembered: the language components and
    the sentiment scorer each ask about the same message."""
    return language_detector().detect(text)
