"""Each active segment's strategy generated from its profile; supervisors' edits are kept."""

from __future__ import annotations

from collections import Counter

from analytics.strategy import default_strategy
from bot.jobs.base import JobContext, JobResult


class StrategiesJob:
    name = "strategies"
    description = (
        "Generate each segment's strategy (tone, greeting, offers, priority, handoff "
        "threshold, SLA) from its profile, keeping those a supervisor edited."
    )

    def run(self, context: JobContext) -> JobResult:
        """Runs after segmentation; the bot picks the new strategies up when this run ends."""
        profiles = context.store.strategies.profiles()
        strategies = {
            profile.id: default_strategy(profile.traits)
            for profile in context.progress(profiles, total=len(profiles), desc="strategies")
        }
        counts = context.store.strategies.generate(context.run_id, strategies)
        tones = Counter(strategy.tone.value for strategy in strategies.values())
        return JobResult(
            rows={"segments": len(profiles), **counts},
            figures={
                "tones": dict(sorted(tones.items())),
                "handoff_thresholds": {
                    str(segment_id): strategy.handoff_threshold
                    for segment_id, strategy in strategies.items()
                },
            },
        )
