"""The supervisors' rollups: conversation facts, then the quality flags and the NLU inbox
that are read from them (so the flags judge the facts this run just computed)."""

from __future__ import annotations

from bot.crm.store import CRMStore
from bot.crm.store.daily_facts import DailyFactStore
from bot.jobs.base import JobContext, JobResult


def roll_up(store: CRMStore) -> dict[str, int]:
    """Each step is incremental (watermarks): quick when little changed. The console runs it
    before answering the dashboard, the job on its schedule."""
    conversations = store.facts.refresh()
    DailyFactStore(store.engine).refresh()  # the days those conversations belong to
    return {
        "conversations": conversations,
        "quality_flags": store.quality.detect(),
        "inbox_items": store.inbox.collect(),
    }


class AnalyticsJob:
    name = "analytics"
    description = (
        "Roll up changed conversations into the analytics facts, flag conversations for "
        "quality review and collect misunderstood messages into the NLU inbox."
    )

    def run(self, context: JobContext) -> JobResult:
        return JobResult(
            rows=roll_up(context.store),
            figures={"business_hours": context.settings.business_hours},
        )
