"""What a customer waiting for a person hears when they write: their place and the expected wait.

While a handoff is open the conversation is paused in Rasa: its processor logs the message
and predicts nothing, so no action (and no rule) can answer it. The customer channels are
the one place that sees both the message and that Rasa said nothing, and they already hold
a CRM store (the customer gate's), so they read the queue there and acknowledge the message
themselves. Unpausing Rasa for the acknowledgement instead would let the bot answer over the
agent. The notice is recorded in the CRM as a bot message, so the agent who picks the
conversation up sees what wait the customer was told; like every message of the turn it goes
through this Rasa server's outbox (bot.outbox), so a store that cannot be written to only
delays it. A store that cannot even be read means no notice (logged): the place is unknown.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

from sqlalchemy.exc import SQLAlchemyError

from bot.crm.enums import ConversationStatus, Sender
from bot.crm.store import CRMStore, MessageRecord
from bot.crm.store.handoffs import MINUTES_PER_PLACE
from bot.outbox.apply import record_to_json
from bot.outbox.local import EntryKind, LocalOutbox, shared_outbox
from bot.settings import load_settings

logger = logging.getLogger(__name__)

CLOSED = ConversationStatus.CLOSED
CLOSED_NOTICE = (
    "This conversation was closed by our team, so nobody will read new messages here. "
    "If you need anything else, please start a new chat."
)
"""An agent who resolves without handing back to the bot (`return_to_bot: false`) leaves
Rasa paused for good; without this the customer's next message would get silence."""


def queue_notice(
    store: CRMStore, conversation_id: str, outbox: LocalOutbox | None = None
) -> str | None:
    """The acknowledgement for a message in a conversation waiting in the queue, or closed by
    staff; else None.

    Once an agent has claimed the handoff the agent answers, live, and nothing is added: the
    customer is no longer waiting and a bot line between the agent's would only confuse.
    `outbox` defaults to this process's (the one the event broker relays).
    """
    try:
        place = store.handoffs.waiting_place(conversation_id)
        closed = place is None and store.conversations.status(conversation_id) is CLOSED
    except SQLAlchemyError:
        logger.warning("the queue of %s cannot be read; no notice", conversation_id, exc_info=True)
        return None
    if closed:
        notice = CLOSED_NOTICE
    elif place is None:
        return None
    else:
        notice = (
            f"Thanks, a person from our team will read this. You're number {place} in the queue; "
            f"the expected wait is about {place * MINUTES_PER_PLACE} minutes."
        )
    now = datetime.now(timezone.utc)
    record = MessageRecord(
        conversation_id=conversation_id,
        event_key=uuid.uuid4().hex,
        seq=now.timestamp(),
        sender=Sender.BOT,
        text=notice,
        created_at=now,
        data={"queue_notice": True},
    )
    (outbox or shared_outbox(load_settings())).append(
        EntryKind.MESSAGE, conversation_id, record_to_json(record)
    )
    return notice
