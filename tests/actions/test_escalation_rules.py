"""When a misunderstanding or frustration hands the customer to a person, and when it does not."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused

from actions.handoff import ActionFallback, ActionHandoff
from actions.handoff_rules import frustration_hands_over, misunderstood_twice
from actions.intents import NLU_FALLBACK
from actions.tracker_view import BotAttempt
from bot.crm.enums import TicketStatus
from bot.crm.store import CRMStore
from nlp.sentiment import score_conversation
from tests.actions.test_actions import run, tracker

REPHRASED = BotAttempt(NLU_FALLBACK, ("action_fallback",))


def test_a_message_the_form_took_is_not_a_first_misunderstanding() -> None:
    """An unclear "hmm" at the card digits was answered by the form re-asking, not by the bot
    failing to understand: the next unclear message only asks to rephrase."""
    form_took_it = BotAttempt(NLU_FALLBACK, ("lost_card_form",))
    assert not misunderstood_twice(NLU_FALLBACK, [form_took_it])
    assert misunderstood_twice(NLU_FALLBACK, [form_took_it, REPHRASED])


@pytest.mark.parametrize(
    "between",
    [
        BotAttempt("acknowledge", ("utter_anything_else",)),
        BotAttempt("thanks", ("utter_you_are_welcome",)),
        BotAttempt("other_language", ("utter_other_language",)),
    ],
)
def test_emoji_thanks_and_other_languages_break_the_run(between: BotAttempt) -> None:
    assert not misunderstood_twice(NLU_FALLBACK, [REPHRASED, between])
    assert not misunderstood_twice(between.intent, [REPHRASED])


@pytest.mark.parametrize(
    "messages",
    [
        ["this is a bit annoying"],
        ["this is taking long"],
        ["this is a bit annoying", "this is taking long"],
        ["where is my card?", "hmm this is getting annoying"],
    ],
)
def test_mild_annoyance_does_not_hand_over(messages: list[str]) -> None:
    assert not frustration_hands_over([s.frustration for s in score_conversation(messages)])


@pytest.mark.parametrize(
    "messages",
    [
        ["worst bank ever, useless"],
        ["this is ridiculous, I'm fed up with your bank"],
    ],
)
def test_strong_or_sustained_frustration_hands_over(messages: list[str]) -> None:
    assert frustration_hands_over([s.frustration for s in score_conversation(messages)])


@pytest.mark.parametrize(
    ("frustrations", "expected"),
    [([0.5], False), ([0.5, 0.5], True), ([0.3, 0.5], False), ([0.5, 0.3], False), ([], False)],
)
def test_sustained_means_two_frustrated_messages_in_a_row(frustrations, expected) -> None:
    assert frustration_hands_over(frustrations) is expected


def frustrated(texts: tuple[str, ...]) -> Tracker:
    annoyed = tracker(texts=texts)
    annoyed.events[-1]["parse_data"]["intent"]["name"] = "frustrated"
    return annoyed


async def test_mild_annoyance_is_heard_with_a_person_on_offer(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(
        ActionHandoff(), frustrated(("my transfer is pending", "this is a bit annoying"))
    )
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_frustration_heard"]
    assert seeded_store.handoffs.list(TicketStatus.OPEN) == []


async def test_strong_frustration_still_goes_first_in_the_queue(seeded_store: CRMStore) -> None:
    events, dispatcher = await run(
        ActionHandoff(), frustrated(("this is ridiculous, I'm fed up with your bank",))
    )
    assert events == [ConversationPaused()]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert (handoff["packet"]["reason"], handoff["priority"]) == ("frustration", 1)


async def test_a_message_the_form_took_does_not_count(seeded_store: CRMStore) -> None:
    after_form = tracker(texts=("hmm", "flib"))
    for event in after_form.events:
        event["parse_data"]["intent"]["name"] = "nlu_fallback"
    after_form.events.insert(1, {"event": "action", "name": "lost_card_form"})
    events, dispatcher = await run(ActionFallback(), after_form)
    assert (events, [m["response"] for m in dispatcher.messages]) == ([], ["utter_ask_rephrase"])


async def test_a_misunderstanding_before_a_handback_does_not_count(seeded_store: CRMStore) -> None:
    """The agent resolved what the bot had not understood; the next unclear message after the
    handback only asks to rephrase."""
    handed_back = tracker(texts=("blorp", "flib", "zorp"))
    for event in handed_back.events:
        event["parse_data"]["intent"]["name"] = "nlu_fallback"
    handed_back.events[2:2] = [
        {"event": "action", "name": "action_fallback"},
        {"event": "pause"},
        {"event": "resume"},
    ]
    handed_back.events[1:1] = [{"event": "action", "name": "action_fallback"}]
    events, dispatcher = await run(ActionFallback(), handed_back)
    assert (events, [m["response"] for m in dispatcher.messages]) == ([], ["utter_ask_rephrase"])
