"""The tracker view: every field the actions read, from one pass over the events."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from rasa_sdk import Tracker

from actions.tracker_view import BotAttempt, IntentScore, TrackerView, read_tracker
from nlp.summarize import Turn

CARD_ENTITY = {"entity": "card_last_four", "value": "1234"}


def user(text: str | None, intent: str, confidence: float, **extra) -> dict:
    parse_data = {"intent": {"name": intent, "confidence": confidence}, "entities": []}
    return {"event": "user", "text": text, "parse_data": parse_data, **extra}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


EVENTS = [
    action("action_session_start"),
    {"event": "session_started"},
    action("action_listen"),
    user("hi", "greet", 0.9, metadata={"crm_customer": {"id": 1, "sig": "older"}}),
    action("utter_greet"),
    bot("Hello!"),
    action("action_listen"),
    {
        **user("my card hasn't arrived", "card_arrival", 0.8, metadata={}),
        "parse_data": {
            "intent": {"name": "card_arrival", "confidence": 0.8},
            "entities": [CARD_ENTITY],
        },
    },
    action("action_card_status"),
    bot("Your card is on its way."),
    action("action_listen"),
    user(None, "affirm", 1.0, metadata={"crm_customer": {"id": 1, "sig": "earlier"}}),
    action("action_handoff"),
    user("agent", "ask_for_human", 0.95, metadata={"crm_customer": {"id": 2, "sig": "newest"}}),
    bot(""),
]


def view_of(events) -> TrackerView:
    return read_tracker(
        Tracker(
            sender_id="conv-view",
            slots={"card_last_four": "1234", "requested_slot": None},
            latest_message={
                "text": "agent",
                "intent": {"name": "ask_for_human", "confidence": 0.95},
                "entities": [CARD_ENTITY],
            },
            events=events,
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )
    )


def test_the_view_reads_every_field_in_one_pass_over_the_events() -> None:
    view = view_of(iter(EVENTS))
    assert view.conversation_id == "conv-view"
    assert view.turns == (
        Turn("customer", "hi", "greet", ()),
        Turn("bot", "Hello!"),
        Turn("customer", "my card hasn't arrived", "card_arrival", (CARD_ENTITY,)),
        Turn("bot", "Your card is on its way."),
        Turn("customer", "agent", "ask_for_human", ()),
    )
    assert view.intents == (
        IntentScore("greet", 0.9),
        IntentScore("card_arrival", 0.8),
        IntentScore("ask_for_human", 0.95),
    )
    assert view.user_intents == ("greet", "card_arrival", "affirm", "ask_for_human")
    assert view.bot_attempts == (
        BotAttempt("greet", ("utter_greet",)),
        BotAttempt("card_arrival", ("action_card_status",)),
    )
    assert view.latest_claim == {"id": 2, "sig": "newest"}
    assert dict(view.slots) == {"card_last_four": "1234", "requested_slot": None}
    assert (view.latest_text, view.latest_intent) == ("agent", "ask_for_human")
    assert view.latest_entities == (CARD_ENTITY,)
    assert view.customer_texts == ("hi", "my card hasn't arrived", "agent")
    assert view.recent_customer_text() == "hi\nmy card hasn't arrived\nagent"
    assert view.recent_customer_text(limit=2) == "my card hasn't arrived\nagent"


def test_a_conversation_without_events_or_token() -> None:
    view = view_of([])
    assert (view.turns, view.intents, view.user_intents, view.bot_attempts) == ((), (), (), ())
    assert view.latest_claim is None
    assert view.recent_customer_text() == ""


def test_only_the_newest_user_event_carries_a_claim() -> None:
    anonymous_last = [*EVENTS, action("action_listen"), user("thanks", "thanks", 0.9, metadata={})]
    assert view_of(anonymous_last).latest_claim is None
    no_metadata = [*EVENTS, user("bye", "goodbye", 0.9)]
    assert view_of(no_metadata).latest_claim is None


def test_the_view_is_read_only() -> None:
    view = view_of(EVENTS)
    with pytest.raises(FrozenInstanceError):
        view.latest_claim = {"id": 1, "sig": "forged"}  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.slots["card_last_four"] = "9999"  # type: ignore[index]
