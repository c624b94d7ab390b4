"""The batch jobs' schedule, run by APScheduler inside the console process.

`CRM_JOB_SCHEDULE` (bot.settings) gives each job a crontab in UTC (`0 2 * * *`) or an
interval (`every 30s`, `every 5m`, `every 1h`). A firing only starts the run (through the
console's JobLauncher, recorded with trigger `schedule`); when the previous run of that job
is still going, here or in another process, the firing is logged and skipped.
"""

from __future__ import annotations

import logging
import re

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.crm.enums import JobTrigger
from bot.crm.store.jobs import JobRunning
from bot.jobs.registry import JOBS
from bot.jobs.runner import JobLauncher

logger = logging.getLogger(__name__)
EVERY = re.compile(r"every\s+([0-9]{1,6})\s*([smh])", re.IGNORECASE)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MISFIRE_GRACE_SECONDS = 3600
"""A firing missed by up to an hour (a busy or paused process) still runs, once."""


def parse_trigger(spec: str) -> BaseTrigger:
    """The APScheduler trigger for one schedule entry; ValueError naming what is wrong."""
    every = EVERY.fullmatch(spec.strip())
    if every:
        seconds = int(every.group(1)) * UNIT_SECONDS[every.group(2).lower()]
        if seconds < 1:
            raise ValueError(f"{spec!r}: the interval must be at least 1 second")
        return IntervalTrigger(seconds=seconds, timezone="UTC")
    try:
        return CronTrigger.from_crontab(spec, timezone="UTC")
    except ValueError as error:
        raise ValueError(f"{spec!r} is neither a crontab nor 'every N s|m|h': {error}") from None


class JobSchedule:
    """The console's scheduler: one APScheduler entry per scheduled job."""

    def __init__(self, launcher: JobLauncher, entries: tuple[tuple[str, str], ...]) -> None:
        """ValueError for an unknown job or a bad spec, so the console refuses to start."""
        unknown = [name for name, _ in entries if name not in JOBS]
        if unknown:
            raise ValueError(
                f"CRM_JOB_SCHEDULE names unknown jobs {unknown}; jobs: {', '.join(JOBS)}"
            )
        self.launcher = launcher
        self.specs = dict(entries)
        self._scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            },
        )
        for name, spec in entries:
            self._scheduler.add_job(
                self._fire, parse_trigger(spec), args=[name], id=name, name=f"job {name}"
            )

    def start(self) -> None:
        if self.specs:
            self._scheduler.start()

    def shutdown(self) -> None:
        """Stop firing, once a firing in progress has started its run (a quick insert); the
        runs go on, and the console waits for them."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _fire(self, name: str) -> None:
        try:
            run_id = self.launcher.start_in_background(name, JobTrigger.SCHEDULE)
        except JobRunning as running:
            logger.warning("scheduled %s skipped: %s", name, running)
            return
        logger.info("scheduled %s started (run %s)", name, run_id)
