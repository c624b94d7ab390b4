"""The retention job: conversations whose last message is older than `CRM_RETENTION_DAYS`
are deleted everywhere (`bot.crm.erasure.delete_conversations`), a chunk at a time.

Daily rollups (`daily_facts`, `daily_intent_facts`, `topic_weeks`) stay: sums per day,
segment, channel and intent that name no conversation or customer.
"""

from __future__ import annotations

from collections import Counter

from bot.crm import models
from bot.crm.erasure import delete_conversations, retention_cutoff
from bot.crm.ticket_search import TicketSearch
from bot.crm.tracker_purge import purge_tracker_older
from bot.jobs.base import JobContext, JobResult

CHUNK = 200
"""Conversations per transaction: short locks on a store the turn path writes to."""


class RetentionJob:
    name = "retention"
    description = (
        "Delete conversations whose last message is older than the retention age, with "
        "their messages, tickets, tracker events, outbox entries and index entries."
    )

    def run(self, context: JobContext) -> JobResult:
        settings = context.settings
        cutoff = retention_cutoff(settings, models.utcnow())
        store = context.store.erasure
        total = store.count_older(cutoff)
        chunks = -(-total // CHUNK)
        deleted: Counter[str] = Counter()
        for _ in context.progress(range(chunks), total=chunks, desc="retention", unit="chunk"):
            conversations = store.older(cutoff, CHUNK)
            if not conversations:
                break
            deleted.update(delete_conversations(context.store, settings, conversations))
        deleted["tracker_events"] += purge_tracker_older(settings.tracker_url, cutoff)
        index = TicketSearch(context.store.tickets, settings.similar_index_dir, writer=True)
        deleted["index_tickets"] = index.prune()
        return JobResult(
            rows={"conversations": deleted["conversations"], "messages": deleted["messages"]},
            figures={
                "retention_days": settings.retention_days,
                "cutoff": cutoff.isoformat(),
                "deleted": dict(deleted),
            },
        )
