"""A conversation's applied events (those not undone), folded once per event instead of
once per call.

`DialogueStateTracker.applied_events` walks the whole session on every call, and a turn
calls it about ten times (policies, the processor, the featurizers): in proportion to the
conversation's length. Its result for the events so far does not change while events are
only appended, except when an event names a form that was not named before (its earlier
executions are then judged again), so `install()` keeps, per conversation, the events
folded so far and the result, and folds only the new events. A tracker whose events do not
start with the kept ones (a copy from earlier in the conversation, an undo, another
conversation under the same id) gets Rasa's own answer.

The fold is Rasa 3.6's loop, step for step, with Rasa's own helpers; a test compares both
on every prefix of the project's stories and on undone turns and forms.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

KEPT_CONVERSATIONS = 500
RASAS_OWN = DialogueStateTracker.applied_events


@dataclass
class _Fold:
    events: list[Event] = field(default_factory=list)
    loop_names: set[str] = field(default_factory=set)
    applied: list[Event] = field(default_factory=list)


def _loop_names(events: Iterable[Event]) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _fold(tracker: DialogueStateTracker, fold: _Fold, events: Iterable[Event]) -> None:
    """Rasa's `applied_events` loop over `events`, carrying on from `fold`."""
    for event in events:
        fold.events.append(event)
        if isinstance(event, Restarted | SessionStarted):
            fold.applied = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, fold.applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, fold.applied)
            tracker._undo_till_previous(ActionExecuted, fold.applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in fold.loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, fold.applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, fold.applied)
        else:
            fold.applied.append(event)


def starts_with(events: Iterable[Event], prefix: list[Event]) -> bool:
    """Whether the shorter of the two begins the other, event for event (the same objects:
    Rasa's `==` ignores fields that change a state, such as `hide_rule_turn`)."""
    return all(new is old for new, old in zip(events, prefix, strict=False))


class KeptAppliedEvents:
    """The folds of recent conversations, by conversation id."""

    def __init__(self, size: int = KEPT_CONVERSATIONS) -> None:
        self.size = size
        self._folds: OrderedDict[str, _Fold] = OrderedDict()

    def applied(self, tracker: DialogueStateTracker) -> list[Event]:
        """What `DialogueStateTracker.applied_events` returns for this tracker."""
        events = tracker.events
        fold = self._folds.get(tracker.sender_id)
        if fold is None or not starts_with(events, fold.events):
            return self._start(tracker)
        if len(events) < len(fold.events):
            return RASAS_OWN(tracker)
        new = list(itertools.islice(events, len(fold.events), None))
        if not _loop_names(new) <= fold.loop_names:
            return self._start(tracker)
        _fold(tracker, fold, new)
        self._folds.move_to_end(tracker.sender_id)
        return list(fold.applied)

    def _start(self, tracker: DialogueStateTracker) -> list[Event]:
        fold = _Fold(loop_names=_loop_names(tracker.events))
        _fold(tracker, fold, tracker.events)
        self._folds[tracker.sender_id] = fold
        self._folds.move_to_end(tracker.sender_id)
        while len(self._folds) > self.size:
            self._folds.popitem(last=False)
        return list(fold.applied)


def install(kept: KeptAppliedEvents | None = None) -> None:
    """Make every tracker of this process answer from the kept folds."""
    kept = kept or KeptAppliedEvents()

    def applied_events(tracker: DialogueStateTracker) -> list[Event]:
        return kept.applied(tracker)

    DialogueStateTracker.applied_events = applied_events
