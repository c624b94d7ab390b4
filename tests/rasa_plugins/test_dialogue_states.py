"""The kept dialogue states equal Rasa's own, turn by turn, on the project's stories and
rules: each tracker is fed to both one event at a time, as a conversation grows."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker

from bench.story_trackers import TRACKERS, grown, project
from bot.rasa_plugins.dialogue_states import RASAS_OWN, KeptStates


def options(domain: Domain) -> list[dict[str, Any]]:
    rule_only = {"slots": [domain.slots[0].name], "loops": list(domain.form_names[:1])}
    return [
        {},
        {"omit_unset_slots": True},
        {"ignore_rule_only_turns": True, "rule_only_data": rule_only},
    ]


@pytest.mark.parametrize("option", range(3))
def test_every_prefix_of_every_story_and_rule_gets_rasas_states(option: int) -> None:
    domain, trackers = project()
    kept = KeptStates()
    arguments = options(domain)[option]
    assert len(trackers) == TRACKERS
    compared = 0
    for number, tracker in enumerate(trackers):
        for step in grown(tracker, f"conversation-{number}"):
            expected: list[State] = RASAS_OWN(domain, step, **arguments)
            assert kept.states(domain, step, **arguments) == expected
            compared += 1
    assert compared > 600


def test_a_look_back_at_an_earlier_point_of_the_conversation_gets_its_own_states() -> None:
    domain, trackers = project()
    kept = KeptStates()
    without_forms = [t for t in trackers if not any(isinstance(e, ActiveLoop) for e in t.events)]
    assert len(without_forms) >= 5  # a form's later start changes how earlier events count
    for number, tracker in enumerate(without_forms):
        steps = grown(tracker, f"look-back-{number}")
        for step in (steps[-1], steps[len(steps) // 2], steps[-1]):
            assert kept.states(domain, step) == RASAS_OWN(domain, step)


def test_an_undone_turn_and_another_domain_start_the_states_over() -> None:
    domain, trackers = project()
    kept = KeptStates()
    tracker = trackers[-1].copy()
    tracker.sender_id = "undone"
    kept.states(domain, tracker)
    tracker.update(UserUtteranceReverted())
    assert kept.states(domain, tracker) == RASAS_OWN(domain, tracker)
    other = Domain.from_dict(domain.as_dict())
    assert kept.states(other, tracker) == RASAS_OWN(other, tracker)


def test_the_states_handed_out_can_be_edited_without_changing_the_next_answer() -> None:
    domain, trackers = project()
    kept = KeptStates()
    tracker = trackers[0].copy()
    tracker.sender_id = "edited"
    for state in kept.states(domain, tracker):
        for sub_state in state.values():
            sub_state.clear()
    assert kept.states(domain, tracker) == RASAS_OWN(domain, tracker)


def test_equal_events_that_hide_other_turns_get_their_own_states() -> None:
    """Rasa's `==` ignores `hide_rule_turn`: a tracker of such events under the same id is
    not taken for the kept one."""
    domain, trackers = project()
    kept = KeptStates()
    arguments = options(domain)[2]
    shown = grown(trackers[0], "hidden")[-1]
    hidden = DialogueStateTracker("hidden", shown.slots.values())
    for event in shown.events:
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            event = copy.copy(event)
            event.hide_rule_turn = True
        hidden.update(event)
    assert RASAS_OWN(domain, shown, **arguments) != RASAS_OWN(domain, hidden, **arguments)
    for tracker in (shown, hidden):
        assert kept.states(domain, tracker, **arguments) == RASAS_OWN(domain, tracker, **arguments)
