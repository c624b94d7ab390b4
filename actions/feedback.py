"""Records the customer's satisfaction rating on the conversation's latest handoff."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.resources import crm_store
from actions.tracker_view import TrackerView, read_tracker

RATING = re.compile(r"(?<!\d)([1-5])(?!\d)")


def rating(view: TrackerView) -> int | None:
    """The 1-5 rating from the button's entity, or from the digits the customer typed."""
    values = [e.get("value") for e in view.latest_entities if e.get("entity") == "csat_score"]
    for value in [*values, view.latest_text]:
        match = RATING.search(str(value)) if value is not None else None
        if match:
            return int(match.group(1))
    return None


class ActionRecordCsat(Action):
    """Stores the rating (1-5); anything else gets asked again."""

    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        view = read_tracker(tracker)
        score = rating(view)
        if score is None:
            dispatcher.utter_message(response="utter_ask_rating_again")
            return []
        crm_store().handoffs.record_csat(view.conversation_id, score)
        dispatcher.utter_message(response="utter_thanks_for_rating")
        return []
