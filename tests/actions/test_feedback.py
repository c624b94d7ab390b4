"""The rating question: answers in digits and words, asked again, left, and stored once."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.feedback import (
    ActionAcknowledgeOpinion,
    ActionRecordCsat,
    ValidateRatingForm,
    opinion_polarity,
)
from actions.handoff import ActionFallback
from actions.ratings import declines, read_rating
from bot.crm.enums import HandoffReason, StaffRole, TicketStatus
from bot.crm.store import CRMStore
from bot.identity import CLAIM_FIELD, make_claim
from bot.settings import KeyPurpose

CONVERSATION = "conv-actions"
FORGOTTEN = [SlotSet("csat", None), SlotSet("csat_misses", None)]


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("4", 4),
        ('/csat_score{"csat_score": "2"}', 2),
        ("5 stars, thanks", 5),
        ("I'd give it a 4 out of 5", 4),
        ("five", 5),
        ("a three I guess", 3),
        ("it was great", 5),
        ("Terrible.", 1),
        ("not good", 2),
        ("not bad at all", 4),
        ("it was ok", 3),
        ("10", 10),
        ("10/10", 10),
        ("0", 0),
        ("zero", 0),
        ("⭐⭐⭐⭐", 4),
        ("⭐️⭐️⭐️", 3),
        ("⭐" * 6, 6),
        ("hmm", None),
        ("thanks", None),
    ],
)
def test_a_rating_is_read_from_digits_number_words_and_judgements(
    text: str, reading: int | None
) -> None:
    assert read_rating(text) == reading


def test_a_customer_can_turn_the_question_down() -> None:
    assert all(declines(text) for text in ("skip", "no thanks", "maybe later", "I'd rather not"))
    assert not any(declines(text) for text in ("great", "4", "it was fine"))


def user(text: str, intent: str, *, external: bool = False, customer_id: int | None = None) -> dict:
    metadata = {"is_external": True} if external else {}
    if customer_id is not None:
        key = resources.settings().key_for(KeyPurpose.CUSTOMER_CLAIM)
        metadata[CLAIM_FIELD] = make_claim(key, CONVERSATION, customer_id)
    return {
        "event": "user",
        "text": text,
        "metadata": metadata,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": []},
    }


def conversation(*events: dict, slots: dict | None = None, message_id: str = "m1") -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender_id=CONVERSATION,
        slots=slots or {},
        latest_message={**latest["parse_data"], "text": latest["text"], "message_id": message_id},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={"name": "rating_form"},
        latest_action_name="action_listen",
    )


async def validate(text: str, intent: str, misses: int | None = None) -> tuple[dict, list]:
    dispatcher = CollectingDispatcher()
    tracker = conversation(user(text, intent), slots={"csat_misses": misses})
    slots = await ValidateRatingForm().validate_csat(text, dispatcher, tracker, {})
    return slots, [m["response"] for m in dispatcher.messages]


async def test_a_rating_in_words_fills_the_form() -> None:
    assert await validate("it was great", "csat_score") == ({"csat": 5, "csat_misses": None}, [])


@pytest.mark.parametrize("text", ["10", "0", "6 stars"])
async def test_a_rating_off_the_scale_is_asked_again(text: str) -> None:
    assert await validate(text, "csat_score", misses=1) == (
        {"csat": None},
        ["utter_rating_out_of_range"],
    )


async def test_stars_are_counted_and_more_than_five_is_off_the_scale() -> None:
    assert await validate("⭐⭐⭐⭐", "acknowledge") == ({"csat": 4, "csat_misses": None}, [])
    assert await validate("⭐" * 6, "acknowledge") == (
        {"csat": None},
        ["utter_rating_out_of_range"],
    )


async def extract(text: str, intent: str, requested: str | None = "csat") -> dict:
    tracker = conversation(user(text, intent), slots={"requested_slot": requested})
    return await ValidateRatingForm().extract_csat(CollectingDispatcher(), tracker, {})


@pytest.mark.parametrize(("text", "intent"), [("7", "out_of_scope"), ("⭐⭐⭐⭐", "acknowledge")])
async def test_a_bare_number_or_stars_is_a_rating_whatever_the_intent(
    text: str, intent: str
) -> None:
    assert await extract(text, intent) == {"csat": text}


async def test_only_a_bare_rating_answering_the_question_is_taken_from_other_intents() -> None:
    assert await extract("is the weather great today", "out_of_scope") == {}
    assert await extract("7", "out_of_scope", requested=None) == {}


async def test_an_unclear_answer_is_asked_again_once_then_let_go() -> None:
    assert await validate("hmm", "nlu_fallback") == (
        {"csat": None, "csat_misses": 1},
        ["utter_ask_rating_again"],
    )
    stopped = {"csat": None, "csat_misses": None, "requested_slot": None}
    assert await validate("hmm hmm", "nlu_fallback", misses=1) == (stopped, [])


@pytest.mark.parametrize(
    ("text", "intent"),
    [("no", "deny"), ("skip", "nlu_fallback"), ("this is ridiculous, I give up", "frustrated")],
)
async def test_a_customer_can_leave_the_rating_question(text: str, intent: str) -> None:
    assert await validate(text, intent) == (
        {"csat": None, "csat_misses": None, "requested_slot": None},
        [],
    )


async def record(tracker: Tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await ActionRecordCsat().run(dispatcher, tracker, {})
    return events, [m["response"] for m in dispatcher.messages]


def resolved_handoff(store: CRMStore) -> int:
    ticket = store.handoffs.open(
        conversation_id=CONVERSATION,
        customer_id=1,
        reason=HandoffReason.CUSTOMER_REQUEST,
        priority=3,
        subject="s",
        text="t",
        packet={},
    )
    staff = store.staff.create("ana", "ana-password-1", StaffRole.AGENT)
    store.handoffs.claim(ticket, staff.id)
    store.handoffs.resolve(ticket, staff.id, "fixed", True)
    return ticket


async def test_the_consoles_rating_prompt_rates_the_handoff_once(seeded_store: CRMStore) -> None:
    ticket = resolved_handoff(seeded_store)
    asked = user("EXTERNAL: give_feedback", "give_feedback", external=True)
    first = conversation(asked, user("four", "csat_score"), slots={"csat": 4})
    assert await record(first) == (FORGOTTEN, ["utter_thanks_for_rating"])
    again = conversation(asked, user("2", "csat_score"), slots={"csat": 2}, message_id="m2")
    await record(again)
    assert seeded_store.handoffs.get(ticket)["csat"] == 4
    assert seeded_store.feedback.bot_ratings(CONVERSATION) == []


async def test_feedback_the_customer_offers_rates_the_bot_once(seeded_store: CRMStore) -> None:
    ticket = resolved_handoff(seeded_store)
    offered = user("I want to leave some feedback", "give_feedback", customer_id=2)
    answer = user("it was great", "csat_score", customer_id=2)
    tracker = conversation(offered, answer, slots={"csat": 5})
    assert await record(tracker) == (FORGOTTEN, ["utter_thanks_for_rating"])
    await record(tracker)
    [rating] = seeded_store.feedback.bot_ratings(CONVERSATION)
    assert (rating["score"], rating["customer_id"]) == (5, 2)
    assert seeded_store.handoffs.get(ticket)["csat"] is None


async def test_a_question_left_unanswered_stores_nothing(seeded_store: CRMStore) -> None:
    ticket = resolved_handoff(seeded_store)
    asked = user("EXTERNAL: give_feedback", "give_feedback", external=True)
    tracker = conversation(asked, user("no thanks", "deny"))
    assert await record(tracker) == (FORGOTTEN, ["utter_rating_skipped"])
    assert seeded_store.handoffs.get(ticket)["csat"] is None
    assert seeded_store.feedback.bot_ratings(CONVERSATION) == []


async def test_strong_frustration_instead_of_a_rating_goes_to_a_person(
    seeded_store: CRMStore,
) -> None:
    offered = user("I want to leave feedback", "give_feedback")
    angry = user("I am so angry right now, I am fed up with this!!", "frustrated")
    events, responses = await record(conversation(offered, angry))
    assert events == [*FORGOTTEN, ConversationPaused()]
    assert responses == ["utter_handoff"]
    [handoff] = seeded_store.handoffs.list(TicketStatus.OPEN)
    assert handoff["packet"]["reason"] == "frustration"


async def test_an_unclear_answer_to_the_rating_question_is_not_a_misunderstanding(
    seeded_store: CRMStore,
) -> None:
    tracker = conversation(
        user("I want to leave feedback", "give_feedback"),
        {"event": "action", "name": "rating_form"},
        user("blorp", "nlu_fallback"),
        {"event": "action", "name": "rating_form"},
        {"event": "action", "name": "action_record_csat"},
        user("zorp quantum flibber", "nlu_fallback"),
    )
    dispatcher = CollectingDispatcher()
    assert await ActionFallback().run(dispatcher, tracker, {}) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]
    assert seeded_store.handoffs.list(TicketStatus.OPEN) == []


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("not great", "negative"),
        ("it was terrible", "negative"),
        ("Terrible.", "negative"),
        ("pretty bad", "negative"),
        ("could be better", "negative"),
        ("disappointing tbh", "negative"),
        ("you didn't help me at all", "negative"),
        ("honestly awful", "negative"),
        ("it was ok", "neutral"),
        ("so-so", "neutral"),
        ("not bad", "positive"),
        ("it was great", "positive"),
        ("really helpful, thanks", "positive"),
        ("loved it", "positive"),
    ],
)
def test_an_opinion_is_read_as_negative_neutral_or_positive(text: str, polarity: str) -> None:
    assert opinion_polarity(text) == polarity


async def acknowledge(tracker: Tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await ActionAcknowledgeOpinion().run(dispatcher, tracker, {})
    return events, [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize("text", ["not great", "it was terrible", "meh, pretty bad"])
async def test_a_negative_opinion_nobody_asked_for_is_heard_with_a_person_on_offer(
    text: str,
) -> None:
    """ "not great" got the stray-number reply: it is feedback, acknowledged as such."""
    tracker = conversation(user("where is my card?", "card_arrival"), user(text, "service_opinion"))
    assert await acknowledge(tracker) == ([], ["utter_opinion_negative"])


@pytest.mark.parametrize("text", ["blah blah", "blah", "whatever", "hmm"])
def test_words_with_no_judgement_and_faint_sentiment_are_no_opinion(text: str) -> None:
    """VADER gives "blah" a faint negative weight (-0.20 for "blah blah"): no opinion."""
    assert opinion_polarity(text) is None


@pytest.mark.parametrize("text", ["blah blah", "whatever"])
async def test_an_opinion_without_a_polarity_is_asked_to_be_rephrased(text: str) -> None:
    """ "blah blah" read as service_opinion (0.57-0.9) got "I'm sorry it wasn't better"."""
    tracker = conversation(user(text, "service_opinion"))
    assert await acknowledge(tracker) == ([], ["utter_ask_rephrase"])


async def test_a_positive_or_neutral_opinion_is_acknowledged() -> None:
    great = conversation(user("that was really helpful", "service_opinion"))
    fine = conversation(user("it was ok", "service_opinion"))
    assert await acknowledge(great) == ([], ["utter_opinion_positive"])
    assert await acknowledge(fine) == ([], ["utter_opinion_neutral"])


async def test_an_opinion_after_the_rating_was_stored_is_heard_and_changes_nothing(
    seeded_store: CRMStore,
) -> None:
    """ "it was terrible" after a rating of 4 was stored: acknowledged, the rating kept."""
    offered = user("I want to leave some feedback", "give_feedback", customer_id=2)
    rated = conversation(offered, user("4", "inform", customer_id=2), slots={"csat": 4})
    await record(rated)
    later = conversation(
        offered,
        user("4", "inform", customer_id=2),
        {"event": "action", "name": "action_record_csat"},
        user("it was terrible", "service_opinion", customer_id=2),
        message_id="m2",
    )
    assert await acknowledge(later) == ([], ["utter_opinion_negative"])
    [rating] = seeded_store.feedback.bot_ratings(CONVERSATION)
    assert rating["score"] == 4


@pytest.mark.parametrize(
    ("text", "intent", "rating"),
    [
        ("not great", "service_opinion", 2),
        ("it was terrible", "service_opinion", 1),
        ("4", "inform", 4),
    ],
)
async def test_an_opinion_or_a_bare_number_answering_the_question_is_the_rating(
    text: str, intent: str, rating: int
) -> None:
    """While the rating question asks, the opinion is the rating (the form reads it)."""
    assert await validate(text, intent) == ({"csat": rating, "csat_misses": None}, [])
