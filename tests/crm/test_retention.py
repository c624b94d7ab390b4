"""Deleting old conversations with everything that hangs off them (the retention job's
store and service), on SQLite and PostgreSQL, tracker and outbox included."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from bot.crm.erasure import delete_conversations
from bot.crm.models import Conversation, Message, Ticket
from bot.crm.models_supervision import ConversationFact, InboxItem
from bot.crm.store import CRMStore
from bot.jobs.analytics import roll_up
from bot.outbox.local import EntryKind, LocalOutbox
from tests.crm.test_erasure import count, save_trackers, settings_for, tracker_senders

CUTOFF = datetime(2025, 11, 1, tzinfo=timezone.utc)


def test_old_conversations_go_with_their_dependants_and_new_ones_stay(
    seeded_store: CRMStore, database_url: str, tmp_path: Path
) -> None:
    store = seeded_store
    settings = settings_for(database_url, tmp_path)
    roll_up(store)
    total = count(store, select(func.count()).select_from(Conversation))
    old = store.erasure.older(CUTOFF, 10_000)
    assert 0 < len(old) == store.erasure.count_older(CUTOFF) < total
    assert store.erasure.older(CUTOFF, 3) == old[:3]
    recent = count(
        store,
        select(Conversation.id)
        .where(Conversation.id.not_in(old))
        .order_by(Conversation.id)
        .limit(1),
    )
    save_trackers(settings.tracker_url, [old[0], recent])
    outbox = LocalOutbox(settings.outbox_dir / "rasa-5005.sqlite3")
    outbox.append(EntryKind.EVENT, old[0], {"text": "late"})
    outbox.close()
    tickets = count(store, select(func.count()).where(Ticket.conversation_id.in_(old)))
    facts = count(store, select(func.count()).where(ConversationFact.conversation_id.in_(old)))
    assert tickets and facts

    deleted = delete_conversations(store, settings, old)

    assert deleted["conversations"] == len(old) and deleted["tickets"] == tickets
    assert deleted["conversation_facts"] == facts
    assert deleted["tracker_events"] == 2 and deleted["outbox_entries"] == 1
    assert store.erasure.count_older(CUTOFF) == 0
    assert count(store, select(func.count()).select_from(Conversation)) == total - len(old)
    assert count(store, select(func.count()).where(Message.conversation_id.in_(old))) == 0
    assert count(store, select(func.count()).select_from(InboxItem)) == count(
        store, select(func.count()).select_from(InboxItem).join(Message)
    )
    assert tracker_senders(settings.tracker_url) == {recent}
    again = delete_conversations(store, settings, old)
    assert set(again.values()) == {0}
