"""What a customer waiting for a person hears when they write: their place and the expected wait.

While a handoff is open the conversation is paused in Rasa: its processor logs the message
and predicts nothing, so no action (and no rule) can answer it. The customer channels are
the one place that sees both the message and that Rasa said nothing, and they already hold
a CRM store (the customer gate's), so they read the queue there and acknowledge the message
themselves. Unpausing Rasa for the acknowledgement instead would let the bot answer over the
agent. The notice is recorded in the CRM as a bot message, so the agent who picks the
conversation up sees what wait the customer was told.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from bot.crm.enums import Sender
from bot.crm.store import CRMStore, MessageRecord
from bot.crm.store.handoffs import MINUTES_PER_PLACE


def queue_notice(store: CRMStore, conversation_id: str) -> str | None:
    """The acknowledgement for a message in a conversation waiting in the queue, else None.

    Once an agent has claimed the handoff the agent answers, live, and nothing is added: the
    customer is no longer waiting and a bot line between the agent's would only confuse.
    """
    place = store.handoffs.waiting_place(conversation_id)
    if place is None:
        return None
    notice = (
        "Thanks, a person from our team will read this. You're number "
        f"{place} in the queue; the expected wait is about {place * MINUTES_PER_PLACE} minutes."
    )
    now = datetime.now(timezone.utc)
    store.conversations.record_message(
        MessageRecord(
            conversation_id=conversation_id,
            event_key=uuid.uuid4().hex,
            seq=now.timestamp(),
            sender=Sender.BOT,
            text=notice,
            created_at=now,
            data={"queue_notice": True},
        )
    )
    return notice
