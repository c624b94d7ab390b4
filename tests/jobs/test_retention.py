"""The retention job through the runner: conversations older than CRM_RETENTION_DAYS go
everywhere (store, tracker store, similar-ticket index), figures recorded; a second run
deletes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from bot.crm import models
from bot.crm.enums import JobTrigger
from bot.crm.models import Conversation, Ticket
from bot.crm.store import CRMStore
from bot.crm.ticket_search import TicketSearch
from bot.jobs.registry import JOBS
from bot.jobs.runner import run_job
from tests.crm.test_erasure import count, save_trackers, settings_for, tracker_senders

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
DAYS = 365


def test_retention_runs_after_every_job_that_learns_from_conversations() -> None:
    assert list(JOBS)[-1] == "retention"


def test_the_job_deletes_old_conversations_everywhere_once(
    seeded_store: CRMStore, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(models, "utcnow", lambda: NOW)
    store = seeded_store
    settings = replace(settings_for(database_url, tmp_path), retention_days=DAYS)
    cutoff = NOW - timedelta(days=DAYS)
    old = store.erasure.older(cutoff, 10_000)
    assert old
    orphan = "tracker-only"
    save_trackers(settings.tracker_url, [old[0]])
    save_trackers(settings.tracker_url, [orphan], at=(cutoff - timedelta(days=1)).timestamp())
    save_trackers(settings.tracker_url, ["tracker-fresh"])
    index = TicketSearch(store.tickets, settings.similar_index_dir, writer=True)
    index.rebuild()
    with store.tickets._session() as session:
        tickets = session.scalars(select(Ticket.id).where(Ticket.conversation_id.in_(old)))
        old_tickets = {str(ticket) for ticket in tickets}
    assert old_tickets & set(index._index.ticket_ids_)

    first = run_job(store, settings, "retention", JobTrigger.CLI)

    assert first["rows"]["conversations"] == len(old)
    figures = first["figures"]
    assert figures["retention_days"] == DAYS and figures["cutoff"] == cutoff.isoformat()
    assert figures["deleted"]["tracker_events"] == 4
    assert figures["deleted"]["index_tickets"] == len(old_tickets & set(index._index.ticket_ids_))
    assert store.erasure.count_older(cutoff) == 0
    assert count(store, select(func.count()).select_from(Conversation)) > 0
    assert tracker_senders(settings.tracker_url) == {"tracker-fresh"}
    reader = TicketSearch(store.tickets, settings.similar_index_dir)
    reader.query("card", k=1)
    assert not old_tickets & set(reader._index.ticket_ids_)

    second = run_job(store, settings, "retention", JobTrigger.CLI)
    assert second["rows"] == {"conversations": 0, "messages": 0}
    assert set(second["figures"]["deleted"].values()) == {0}
