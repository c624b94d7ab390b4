"""The channel job: each customer's preferred contact channel, from their recent contacts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from analytics.channel import ChannelPreference
from bot.jobs.base import JobContext, JobResult

LOOKBACK = timedelta(days=3 * 365)
"""Contacts older than this weigh under 2% at the default half-life: not worth reading."""
LOW_CONFIDENCE = 0.2
"""Below this margin the choice is close to a coin toss between two channels."""


class ChannelJob:
    name = "channel"
    description = "Find each customer's preferred contact channel, and how sure that is."

    def __init__(self, today: datetime | None = None) -> None:
        self.today = today

    def run(self, context: JobContext) -> JobResult:
        today = self.today or datetime.now(timezone.utc)
        contacts = context.store.insights.contacts(today, since=today - LOOKBACK)
        model = ChannelPreference().fit(contacts, as_of=today)
        choices = model.predict(contacts, as_of=today)
        saved = context.store.insights.save_channels(
            context.run_id,
            (
                {
                    "customer_id": row.customer_id,
                    "channel": row.channel,
                    "confidence": row.confidence,
                }
                for row in context.progress(
                    choices.itertuples(index=False), total=len(choices), desc="saving channels"
                )
            ),
        )
        return JobResult(
            rows={"contacts": len(contacts), "customers": saved},
            figures={
                "as_of": today.isoformat(),
                "population_mix": {
                    channel: round(float(share), 4)
                    for channel, share in zip(model.channels_, model.prior_, strict=True)
                },
                "preferred": dict(Counter(choices["channel"]).most_common()),
                "mean_confidence": round(float(choices["confidence"].mean()), 4)
                if len(choices)
                else None,
                "low_confidence": int((choices["confidence"] < LOW_CONFIDENCE).sum()),
            },
        )
