"""The dialogue states of a conversation, computed once per event instead of once per turn.

Before every prediction Rasa's policies ask the domain for the state before each action of
the whole session (`Domain.states_for_tracker_history`): it replays every event into a
fresh tracker and builds a state at each action, so a turn's prediction costs in
proportion to the conversation's length (37% of the Rasa server's time at turn 150-200
here). The states of what already happened never change while events are only appended,
so `install()` keeps, per conversation, the replayed tracker and the states built so far
and, on the next call, goes on from there with the new events. Anything else (an undone
event, a restart, another conversation under the same id) no longer starts with what was
kept, and the states are built from the first event, as Rasa does; a tracker from earlier
in the conversation (a look back) gets Rasa's own answer, leaving what was kept alone.

The fold below is Rasa 3.6's own loop (`states_for_tracker_history`), step for step; a
test compares both on every prefix of the project's stories and rules.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins.applied_events import starts_with

KEPT_CONVERSATIONS = 500
"""Conversations whose states are kept, per Rasa server; the least recently used go first."""
RASAS_OWN = Domain.states_for_tracker_history
"""Rasa's own method: the answer for a tracker from earlier in a kept conversation."""


@dataclass
class _Fold:
    """Rasa's loop stopped after `events`: the tracker replayed so far and what it carries."""

    domain: Domain
    tracker: DialogueStateTracker
    events: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    last_ml_action: SubState | None = None
    turn_was_hidden: bool = False


def _step(
    domain: Domain,
    fold: _Fold,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """One pass of Rasa's loop for the tracker as it stands before an action."""
    tracker = fold.tracker
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action:
            state[PREVIOUS_ACTION] = cast(SubState, fold.last_ml_action)
    fold.states.append(domain._clean_state(state))


def _copy(state: State) -> State:
    """Callers edit the states they get (the featurizer drops the last turn's text or
    intent): each gets its own dicts, the kept ones stay as built."""
    return {name: dict(sub_state) for name, sub_state in state.items()}


class KeptStates:
    """The folds of recent conversations, by conversation and by the arguments of the call."""

    def __init__(self, size: int = KEPT_CONVERSATIONS) -> None:
        self.size = size
        self._folds: OrderedDict[tuple[str, ...], _Fold] = OrderedDict()

    def states(
        self,
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        """What `Domain.states_for_tracker_history` returns for these arguments."""
        options = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        key = (
            tracker.sender_id,
            str(omit_unset_slots),
            str(ignore_rule_only_turns),
            json.dumps(rule_only_data, sort_keys=True, default=str),
        )
        applied = tracker.applied_events()
        fold = self._folds.get(key)
        if fold is None or fold.domain is not domain or not starts_with(applied, fold.events):
            fold = _Fold(domain, tracker.init_copy())
        elif len(applied) < len(fold.events):
            return RASAS_OWN(domain, tracker, *options)
        for event in applied[len(fold.events) :]:
            if isinstance(event, ActionExecuted):
                _step(domain, fold, event.hide_rule_turn, *options)
            fold.tracker.update(event)
        fold.events = applied
        self._keep(key, fold)
        last = _Fold(
            domain, fold.tracker, [], fold.states[-1:], fold.last_ml_action, fold.turn_was_hidden
        )
        _step(domain, last, False, *options)
        states = fold.states + last.states[1:] if fold.states else last.states
        return [_copy(state) for state in states]

    def _keep(self, key: tuple[str, ...], fold: _Fold) -> None:
        self._folds[key] = fold
        self._folds.move_to_end(key)
        while len(self._folds) > self.size:
            self._folds.popitem(last=False)


def install(kept: KeptStates | None = None) -> None:
    """Make every domain of this process answer from the kept states."""
    kept = kept or KeptStates()

    def states_for_tracker_history(
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        return kept.states(
            domain, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data
        )

    Domain.states_for_tracker_history = states_for_tracker_history
