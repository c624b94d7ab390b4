"""The project's stories and rules as trackers, and each tracker as it grows event by event.

Shared by the benchmarks that replay conversations through Rasa's policies and by the tests
that compare the project's Rasa plugins with Rasa's own code on the same steps.
"""

from __future__ import annotations

import copy
from functools import cache

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from bot.settings import PROJECT_ROOT

# The longest stories are kept: they reach the deepest dialogue states.
TRACKERS = 80


@cache
def project() -> tuple[Domain, list[DialogueStateTracker]]:
    """The domain and the `TRACKERS` longest trackers of `data/` and `tests/stories/`."""
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"),
        str(PROJECT_ROOT / "domain.yml"),
        [str(PROJECT_ROOT / "data"), str(PROJECT_ROOT / "tests" / "stories")],
    )
    domain = importer.get_domain()
    generator = TrainingDataGenerator(
        importer.get_stories(), domain, augmentation_factor=0, use_story_concatenation=False
    )
    trackers = sorted(generator.generate_story_trackers(), key=lambda t: -len(t.events))
    return domain, trackers[:TRACKERS]


def grown(tracker: DialogueStateTracker, sender: str) -> list[DialogueStateTracker]:
    """The tracker after each of its events, under one conversation id; every third action
    is marked as a turn only a rule predicted (as the server marks RulePolicy's), so the
    hidden-turn part of the states is compared too."""
    steps = []
    current = DialogueStateTracker(sender, tracker.slots.values())
    for number, event in enumerate(tracker.events):
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            event = copy.copy(event)
            event.hide_rule_turn = number % 3 == 0
        current.update(event)
        steps.append(current.copy())
    return steps
