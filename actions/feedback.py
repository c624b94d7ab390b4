"""The rating question: read the answer while it is asked, store it once, then forget it.

`rating_form` asks the question (after a resolved handoff the console triggers it; a customer
can also ask to leave feedback). Its only slot is filled from text only while it is asked,
so a digit typed at any other moment is never a rating. The answer is stored on the handoff
the console asked about, or as a rating of the bot when the customer asked to give feedback.

An opinion of the service given when no rating is asked ("not great", "it was terrible",
"really helpful", intent `service_opinion`) is not a number out of context either: it is
acknowledged by its polarity, a negative one with an apology and a person on offer. One
with no polarity to read ("blah blah": no judgement word, and sentiment too faint to be an
opinion) is not taken for one: the customer is asked to rephrase.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import ActionHandoff
from actions.ratings import SCALE, bare_rating, declines, judgements, read_rating
from actions.resources import crm_store, identified_customer
from actions.tracker_view import IS_EXTERNAL, read_tracker
from nlp.sentiment import score as sentiment

RATING_SLOT = "csat"
MISSES_SLOT = "csat_misses"
MAX_MISSES = 2
"""Unreadable answers before the question is dropped, so a customer is never stuck in it."""
FEEDBACK_INTENT = "give_feedback"
FORGET = [SlotSet(RATING_SLOT, None), SlotSet(MISSES_SLOT, None)]


def stop() -> dict[str, Any]:
    """Slot values that end the form now, without a rating."""
    return {RATING_SLOT: None, MISSES_SLOT: None, "requested_slot": None}


class ValidateRatingForm(FormValidationAction):
    """Accepts 1-5 in digits or words; asks again when off the scale or unclear; lets go."""

    def name(self) -> str:
        return "validate_rating_form"

    async def extract_csat(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A bare number or row of stars answering the question is a rating, whatever intent
        the NLU gave it: "7" read as out of scope or "⭐⭐⭐⭐" as an acknowledgement would
        otherwise escape the form to another rule instead of being read (or getting the
        scale spelt out)."""
        text = tracker.latest_message.get("text")
        if tracker.get_slot("requested_slot") != RATING_SLOT or not isinstance(text, str):
            return {}
        return {RATING_SLOT: text} if bare_rating(text) else {}

    async def validate_csat(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(slot_value)
        score = read_rating(text)
        if score in SCALE:
            return {RATING_SLOT: score, MISSES_SLOT: None}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny" or declines(text):
            return stop()
        if score is not None:
            dispatcher.utter_message(response="utter_rating_out_of_range")
            return {RATING_SLOT: None}
        if intent == "frustrated":
            return stop()
        misses = int(tracker.get_slot(MISSES_SLOT) or 0) + 1
        if misses >= MAX_MISSES:
            return stop()
        dispatcher.utter_message(response="utter_ask_rating_again")
        return {RATING_SLOT: None, MISSES_SLOT: misses}


def asked_by_console(events: list[Mapping[str, Any]]) -> bool:
    """Whether the latest rating question was the console's prompt after a resolved handoff.

    Only Rasa's trigger_intent endpoint marks a user event external: the channels keep no
    customer metadata but the server's claim, so a customer cannot pass for the console.
    """
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent == FEEDBACK_INTENT:
            return (event.get("metadata") or {}).get(IS_EXTERNAL) is True
    return False


class ActionRecordCsat(Action):
    """Stores the form's rating once: on the handoff the console asked about, or for the bot.

    Frustration instead of a rating is handled as anywhere else (ActionHandoff decides whether
    it is strong enough to go to a person).
    """

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        score = tracker.get_slot(RATING_SLOT)
        if score is None:
            if view.latest_intent == "frustrated":
                return [*FORGET, *await ActionHandoff().run(dispatcher, tracker, domain)]
            dispatcher.utter_message(response="utter_rating_skipped")
            return FORGET
        feedback = crm_store().feedback
        if asked_by_console(tracker.events):
            feedback.rate_handoff(view.conversation_id, int(score))
        else:
            feedback.rate_bot(
                conversation_id=view.conversation_id,
                customer_id=identified_customer(view),
                score=int(score),
                rasa_message_id=str(tracker.latest_message["message_id"]),
            )
        dispatcher.utter_message(response="utter_thanks_for_rating")
        return FORGET


OPINION_RESPONSES = {
    "negative": "utter_opinion_negative",
    "neutral": "utter_opinion_neutral",
    "positive": "utter_opinion_positive",
}
UNREAD_RESPONSE = "utter_ask_rephrase"
NEGATIVE_UP_TO = 2
POSITIVE_FROM = 4
"""On the rating scale: a judgement read as 1-2 is negative, 4-5 positive, 3 neither."""
OPINION_AT = 0.25
"""How strong (|VADER compound|) a message's sentiment must be to be an opinion without a
judgement word: "you didn't help me at all" is -0.31, "blah blah" only -0.20 (VADER's lexicon
gives "blah" a faint negative weight)."""


def opinion_polarity(text: str) -> str | None:
    """Whether an opinion of the service is negative, neutral or positive: from the judgement
    words the rating question reads ("not great" is a 2), any negative one first ("meh, pretty
    bad"), else from the message's sentiment ("you didn't help me at all"); None when neither
    says anything ("blah blah", "whatever"): no opinion to acknowledge."""
    judged = judgements(text)
    if not judged:
        read = sentiment(text)
        if read.label == "negative" and read.frustration >= OPINION_AT:
            return "negative"
        return read.label if abs(read.compound) >= OPINION_AT else None
    if min(judged) <= NEGATIVE_UP_TO:
        return "negative"
    return "positive" if max(judged) >= POSITIVE_FROM else "neutral"


class ActionAcknowledgeOpinion(Action):
    """Answers an opinion of the service that no question asked for, by its polarity.

    Nothing is stored: a rating is only read while the rating question asks (the customer
    can ask to rate), and a rating already stored is not changed by a later remark. A
    negative opinion is acknowledged with an apology and a person on offer. A message the
    classifier took for an opinion but with no polarity ("blah blah") is not acknowledged as
    one: the customer is asked to rephrase (`utter_ask_rephrase`).
    """

    def name(self) -> str:
        return "action_acknowledge_opinion"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = tracker.latest_message.get("text")
        polarity = opinion_polarity(text) if isinstance(text, str) else None
        response = UNREAD_RESPONSE if polarity is None else OPINION_RESPONSES[polarity]
        dispatcher.utter_message(response=response)
        return []
