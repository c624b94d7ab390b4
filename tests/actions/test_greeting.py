"""What the greeting calls a customer, and what counts as a greeting."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.greeting import ActionGreet, first_name
from nlp.rasa_language import ReactionClassifier


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Ms Jane Horton", "Jane"),
        ("DR. IAN SMITH", "Ian"),
        ("mrs ada lovelace", "Ada"),
        ("Dr Smith", "Dr Smith"),
        ("Miss", ""),
        ("Mrsa Khan", "Mrsa"),
    ],
)
def test_a_title_is_never_the_first_name(name: str, first: str) -> None:
    assert first_name(name) == first


async def test_a_first_wave_is_greeted(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A first "👋" was acknowledged ("anything else?") instead of greeted: the NLU now reads a
    wave as `greet` (nlp.reactions), which starts the conversation with action_greet."""
    monkeypatch.setenv("CRM_SECRET_KEY", "greeting-test-secret")
    monkeypatch.setenv("CRM_VAR_DIR", str(tmp_path))
    resources.settings.cache_clear()
    [wave] = ReactionClassifier({}).process([Message(data={"text": "👋"})])
    intent = wave.get("intent")
    assert intent == {"name": "greet", "confidence": 1.0}
    event = {"event": "user", "text": "👋", "parse_data": {"intent": intent, "entities": []}}
    tracker = Tracker(
        sender_id="conv-greeting",
        slots={},
        latest_message={**event["parse_data"], "text": "👋"},
        events=[event],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    try:
        assert await ActionGreet().run(dispatcher, tracker, {}) == []
    finally:
        resources.settings.cache_clear()
    assert [m["response"] for m in dispatcher.messages] == ["utter_greet"]
