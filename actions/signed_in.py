"""Answers that read a customer's own records: only for a customer the site signed in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.resources import identified_customer
from actions.tracker_view import TrackerView, read_tracker


class SignedInAction(Action, ABC):
    """Gives an anonymous customer the general answer to their question, if it has one, and
    asks them to sign in; answers a known one with `answer`.

    Abstract, so the action server does not register it as an action of its own.
    """

    general_answers: ClassVar[Mapping[str, str]] = {}
    """The answer that needs no account (a response in domain.yml) to each question this
    action answers, for a customer who is not signed in: their data is never read without a
    verified claim for this conversation."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        customer_id = identified_customer(view)
        if customer_id is None:
            general = self.general_answers.get(view.latest_intent or "")
            if general is not None:
                dispatcher.utter_message(response=general)
            dispatcher.utter_message(response="utter_need_sign_in")
            return []
        return self.answer(dispatcher, view, customer_id)

    @abstractmethod
    def answer(
        self, dispatcher: CollectingDispatcher, view: TrackerView, customer_id: int
    ) -> list[dict[str, Any]]:
        """The answer for this customer, from the CRM."""
