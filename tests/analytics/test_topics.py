"""Topics of customer messages: clear themes found and named, messages assigned (or left as
other), determinism, small and empty input, the complaint/request digest, and purity on
HWU64's real requests against its scenarios."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analytics.topics import (
    COMPLAINTS,
    OTHER,
    REQUESTS,
    FeedbackDigest,
    TopicModel,
    label,
    message_kind,
    terms,
)

HWU64 = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "hwu64"

THEMES = {
    "card": [
        "My new card has not arrived yet",
        "The card I ordered still has not arrived",
        "When will my new card arrive?",
        "Card never arrived in the post",
        "Still waiting for my card to arrive",
        "Has my replacement card been posted? It has not arrived",
    ],
    "exchange": [
        "What exchange rate do you use for euros?",
        "The exchange rate abroad was bad",
        "Why was the exchange rate so poor in Spain?",
        "Exchange rate for dollars looks wrong",
        "Which exchange rate applies when I pay abroad?",
        "I got a terrible exchange rate on holiday",
    ],
    "pin": [
        "My PIN is blocked after three tries",
        "I forgot my PIN and it is blocked now",
        "How do I unblock my PIN?",
        "PIN blocked at the cash machine",
        "Entered the wrong PIN and now it is blocked",
        "Can you reset my blocked PIN?",
    ],
}
CORPUS = [text for texts in THEMES.values() for text in texts]
KEYWORD = {"card": "arrive", "exchange": "exchange rate", "pin": "pin"}


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel(n_topics=3).fit(CORPUS)


def theme_of(model: TopicModel, theme: str) -> int:
    """The topic whose keywords hold the theme's keyword."""
    (index,) = [
        i
        for i, topic in enumerate(model.topics_)
        if KEYWORD[theme] in [word for word, _ in topic.keywords]
    ]
    return index


def test_three_clear_themes_give_three_named_topics(model: TopicModel) -> None:
    assert len(model.topics_) == 3
    indices = {theme: theme_of(model, theme) for theme in THEMES}
    assert sorted(indices.values()) == [0, 1, 2]
    for theme, index in indices.items():
        topic = model.topics_[index]
        assert topic.label == label(word for word, _ in topic.keywords)
        assert 2 <= len(topic.label.split(", ")) <= 3
        assert KEYWORD[theme].split()[0] in topic.label
        assert sum(weight for _, weight in topic.keywords) == pytest.approx(1.0, abs=1e-3)
        weights = [weight for _, weight in topic.keywords]
        assert weights == sorted(weights, reverse=True)
        assert 1 <= len(topic.examples) <= 3 and set(topic.examples) <= set(THEMES[theme])
        assert len(set(topic.examples)) == len(topic.examples)
        assert topic.size == len(THEMES[theme])


def test_each_message_goes_to_its_theme_or_to_other(model: TopicModel) -> None:
    for theme, texts in THEMES.items():
        assert set(model.predict(texts).tolist()) == {theme_of(model, theme)}
    new = [
        "my card still has not arrived",
        "what is today's exchange rate",
        "pin blocked again",
        "the weather is lovely today",
        "",
    ]
    expected = [theme_of(model, "card"), theme_of(model, "exchange"), theme_of(model, "pin")]
    assert model.predict(new).tolist() == [*expected, OTHER, OTHER]
    similarity = model.transform(new)
    assert similarity.shape == (5, 3) and np.all((similarity >= 0) & (similarity <= 1 + 1e-9))


def test_the_same_messages_give_the_same_topics(model: TopicModel) -> None:
    again = TopicModel(n_topics=3).fit(CORPUS)
    assert again.topics_ == model.topics_
    assert np.array_equal(again.transform(CORPUS), model.transform(CORPUS))


def test_duplicates_in_a_batch_are_assigned_like_single_messages(model: TopicModel) -> None:
    texts = ["pin blocked", "card not arrived", "pin blocked"] * 3
    one_by_one = [int(model.predict([text])[0]) for text in texts]
    assert model.predict(texts).tolist() == one_by_one
    assert one_by_one[:2] == [theme_of(model, "pin"), theme_of(model, "card")]


def test_small_data_gives_fewer_topics_than_asked() -> None:
    texts = [
        "Card has not arrived",
        "My card has not arrived",
        "PIN blocked",
        "My PIN is blocked",
    ] * 5
    fitted = TopicModel(n_topics=15).fit(texts)
    assert 1 <= len(fitted.topics_) <= 2
    assert len(set(fitted.predict(texts).tolist()) - {OTHER}) == len(fitted.topics_)


@pytest.mark.parametrize(
    "texts", [[], ["", "   "], ["hello", "thanks", "ok"], ["card"], ["lost card", "lost card"]]
)
def test_tiny_or_empty_input_fits_and_predicts(texts: list[str]) -> None:
    fitted = TopicModel().fit(texts)
    assert len(fitted.topics_) <= 1
    labels = fitted.predict(["lost card", "hello"])
    assert labels.shape == (2,) and labels[1] == OTHER
    assert fitted.predict([]).shape == (0,)


def test_terms_are_content_lemmas_and_adjacent_bigrams() -> None:
    assert terms("Great, all sorted, thank you!") == ["great", "sort"]
    assert terms("Can I change the date of my standing order?") == [
        "change",
        "date",
        "stand",
        "order",
        "stand order",
    ]


@pytest.mark.parametrize(
    ("text", "sentiment", "kind"),
    [
        ("This is awful, you charged me a fee again", -0.41, COMPLAINTS),
        ("How do I add my card to Apple Pay?", -0.10, REQUESTS),
        ("Why did you block my card again?! This is a disgrace", -0.8, COMPLAINTS),
        ("I need to update my address", 0.0, REQUESTS),
        ("Brilliant service, thanks", 0.77, None),
        ("My card arrived", None, None),
    ],
)
def test_message_kind(text: str, sentiment: float | None, kind: str | None) -> None:
    assert message_kind(text, sentiment) == kind


def test_the_digest_summarises_complaints_and_requests_per_segment() -> None:
    digest = FeedbackDigest()
    for _ in range(3):
        digest.add(0, 7, "This is awful, you charged me a fee again without warning.", -0.6)
    digest.add(0, None, "I was charged twice for the same coffee, terrible.", -0.5)
    digest.add(0, 7, "Can you refund the fee please?", 0.1)
    digest.add(1, 7, "Lovely, thanks!", 0.8)
    digest.add(OTHER, 7, "This is the worst, nothing works.", -0.9)

    out = digest.digests()

    assert set(out) == {0}
    complaints, requests = out[0][COMPLAINTS], out[0][REQUESTS]
    assert set(complaints) == {"all", "7"} and set(requests) == {"all", "7"}
    assert "charged me a fee again" in complaints["7"] and "coffee" not in complaints["7"]
    assert "charged me a fee again" in complaints["all"] and "coffee" in complaints["all"]
    assert "refund the fee" in requests["all"]


def test_the_digest_keeps_its_counts_bounded() -> None:
    digest = FeedbackDigest(keep=40)
    for i in range(200):
        digest.add(0, None, f"Awful, fee number {i} charged again", -0.6)
    digest.add(0, None, "Awful, a fee charged again", -0.6)
    assert max(len(counts) for counts in digest._counts.values()) <= 40


@pytest.mark.skipif(not HWU64.exists(), reason="../shared/datasets/hwu64 is not here")
def test_topics_of_real_requests_match_their_scenarios() -> None:
    """Fitted on HWU64's train split, untuned for it; each test request's topic is scored
    against its scenario (the intent's prefix: alarm, music, weather...)."""

    def read(split: str) -> tuple[list[str], list[str]]:
        with open(HWU64 / f"{split}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return [r["text"] for r in rows], [r["category"].split("_")[0] for r in rows]

    train, _ = read("train")
    test, scenarios = read("test")
    labels = TopicModel(n_topics=15).fit(train).predict(test)
    assigned = np.flatnonzero(labels != OTHER)
    majority = sum(
        Counter(scenarios[i] for i in assigned if labels[i] == topic).most_common(1)[0][1]
        for topic in set(labels[assigned].tolist())
    )
    assert majority / len(assigned) >= 0.7
    assert len(assigned) / len(test) >= 0.5
