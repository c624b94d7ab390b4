"""Every batch job by name, imported only when it runs (a job may pull in pandas or sklearn)."""

from __future__ import annotations

from importlib import import_module

from bot.jobs.base import Job

JOBS: dict[str, str] = {
    "cleaning": "bot.jobs.cleaning:CleaningJob",
    "segmentation": "bot.jobs.segmentation:SegmentationJob",
    "risk": "bot.jobs.risk:RiskJob",
    "channel": "bot.jobs.channel:ChannelJob",
    "rules": "bot.jobs.rules:RulesJob",
    "strategies": "bot.jobs.strategies:StrategiesJob",
    "reindex": "bot.jobs.reindex:ReindexJob",
    "topics": "bot.jobs.topics:TopicsJob",
    "analytics": "bot.jobs.analytics:AnalyticsJob",
    "retrain": "bot.jobs.retrain:RetrainJob",
    "retention": "bot.jobs.retention:RetentionJob",
}
"""In the order a nightly run should take them: clean first, strategies from fresh segments,
old conversations deleted last (every job before it may still learn from them)."""


class UnknownJob(LookupError):
    """No job has this name."""


def load_job(name: str) -> Job:
    try:
        module, attribute = JOBS[name].split(":")
    except KeyError:
        raise UnknownJob(f"no job named {name!r}; jobs: {', '.join(JOBS)}") from None
    return getattr(import_module(module), attribute)()
