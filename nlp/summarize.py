"""Extractive, speaker-aware thread summaries for handoff packets.

The summary is built from the conversation's own sentences, never generated, so it cannot state
anything nobody said. Sentences are scored by position, TF-IDF centrality within the thread and
content length, picked greedily with a redundancy penalty, stripped of leading fillers, and
rewritten in the third person ("I lost my card" -> "The customer lost their card") so an agent
reads who said what.

Two shapes of thread are handled:

* a support thread (speakers `customer`, `bot`, `agent`): up to three sentences, what the
  customer wants, what the bot tried and what is still open;
* any other dialogue (DialogSum's `#Person1#`/`#Person2#`): the `dialogue_sentences` most
  salient sentences, each led by its speaker's tag.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Token

from nlp.rewrite import third_person, without_openers
from nlp.sentiment import Trend, score_conversation, trend
from nlp.text import english, word_set

SUPPORT_SPEAKERS = {"customer": "the customer", "bot": "the bot", "agent": "the agent"}
_DEFAULT_ADDRESSEE = {"customer": "bot", "bot": "customer", "agent": "customer"}

# Words that make a sentence look substantial without saying anything in a conversation.
_SMALL_TALK = word_set(
    "hello hi hey morning afternoon evening thank thanks bye goodbye excuse sorry pardon "
    "welcome okay ok yes yeah sure mr mrs ms miss sir madam oh well dear"
)
_NOT_CONTENT = STOP_WORDS | _SMALL_TALK
_SENTENCE_END = re.compile(r"^[.?!]+$")
_SPACED_APOSTROPHE = re.compile(r"(\w) ' (\w+)")


class Turn(NamedTuple):
    """One message of a thread; `intent` and `entities` come from NLU when it ran."""

    speaker: str
    text: str
    intent: str | None = None
    entities: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class ThreadSummary:
    """At most three sentences for the agent, plus the structured fields behind them."""

    text: str
    intents: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()
    sentiment_trend: Trend = "stable"
    sentences: tuple[str, ...] = ()


@dataclass
class _Sentence:
    index: int
    speaker: str
    addressee: str | None
    tokens: list[Token]
    content: list[str]
    question: bool
    score: float = 0.0


class ThreadSummarizer(BaseEstimator):
    """Stateless extractive summariser; `fit` only exists so it composes like an estimator.

    The weights were tuned on DialogSum's dev split (see docs/bench/summaries.md).
    """

    def __init__(
        self,
        dialogue_sentences: int = 2,
        position_weight: float = 2.0,
        centrality_weight: float = 0.5,
        length_weight: float = 0.5,
        redundancy_weight: float = 0.6,
        min_content_words: int = 2,
        drop_openers: bool = True,
        third_person: bool = True,
    ) -> None:
        self.dialogue_sentences = dialogue_sentences
        self.position_weight = position_weight
        self.centrality_weight = centrality_weight
        self.length_weight = length_weight
        self.redundancy_weight = redundancy_weight
        self.min_content_words = min_content_words
        self.drop_openers = drop_openers
        self.third_person = third_person

    def fit(self, X: Any = None, y: Any = None) -> ThreadSummarizer:
        """Nothing is learned from data; kept for pipelines and `clone`."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def _more_tags(self) -> dict[str, bool]:
        return {"stateless": True}

    def transform(self, threads: Iterable[Sequence[Turn | tuple]]) -> list[str]:
        """The summary text of each thread."""
        return [self.summarize(thread).text for thread in threads]

    def summarize(self, turns: Sequence[Turn | tuple]) -> ThreadSummary:
        """Summarise one thread of `(speaker, text[, intent[, entities]])` turns."""
        check_is_fitted(self)
        thread = [Turn(*turn) for turn in turns if turn[1] and turn[1].strip()]
        if not thread:
            return ThreadSummary(text="")
        support = all(t.speaker in SUPPORT_SPEAKERS for t in thread)
        sentences, turn_lemmas = self._sentences(thread)
        self._score(sentences)
        if support:
            rendered = self._support_summary(sentences)
        else:
            chosen = self._pick(
                [s for s in sentences if len(s.content) >= self.min_content_words]
                or sentences[: self.dialogue_sentences],
                self.dialogue_sentences,
            )
            rendered = [self._render(s, support=False) for s in chosen]
        rendered = [text for text in rendered if text]
        mood_turns = [i for i, t in enumerate(thread) if t.speaker == "customer"] or range(
            len(thread)
        )
        moods = score_conversation(
            [thread[i].text for i in mood_turns], [turn_lemmas[i] for i in mood_turns]
        )
        return ThreadSummary(
            text=" ".join(rendered),
            intents=tuple(dict.fromkeys(t.intent for t in thread if t.intent)),
            entities=tuple(dict.fromkeys(_entity_pairs(thread))),
            sentiment_trend=trend(moods),
            sentences=tuple(rendered),
        )

    def _sentences(self, thread: list[Turn]) -> tuple[list[_Sentence], list[list[str]]]:
        """Split turns into sentences, each knowing its speaker and whom it addresses.

        Also returns each turn's lemmas (as `nlp.text.lemmas` gives them) for the sentiment
        scores, so no turn is parsed twice.
        """
        texts = [_SPACED_APOSTROPHE.sub(_join_apostrophe, t.text.strip()) for t in thread]
        sentences: list[_Sentence] = []
        turn_lemmas: list[list[str]] = []
        for i, doc in enumerate(english().pipe(texts)):
            tokens = [t for t in doc if not t.is_space]
            lowered = [t.lemma_.lower() for t in tokens]
            turn_lemmas.append(
                [lemma for t, lemma in zip(tokens, lowered, strict=True) if not t.is_punct]
            )
            addressee = _addressee(thread, i)
            start = 0
            for j, token in enumerate(tokens):
                ends = _SENTENCE_END.match(token.text) is not None
                last = j == len(tokens) - 1
                if not (last or (ends and not _SENTENCE_END.match(tokens[j + 1].text))):
                    continue
                span, span_lemmas = tokens[start : j + 1], lowered[start : j + 1]
                start = j + 1
                if all(t.is_punct for t in span):
                    continue
                sentences.append(
                    _Sentence(
                        index=len(sentences),
                        speaker=thread[i].speaker,
                        addressee=addressee,
                        tokens=span,
                        content=[
                            lemma
                            for lemma in span_lemmas
                            if lemma.isalnum() and lemma not in _NOT_CONTENT
                        ],
                        question=span[-1].text.endswith("?"),
                    )
                )
        return sentences, turn_lemmas

    def _score(self, sentences: list[_Sentence]) -> None:
        """Position prior + TF-IDF degree centrality within the thread + content length."""
        n = len(sentences)
        document_frequency = Counter(w for s in sentences for w in set(s.content))
        vectors = []
        for s in sentences:
            weights = {
                w: tf * (math.log((n + 1) / (document_frequency[w] + 1)) + 1)
                for w, tf in Counter(s.content).items()
            }
            norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
            vectors.append({w: v / norm for w, v in weights.items()})
        total: Counter[str] = Counter()
        for vector in vectors:
            total.update(vector)
        centrality = [sum(v * (total[w] - v) for w, v in vector.items()) for vector in vectors]
        top = max(centrality, default=0.0) or 1.0
        for s, c in zip(sentences, centrality, strict=True):
            s.score = (
                -self.position_weight * s.index / max(n - 1, 1)
                + self.centrality_weight * c / top
                + self.length_weight * min(len(s.content), 10) / 10
            )

    def _pick(self, candidates: list[_Sentence], k: int) -> list[_Sentence]:
        """Greedy maximal-marginal-relevance selection, returned in thread order."""
        chosen: list[_Sentence] = []
        left = list(candidates)
        while left and len(chosen) < k:
            best = max(left, key=lambda s: s.score - self.redundancy_weight * _overlap(s, chosen))
            chosen.append(best)
            left.remove(best)
        return sorted(chosen, key=lambda s: s.index)

    def _support_summary(self, sentences: list[_Sentence]) -> list[str]:
        """What the customer wants, what the bot (or agent) tried, what is still open."""
        substantial = [s for s in sentences if len(s.content) >= self.min_content_words]
        customer = [s for s in substantial if s.speaker == "customer"] or [
            s for s in sentences if s.speaker == "customer"
        ]
        if not customer:
            return [
                self._render(s, support=True, statement_verb="says")
                for s in self._pick(substantial, 1)
            ]
        wants = max(customer, key=lambda s: s.score)
        replies = [s for s in substantial if s.speaker != "customer" and s.index > wants.index]
        tried = (
            max(replies, key=lambda s: s.score + _overlap(s, [wants]) + s.index / len(sentences))
            if replies
            else None
        )
        after = tried.index if tried else wants.index
        still_open = next((s for s in reversed(customer) if s.index > after), None)
        rendered = [self._render(wants, support=True, statement_verb="says")]
        if tried:
            rendered.append(self._render(tried, support=True, statement_verb="tried"))
        still = self._render(still_open, support=True, statement_verb="says") if still_open else ""
        if still:
            rendered.append("Still open: " + _lower_first(still))
        return rendered

    def _render(self, sentence: _Sentence, support: bool, statement_verb: str = "") -> str:
        """The sentence in the third person, led by its speaker when it does not start with it.

        A question is led by "<speaker> asks:", a statement by "<speaker> <statement_verb>:".
        """
        tokens = without_openers(sentence.tokens) if self.drop_openers else sentence.tokens
        if not tokens:
            return ""
        speaker = _label(sentence.speaker)
        if self.third_person:
            text = third_person(tokens, speaker, _label(sentence.addressee), support)
        else:
            text = "".join(t.text_with_ws for t in tokens).strip()
        if not text.lower().startswith(speaker.lower()):
            verb = "asks" if sentence.question else statement_verb
            text = f"{speaker} {verb}: {text}" if verb else f"{speaker}: {text}"
        if not text.endswith((".", "?", "!")):
            text += "."
        return _upper_first(text)


def _join_apostrophe(match: re.Match[str]) -> str:
    """DialogSum writes "I ' Ve" and "don ' t": glue them so the tokenizer sees contractions."""
    return f"{match.group(1)}'{match.group(2).lower()}"


def _addressee(thread: list[Turn], i: int) -> str | None:
    """Whom turn `i` talks to: the last other speaker before it, else the next one after it.

    A customer alone in the thread talks to the bot, and the bot or an agent to the customer.
    """
    speaker = thread[i].speaker
    before = (t.speaker for t in reversed(thread[:i]) if t.speaker != speaker)
    after = (t.speaker for t in thread[i + 1 :] if t.speaker != speaker)
    return next(before, None) or next(after, None) or _DEFAULT_ADDRESSEE.get(speaker)


def _label(speaker: str | None) -> str:
    return SUPPORT_SPEAKERS.get(speaker or "", speaker or "")


def _overlap(sentence: _Sentence, others: list[_Sentence]) -> float:
    words = set(sentence.content)
    if not words or not others:
        return 0.0
    return max(len(words & set(o.content)) / len(words) for o in others)


def _entity_pairs(thread: list[Turn]) -> Iterable[tuple[str, str]]:
    for turn in thread:
        for entity in turn.entities:
            if "entity" in entity and "value" in entity:
                yield str(entity["entity"]), str(entity["value"])


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text
