"""The first greeting of a conversation, in the way the customer's segment is served."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.resources import crm_store, identified_customer
from actions.strategy import serving_strategies
from actions.tracker_view import read_tracker
from analytics.strategy import DEFAULT_STRATEGY, Strategy
from bot.crm.store import NotFound

TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lady", "lord", "rev"}
)
"""Honorifics a name may start with ("Ms Jane Horton"): never a first name."""


def first_name(name: str) -> str:
    """What to call the customer: their first name, in a readable case even when the record is
    all upper or lower case ("ADA LOVELACE", "ada lovelace"). A title is skipped ("Ms Jane
    Horton" is Jane); with only a title and a surname the two go together ("Dr Smith")."""
    words = [_readable(word) for word in name.split()]
    titled = bool(words) and words[0].rstrip(".").lower() in TITLES
    if titled and len(words) == 2:
        return " ".join(words)
    rest = words[1:] if titled else words
    return rest[0] if rest else ""


def _readable(word: str) -> str:
    return word.capitalize() if word.isupper() or word.islower() else word


def greeting(strategy: Strategy, name: str) -> str:
    """The strategy's greeting for this customer; the default one if a stored template is
    broken (the API refuses such templates, but a row can be edited by hand)."""
    try:
        return strategy.greet(name)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_STRATEGY.greet(name)


TONE_SLOT = "tone"
"""Picks the wording of responses that have a variation per Tone (domain.yml)."""


class ActionGreet(Action):
    """Greets a signed-in customer by name as their segment strategy says, with its offers,
    and sets the conversation's tone; anyone else with the stock greeting (utter_greet)."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        customer_id = identified_customer(read_tracker(tracker))
        name = ""
        if customer_id is not None:
            try:
                name = first_name(crm_store().customers.profile(customer_id)["name"])
            except NotFound:
                name = ""
        if not name:
            dispatcher.utter_message(response="utter_greet")
            return []
        strategy = serving_strategies().for_customer(customer_id).strategy
        dispatcher.utter_message(text=greeting(strategy, name))
        if strategy.offers:
            dispatcher.utter_message(text="\n".join(strategy.offers))
        return [SlotSet(TONE_SLOT, strategy.tone.value)]
