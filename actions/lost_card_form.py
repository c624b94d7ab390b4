"""The lost-card form: which card, and an explicit yes to block it, with every detour handled.

The form reads any free text while it asks, so it decides here what a message means: card
digits, a card named by brand or kind ("the mastercard"), a correction ("no, 7421"), a card
that is blocked already (which ends the report), a moment's hesitation ("hang on"), a banking
question answered on the side, or a failed answer, counted so that a person is offered after
repeated failures. Leaving the form ("stop", a
request for a person, strong frustration) is in data/rules/lost_card.yml.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.card_rules import (
    OFFER_PERSON_AFTER,
    already_blocked,
    asks_to_unblock,
    blockable,
    card_digits,
    card_words,
    cards_named,
    side_question_response,
)
from actions.handoff import ActionHandoff
from actions.resources import crm_store, identified_customer
from actions.tracker_view import read_tracker
from bot.crm.store import CardInfo
from nlp.reactions import hesitates

FORM = "lost_card_form"
REQUESTED_SLOT = "requested_slot"
ASKED_SLOT = "block_card_asked"
"""The card the confirmation question named: a yes only blocks that card."""
FAILURES_SLOT = "lost_card_failures"
FORM_SLOTS = ("card_last_four", "confirm_block", ASKED_SLOT, FAILURES_SLOT)


def reset_form_slots() -> list[dict[str, Any]]:
    """Forget the form's answers, so a later report starts from the question, not a stale card."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ValidateLostCardForm(FormValidationAction):
    """Digits of one of the customer's own cards, then a yes or no about that card."""

    def name(self) -> str:
        return "validate_lost_card_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """A signed-out customer is never asked to confirm a block the bot will not make:
        their report goes to a person once they have named the card."""
        if identified_customer(read_tracker(tracker)) is None:
            return ["card_last_four"]
        return domain_slots

    async def validate_card_last_four(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        digits = card_digits(slot_value)
        if tracker.get_slot(REQUESTED_SLOT) is None:
            # Opening the form: only digits in this very message count, never a card
            # left from an earlier report.
            if digits is None or digits != card_digits(tracker.latest_message.get("text")):
                return {"card_last_four": None}
        elif digits is None:
            named = self._cards_named(tracker, slot_value)
            if len(named) > 1:
                return self._ask_which(dispatcher, named, "card_last_four")
            if not named:
                return self._not_answered(dispatcher, tracker, domain, "utter_invalid_card_digits")
            digits = named[0].last_four
        customer_id = identified_customer(read_tracker(tracker))
        if customer_id is None:
            return {"card_last_four": digits, FAILURES_SLOT: None}
        cards = crm_store().customers.cards(customer_id)
        if already_blocked(cards, digits):
            return self._blocked_already(dispatcher, tracker, digits)
        if not blockable(cards, digits):
            dispatcher.utter_message(response="utter_card_not_found", card_last_four=digits)
            return {"card_last_four": None}
        return {"card_last_four": digits, FAILURES_SLOT: None}

    async def validate_confirm_block(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "confirm_block":
            return {"confirm_block": None}
        if tracker.get_slot("card_last_four") != tracker.get_slot(ASKED_SLOT):
            return {"confirm_block": None}  # they named another card: ask about that one
        named = self._cards_named(tracker, tracker.latest_message.get("text"))
        if len(named) > 1:
            return self._ask_which(dispatcher, named, "confirm_block")
        if named and named[0].last_four != tracker.get_slot(ASKED_SLOT):
            return {"card_last_four": named[0].last_four, "confirm_block": None}
        if not isinstance(slot_value, bool):
            return self._not_answered(dispatcher, tracker, domain, "utter_answer_yes_or_no")
        return {"confirm_block": slot_value, FAILURES_SLOT: None}

    @staticmethod
    def _cards_named(tracker: Tracker, text: object) -> list[CardInfo]:
        """The signed-in customer's unblocked cards that fit the brand or kind in the text; the
        CRM is read only when the text names one, and never for a signed-out customer."""
        words = card_words(text)
        customer_id = identified_customer(read_tracker(tracker))
        if words is None or customer_id is None:
            return []
        return cards_named(crm_store().customers.cards(customer_id), words)

    @staticmethod
    def _blocked_already(
        dispatcher: CollectingDispatcher, tracker: Tracker, digits: str
    ) -> dict[str, Any]:
        """A blocked card is not a typo: say it is safe (or that blocking can't be undone, to
        a customer who wants it back, with a person on offer) and end the report, with no
        failed answer counted."""
        if asks_to_unblock(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_card_block_permanent", card_last_four=digits)
        else:
            dispatcher.utter_message(response="utter_card_already_blocked", card_last_four=digits)
        return {"card_last_four": None, FAILURES_SLOT: None, REQUESTED_SLOT: None}

    @staticmethod
    def _ask_which(
        dispatcher: CollectingDispatcher, named: list[CardInfo], slot: str
    ) -> dict[str, Any]:
        """Several of the customer's cards fit the words they used: list them rather than pick
        one, and count no failure, since the answer was a fair one."""
        choices = [card.last_four for card in named]
        dispatcher.utter_message(
            response="utter_which_card",
            card_choices=f"{', '.join(choices[:-1])} or {choices[-1]}",
        )
        return {slot: None}

    def _not_answered(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        hint: str,
    ) -> dict[str, Any]:
        """Answer a side question, or count a failed answer; the form then asks again."""
        slot = tracker.get_slot(REQUESTED_SLOT)
        if hesitates(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_take_your_time")
            return {slot: None}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        view = read_tracker(tracker)
        customer_id = identified_customer(view)
        if customer_id is not None:
            # Imported here: actions.cards, which it names, imports this module.
            from actions.side_answers import DATA_ANSWERS

            action = DATA_ANSWERS.get(intent or "")
            if action is not None:  # the signed-in customer's own records, as outside the form
                action().answer(dispatcher, view, customer_id)
                return {slot: None}
        response = side_question_response(intent, domain.get("responses") or {})
        if response is not None:
            dispatcher.utter_message(response=response)
            return {slot: None}
        failures = int(tracker.get_slot(FAILURES_SLOT) or 0) + 1
        if failures >= OFFER_PERSON_AFTER:
            dispatcher.utter_message(response="utter_lost_card_offer_person")
        else:
            dispatcher.utter_message(response=hint)
        return {slot: None, FAILURES_SLOT: failures}


class ActionAskCardLastFour(Action):
    """Asks for the card's digits; only the first time with "Sorry to hear that"."""

    def name(self) -> str:
        return "action_ask_card_last_four"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(REQUESTED_SLOT) is None:
            dispatcher.utter_message(response="utter_ask_card_last_four")
            return [SlotSet(ASKED_SLOT, None), SlotSet(FAILURES_SLOT, None)]
        dispatcher.utter_message(response="utter_ask_card_last_four_again")
        return []


class ActionAskConfirmBlock(Action):
    """Names the card in the question and remembers it: a yes is about this card only."""

    def name(self) -> str:
        return "action_ask_confirm_block"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        digits = tracker.get_slot("card_last_four")
        dispatcher.utter_message(response="utter_ask_confirm_block", card_last_four=digits)
        return [SlotSet(ASKED_SLOT, digits)]


class ActionLostCardFrustration(Action):
    """Frustration during the form: action_handoff decides whether it is strong enough to hand
    over. If it does, the form ends first (a paused bot runs nothing after the handoff, and a
    form left active would ask again once the agent hands back); if not, the form stays active
    and asks again (the active_loop event lets the rules tell the two outcomes apart)."""

    def name(self) -> str:
        return "action_lost_card_frustration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events = await ActionHandoff().run(dispatcher, tracker, domain)
        if any(event.get("event") == "pause" for event in events):
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), *events]
        return [*events, ActiveLoop(FORM)]
