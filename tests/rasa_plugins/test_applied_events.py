"""The kept applied events equal Rasa's own as a conversation grows event by event: on the
project's stories (forms included), with undone turns, restarts and a form named late."""

from __future__ import annotations

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bench.story_trackers import grown, project
from bot.rasa_plugins.applied_events import RASAS_OWN, KeptAppliedEvents


def test_every_prefix_of_every_story_gets_rasas_applied_events() -> None:
    _, trackers = project()
    kept = KeptAppliedEvents()
    with_forms = 0
    for number, tracker in enumerate(trackers):
        with_forms += any(isinstance(e, ActiveLoop) for e in tracker.events)
        for step in grown(tracker, f"story-{number}"):
            assert kept.applied(step) == RASAS_OWN(step)
    assert with_forms >= 5


def said(text: str) -> list[Event]:
    return [UserUttered(text, {"name": "inform"}), ActionExecuted("utter_ok")]


UNUSUAL: list[Event] = [
    ActionExecuted("action_listen"),
    *said("one"),
    ActionExecuted("action_listen"),
    *said("two"),
    UserUtteranceReverted(),
    ActionExecuted("card_form"),
    ActiveLoop("card_form"),
    ActionExecuted("action_listen"),
    UserUttered("4417", {"name": "inform"}),
    ActionExecutionRejected("card_form"),
    ActionExecuted("utter_ask_again"),
    ActionExecuted("card_form"),
    ActionExecuted("action_listen"),
    UserUttered("4417", {"name": "inform"}),
    ActionExecuted("card_form"),
    ActiveLoop(None),
    ActionReverted(),
    ActionExecuted("action_listen"),
    *said("three"),
    Restarted(),
    ActionExecuted("action_listen"),
    *said("four"),
    ActionExecuted("refund_form"),
    ActiveLoop("refund_form"),
    ActionExecuted("refund_form"),
]


def test_undone_turns_restarts_and_a_form_named_late_get_rasas_applied_events() -> None:
    kept = KeptAppliedEvents()
    tracker = DialogueStateTracker("unusual", [])
    for event in UNUSUAL:
        tracker.update(event)
        assert kept.applied(tracker) == RASAS_OWN(tracker)


def test_looking_back_or_at_another_conversation_under_the_same_id_gets_rasas_answer() -> None:
    kept = KeptAppliedEvents()
    steps = grown(project()[1][0], "same-id")
    other = DialogueStateTracker("same-id", [])
    for event in UNUSUAL:
        other.update(event)
    for tracker in (steps[-1], steps[len(steps) // 2], steps[-1], other, steps[-1]):
        assert kept.applied(tracker) == RASAS_OWN(tracker)
