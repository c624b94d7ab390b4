"""The runner and the run record: one run per job at a time across processes, failures and
abandoned runs recorded, rows, figures and durations kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.store import CRMStore, NotFound
from bot.crm.store.jobs import JobRunning, JobRunStore
from bot.jobs.base import RunAbandoned
from bot.jobs.registry import UnknownJob
from bot.jobs.runner import STALE_AFTER, JobFailed, JobLauncher, execute, run_job, start
from bot.settings import load_settings
from tests.jobs.helpers import gate_released, only_test_jobs, started_gates, wait_for

ROOT = Path(__file__).resolve().parents[2]
RACER = """
import sys
from bot.jobs import registry
registry.JOBS["gate"] = "tests.jobs.helpers:GateJob"
from bot.cli import main
sys.exit(main(["jobs", "run", "gate"]))
"""


@pytest.fixture
def test_jobs() -> Iterator[None]:
    with only_test_jobs():
        yield


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CRM_VAR_DIR": str(tmp_path), "CRM_SECRET_KEY": "jobs-secret"})


def test_two_processes_racing_to_run_one_job_run_it_once(database_url, tmp_path) -> None:
    migrate(database_url)
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_VAR_DIR": str(tmp_path),
        "CRM_SECRET_KEY": "jobs-secret",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        loser = wait_for(
            lambda: next((racer for racer in racers if racer.poll() is not None), None),
            what="the losing process to give up",
        )
        winner = next(racer for racer in racers if racer is not loser)
        _, loser_err = loser.communicate(timeout=10)
        assert loser.returncode == 3, loser_err
        assert "already running" in loser_err
        assert winner.poll() is None, "the winner holds its run open until the gate opens"
        gate_released(tmp_path).touch()
        winner_out, winner_err = winner.communicate(timeout=60)
        assert winner.returncode == 0, winner_err
        assert "succeeded" in winner_out
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait(timeout=10)
    assert len(started_gates(tmp_path)) == 1
    store = CRMStore(create_crm_engine(database_url))
    runs, _ = store.jobs.list(job="gate")
    store.dispose()
    assert [(run["status"], run["trigger"]) for run in runs] == [
        (JobStatus.SUCCEEDED, JobTrigger.CLI)
    ]


def test_a_second_start_is_refused_until_the_first_ends(store: CRMStore) -> None:
    first = store.jobs.start("quick", JobTrigger.CLI, stale_after=STALE_AFTER)
    with pytest.raises(JobRunning) as refused:
        store.jobs.start("quick", JobTrigger.API, requested_by="boss", stale_after=STALE_AFTER)
    assert refused.value.run_id == first
    other_job = store.jobs.start("other", JobTrigger.CLI, stale_after=STALE_AFTER)
    assert other_job != first
    store.jobs.finish(first, {"items": 1}, {})
    second = store.jobs.start("quick", JobTrigger.API, requested_by="boss", stale_after=STALE_AFTER)
    assert store.jobs.get(second)["requested_by"] == "boss"
    assert store.jobs.running("quick")["id"] == second


def test_a_run_whose_heartbeat_went_stale_is_reaped_as_abandoned(store: CRMStore) -> None:
    stale = store.jobs.start("quick", JobTrigger.SCHEDULE, stale_after=STALE_AFTER)
    assert store.jobs.heartbeat(stale) is True
    time.sleep(0.01)  # so the heartbeat is strictly older than the reaper's cutoff
    fresh = store.jobs.start("quick", JobTrigger.CLI, stale_after=timedelta(0))
    reaped = store.jobs.get(stale)
    assert reaped["status"] == JobStatus.FAILED
    assert reaped["error"].startswith("abandoned: no heartbeat since ")
    assert reaped["finished_at"] and reaped["duration_s"] >= 0
    assert store.jobs.heartbeat(stale) is False, "a reaped run learns it was given up"
    assert store.jobs.get(fresh)["status"] == JobStatus.RUNNING
    assert store.jobs.reap(timedelta(hours=1)) == [], "a live heartbeat is not stale"


def test_a_heartbeat_landing_after_the_reapers_select_keeps_the_run(
    store: CRMStore, monkeypatch
) -> None:
    run_id = store.jobs.start("quick", JobTrigger.CLI, stale_after=STALE_AFTER)
    time.sleep(0.01)
    beater = JobRunStore(store.engine)
    opened = store.jobs._session
    sessions = 0

    @contextmanager
    def heartbeat_between_select_and_update():
        nonlocal sessions
        sessions += 1
        if sessions == 2:  # the reaper has selected the run as stale; now it beats
            assert beater.heartbeat(run_id) is True
        with opened() as session:
            yield session

    monkeypatch.setattr(store.jobs, "_session", heartbeat_between_select_and_update)
    assert store.jobs.reap(timedelta(0)) == []
    monkeypatch.undo()
    assert sessions == 2
    assert store.jobs.get(run_id)["status"] == JobStatus.RUNNING


def test_an_ended_run_keeps_its_abandoned_record(store: CRMStore) -> None:
    run_id = store.jobs.start("quick", JobTrigger.CLI, stale_after=STALE_AFTER)
    time.sleep(0.01)
    assert store.jobs.reap(timedelta(0)) == [run_id]
    abandoned = store.jobs.get(run_id)
    assert store.jobs.finish(run_id, {"items": 3}, {}) == abandoned
    assert store.jobs.fail(run_id, "late failure") == abandoned
    assert store.jobs.get(run_id) == abandoned


def test_a_job_whose_run_was_reaped_stops_at_its_next_item(
    store: CRMStore, settings, test_jobs
) -> None:
    job, run_id = start(store, "reaped", JobTrigger.CLI)
    with pytest.raises(JobFailed) as failed:
        execute(store, settings, job, run_id, heartbeat_seconds=0.01)
    assert isinstance(failed.value.__cause__, RunAbandoned)
    run = store.jobs.get(run_id)
    assert run["status"] == JobStatus.FAILED and run["rows"] is None
    assert run["error"].startswith("abandoned: no heartbeat since "), "not overwritten"


def test_a_finished_run_keeps_its_rows_figures_and_duration(
    store: CRMStore, settings, test_jobs
) -> None:
    run = run_job(store, settings, "quick", JobTrigger.CLI, show_progress=False)
    assert run["status"] == JobStatus.SUCCEEDED
    assert run["rows"] == {"items": 3}
    assert run["figures"] == {"score": 0.75, "missing": None, "sizes": [0, 1]}
    assert run["duration_s"] >= 0 and run["finished_at"] >= run["started_at"]
    assert run["error"] is None and run["pid"] == os.getpid()
    assert store.jobs.get(run["id"]) == run
    assert store.jobs.latest(["quick", "never"]) == {"quick": run}


def test_a_failing_job_is_recorded_with_its_error(store: CRMStore, settings, test_jobs) -> None:
    with pytest.raises(JobFailed) as failed:
        run_job(store, settings, "broken", JobTrigger.CLI)
    assert isinstance(failed.value.__cause__, ValueError)
    run = store.jobs.get(failed.value.run["id"])
    assert run["status"] == JobStatus.FAILED
    assert run["error"].strip().splitlines()[-1] == "ValueError: boom: the test job failed"
    assert run["finished_at"] and run["duration_s"] >= 0
    assert store.jobs.running("broken") is None, "a failure frees the job for the next run"
    with pytest.raises(UnknownJob):
        run_job(store, settings, "nope", JobTrigger.CLI)
    assert store.jobs.list(job="nope")[0] == []


def test_an_interrupted_run_is_recorded_and_the_interrupt_goes_on(
    store: CRMStore, settings, test_jobs
) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_job(store, settings, "interrupted", JobTrigger.CLI)
    (run,), _ = store.jobs.list(job="interrupted")
    assert (run["status"], run["error"]) == (JobStatus.FAILED, "interrupted: KeyboardInterrupt")


def test_runs_are_listed_newest_first_page_by_page(store: CRMStore, settings, test_jobs) -> None:
    ids = [run_job(store, settings, "quick", JobTrigger.CLI)["id"] for _ in range(3)]
    ids.append(store.jobs.start("other", JobTrigger.API, stale_after=STALE_AFTER))
    first, cursor = store.jobs.list(limit=3)
    second, end = store.jobs.list(limit=3, cursor=cursor)
    assert [run["id"] for run in first + second] == ids[::-1]
    assert end is None
    assert [run["id"] for run in store.jobs.list(job="quick", limit=10)[0]] == ids[2::-1]
    running, _ = store.jobs.list(status=JobStatus.RUNNING)
    assert [run["id"] for run in running] == [ids[3]]
    with pytest.raises(NotFound):
        store.jobs.get(ids[-1] + 1000)


def test_the_launcher_answers_with_the_run_id_before_the_job_ends(
    store: CRMStore, settings, test_jobs, tmp_path
) -> None:
    launcher = JobLauncher(store, settings)
    run_id = launcher.start_in_background("gate", JobTrigger.API, "boss")
    assert store.jobs.get(run_id)["status"] == JobStatus.RUNNING
    with pytest.raises(JobRunning):
        launcher.start_in_background("gate", JobTrigger.SCHEDULE)
    wait_for(lambda: started_gates(tmp_path), what="the gate job to start")
    assert launcher.running() == [run_id]
    gate_released(tmp_path).touch()
    assert launcher.wait(timeout=60) == []
    run = store.jobs.get(run_id)
    assert (run["status"], run["trigger"], run["rows"]) == (
        JobStatus.SUCCEEDED,
        JobTrigger.API,
        {"waited": 1},
    )
