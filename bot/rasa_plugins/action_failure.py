"""A graceful answer when a custom action cannot run (action server down, crashed or erroring).

Rasa logs the failure, drops the action's events and predicts on: the customer gets silence
(an empty REST reply) or, when the next prediction is the same action again, several failed
calls in one turn. `install()` wraps `RemoteAction.run` (also used for forms' `validate_*`
actions) so that a failed call says so to the customer and ends the turn; the conversation's
state is left as it was, so the customer can repeat the request once the server is back.
A rejection (`ActionExecutionRejection`, the action server's own "not me") is left to Rasa.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import BotUttered, Event, FollowupAction
from rasa.shared.exceptions import RasaException

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, I can't do that right now because of a technical problem on our side. "
    "Please try again in a few minutes, or ask to talk to a person."
)
APOLOGY_METADATA = {"action_failed": True}
"""Marks the answer in the tracker and the CRM, so reports can count failed actions."""


def apology_events(action_name: str) -> list[Event]:
    """Say sorry, then listen: no other action runs in this turn."""
    return [
        BotUttered(APOLOGY, metadata={**APOLOGY_METADATA, "action": action_name}),
        FollowupAction(ACTION_LISTEN_NAME),
    ]


def install() -> None:
    """Wrap `RemoteAction.run` once per process (idempotent); call before the agent loads."""
    if getattr(RemoteAction.run, "_crm_graceful", False):
        return
    original = RemoteAction.run

    async def run(
        self: RemoteAction,
        output_channel: OutputChannel,
        nlg: NaturalLanguageGenerator,
        tracker: DialogueStateTracker,
        domain: Domain,
    ) -> list[Event]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            logger.error(
                "custom action %s failed for %s; answered with an apology: %s",
                self.name(),
                tracker.sender_id,
                error,
            )
            return apology_events(self.name())

    marked: Any = run
    marked._crm_graceful = True
    RemoteAction.run = marked
