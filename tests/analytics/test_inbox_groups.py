"""Grouping inbox messages: rewordings together, unrelated requests apart, deterministic."""

from __future__ import annotations

from typing import Any

from analytics.inbox_groups import group
from bench.inbox_groups import by_intent, measure
from bot.training import existing_examples


def items(*texts: str, intents: list[str | None] | None = None) -> list[dict[str, Any]]:
    predicted = intents or [None] * len(texts)
    return [
        {"id": index + 10, "text": text, "predicted_intent": intent}
        for index, (text, intent) in enumerate(zip(texts, predicted, strict=True))
    ]


def texts_of(groups: list[dict[str, Any]]) -> list[list[str]]:
    return [[item["text"] for item in g["items"]] for g in groups]


def test_nothing_to_group() -> None:
    assert group([]) == []


def test_one_message_is_one_group() -> None:
    [only] = group(items("where is my new card"))
    assert only["key"] == "10"
    assert only["size"] == 1
    assert only["label"] == "card, new"


def test_rewordings_share_a_group_and_unrelated_requests_do_not() -> None:
    groups = group(
        items(
            "my card hasn't arrived",
            "how do I change my pin",
            "card still not arrived",
            "what's the exchange rate for euros",
            "when will my card arrive",
            "change pin number please",
        )
    )
    assert texts_of(groups) == [
        ["my card hasn't arrived", "card still not arrived", "when will my card arrive"],
        ["how do I change my pin", "change pin number please"],
        ["what's the exchange rate for euros"],
    ]
    assert [g["key"] for g in groups] == ["10", "11", "13"]
    assert [g["size"] for g in groups] == [3, 2, 1]
    assert groups[0]["label"] == "card, arrived, arrive"


def test_the_same_items_give_the_same_groups() -> None:
    given = items(*[f"card {word} not arrived" for word in ("still", "has", "yet")], "pin help")
    assert group(given) == group(list(given))


def test_the_suggestion_is_the_most_common_real_intent() -> None:
    [only] = group(
        items(
            "card not arrived",
            "card still not arrived",
            "card has not arrived",
            "card not arrived yet",
            intents=["nlu_fallback", "nlu_fallback", "card_arrival", "card_delivery_estimate"],
        )
    )
    # The fallback is never suggested; a tie goes to the alphabetically first intent.
    assert only["suggested_intent"] == "card_arrival"
    assert group(items("card not arrived", intents=["nlu_fallback"]))[0]["suggested_intent"] is None


def test_texts_without_words_still_get_groups() -> None:
    groups = group(items("🙂", "?", "the"))
    assert sorted(g["size"] for g in groups) == [1, 1, 1]
    assert all(g["label"] == "" for g in groups)
    assert group(items("🙂", "🙂"))[0]["size"] == 2


def test_different_emoji_are_different_requests() -> None:
    """The encoder reads every emoji as one unknown token; they must not merge on that."""
    groups = group(items("👍", "😡", "🙏", "", "   ", "👍"))
    assert sorted(texts_of(groups)) == sorted([[""], ["   "], ["🙏"], ["👍", "👍"], ["😡"]])


def test_rewordings_that_share_no_word_share_a_group() -> None:
    """The sentence encoder's part: TF-IDF alone keeps these two apart."""
    given = items(
        "how can I take cash out",
        "I want to withdraw money",
        "what is the exchange rate for dollars",
        "my card has not arrived yet",
    )
    expected_pair = ["how can I take cash out", "I want to withdraw money"]
    assert texts_of(group(given))[0] == expected_pair
    assert expected_pair not in texts_of(group(given, distance=0.8, embedding_share=0.0))


DRAWS = 12
"""Four draws moved by two points when two intents joined data/nlu; twelve move less."""


def test_groups_of_the_projects_own_examples_are_mostly_one_intent() -> None:
    """The bound's measurement (analytics.inbox_groups.DISTANCE, bench.inbox_groups), kept
    honest on the project's own examples."""
    own = existing_examples()
    figures = measure(by_intent(list(own), list(own.values())), DRAWS)
    assert figures["purity"] >= 0.94
    assert figures["groups_per_message"] <= 0.3
