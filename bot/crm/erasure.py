"""Erasing a customer and deleting old conversations everywhere a conversation lives: the
CRM store, Rasa's tracker store, the turn path's outboxes and the similar-ticket index.

One service for the console's DELETE /api/v1/customers/{id} and the `retention` job, so the
rule of what goes lives in one place. Each step is idempotent and every step runs again on
a second call, so a call that failed half-way is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from bot.crm.store import CRMStore
from bot.crm.store.erasure import Erasure
from bot.crm.ticket_search import TicketSearch
from bot.crm.tracker_purge import purge_tracker_events
from bot.outbox.local import purge_conversations
from bot.settings import Settings


def erase_customer(
    store: CRMStore, settings: Settings, index: TicketSearch, customer_id: int
) -> Erasure:
    """Erase the customer (and those merged into them) in the store first: from then on a
    late write of their conversations is stored without text. Then their tracker events and
    pending outbox entries, a last sweep of text that was in flight, and their tickets in the
    similar-ticket index. NotFound for an unknown customer."""
    erasure = store.erasure.erase_customer(customer_id)
    conversations = erasure["conversation_ids"]
    erased = erasure["erased"]
    erased["tracker_events"] = purge_tracker_events(settings.tracker_url, conversations)
    erased["outbox_entries"] = purge_conversations(settings.outbox_dir, conversations)
    erased["messages"] += store.erasure.sweep(conversations)
    erased["index_tickets"] = index.prune()
    return erasure


def delete_conversations(
    store: CRMStore, settings: Settings, conversation_ids: Collection[str]
) -> dict[str, Any]:
    """Delete conversations everywhere but the index (the caller prunes it once at the end).
    Tracker and outboxes first: if the CRM rows went first and the next step failed, no
    later run would know these conversations to finish the job."""
    deleted: dict[str, Any] = {
        "tracker_events": purge_tracker_events(settings.tracker_url, conversation_ids),
        "outbox_entries": purge_conversations(settings.outbox_dir, conversation_ids),
    }
    deleted.update(store.erasure.delete_conversations(conversation_ids))
    return deleted


def retention_cutoff(settings: Settings, now: datetime) -> datetime:
    """Conversations whose last message is older than this are deleted."""
    return now - timedelta(days=settings.retention_days)
