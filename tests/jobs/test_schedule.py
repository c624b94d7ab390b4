"""The schedule inside the console: parsed from CRM_JOB_SCHEDULE, fired by APScheduler,
recorded with trigger `schedule`, and a firing that finds its job running is skipped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.console.app import init_app
from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.store import CRMStore
from bot.jobs.registry import JOBS
from bot.jobs.runner import JobLauncher
from bot.jobs.schedule import JobSchedule, parse_trigger
from bot.settings import load_settings
from tests.jobs.helpers import gate_released, only_test_jobs

WAIT_S = 60.0


@pytest.fixture
def test_jobs() -> Iterator[None]:
    with only_test_jobs():
        yield


def settings_with(tmp_path, schedule: str | None):
    env = {"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "schedule-secret"}
    if schedule is not None:
        env["CRM_JOB_SCHEDULE"] = schedule
    return load_settings(env)


async def until(condition, what: str):
    """Poll a store read in a thread until it is truthy; fail after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out after {WAIT_S:.0f} s waiting for {what}")


def test_the_default_schedule_runs_every_job_in_registry_order(tmp_path) -> None:
    schedule = settings_with(tmp_path, None).job_schedule
    assert [name for name, _ in schedule] == list(JOBS)
    assert all(isinstance(parse_trigger(spec), CronTrigger) for _, spec in schedule)
    assert settings_with(tmp_path, "off").job_schedule == ()
    assert settings_with(tmp_path, " rules = 0 5 * * 1 ; reindex=every 2m ").job_schedule == (
        ("rules", "0 5 * * 1"),
        ("reindex", "every 2m"),
    )


@pytest.mark.parametrize(
    "bad", ["rules", "rules=", "=0 2 * * *", "rules=1 * * * *;rules=2 * * * *"]
)
def test_a_malformed_schedule_stops_the_process(tmp_path, bad: str) -> None:
    with pytest.raises(SystemExit, match="CRM_JOB_SCHEDULE"):
        settings_with(tmp_path, bad)


def test_specs_are_crontabs_in_utc_or_intervals() -> None:
    assert parse_trigger("every 1s").interval.total_seconds() == 1
    assert isinstance(parse_trigger("every 5 M"), IntervalTrigger)
    assert parse_trigger("every 2h").interval.total_seconds() == 7200
    assert str(parse_trigger("30 2 * * *").timezone) == "UTC"
    for bad in ("every 0s", "every s", "99 2 * * *", "nightly"):
        with pytest.raises(ValueError):
            parse_trigger(bad)


def test_an_unknown_job_in_the_schedule_is_refused(store: CRMStore, tmp_path) -> None:
    launcher = JobLauncher(store, settings_with(tmp_path, "off"))
    with pytest.raises(ValueError, match="unknown jobs \\['nope'\\]"):
        JobSchedule(launcher, (("nope", "every 1s"),))


async def test_the_console_runs_a_scheduled_job_and_records_it(
    aiohttp_client, store: CRMStore, tmp_path, test_jobs
) -> None:
    settings = settings_with(tmp_path, "quick=every 1s")
    await aiohttp_client(await init_app(settings, store))

    def scheduled_runs():
        runs, _ = store.jobs.list(job="quick", status=JobStatus.SUCCEEDED)
        return runs

    run = (await until(scheduled_runs, "a scheduled run of quick"))[-1]
    assert run["trigger"] == JobTrigger.SCHEDULE
    assert run["rows"] == {"items": 3}
    assert run["requested_by"] is None


async def test_a_firing_while_the_job_still_runs_is_skipped_and_logged(
    aiohttp_client, store: CRMStore, tmp_path, test_jobs, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.jobs.schedule")
    settings = settings_with(tmp_path, "gate=every 1s")
    client = await aiohttp_client(await init_app(settings, store))

    def skipped():
        return [r for r in caplog.records if "scheduled gate skipped" in r.getMessage()]

    await until(skipped, "a skipped firing")
    runs, _ = await asyncio.to_thread(store.jobs.list, job="gate")
    assert [run["status"] for run in runs] == [JobStatus.RUNNING], "one run, still held"
    assert f"(run {runs[0]['id']})" in skipped()[0].getMessage()
    gate_released(tmp_path).touch()
    await until(lambda: store.jobs.get(runs[0]["id"])["status"] == JobStatus.SUCCEEDED, "the end")
    await client.close()
    assert store.jobs.running("gate") is None, "the console waits for the runs it started"
