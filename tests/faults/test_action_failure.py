"""The apology hook on Rasa's `RemoteAction`, against a port nobody listens on."""

from __future__ import annotations

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, FollowupAction
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.action_failure import APOLOGY, install
from tests.e2e.conftest import free_port


async def test_an_unreachable_action_server_gives_an_apology_and_ends_the_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)  # unwrapped again afterwards
    install()
    install()  # a second call must not wrap twice
    domain = Domain.from_dict({"actions": ["action_card_status"]})
    endpoint = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    action = RemoteAction("action_card_status", endpoint)
    tracker = DialogueStateTracker("faults-unit", domain.slots)

    events = await action.run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain
    )

    [said, followup] = events
    assert isinstance(said, BotUttered) and said.text == APOLOGY
    assert said.metadata == {"action_failed": True, "action": "action_card_status"}
    assert followup == FollowupAction(ACTION_LISTEN_NAME)
