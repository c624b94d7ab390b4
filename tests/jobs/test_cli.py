"""`crm jobs` in real processes: run a real job with its exit status, and list the runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.crm.database import create_crm_engine, migrate
from bot.crm.enums import JobStatus, JobTrigger, TicketKind, TicketStatus
from bot.crm.store import CRMStore

ROOT = Path(__file__).resolve().parents[2]
WITH_BROKEN_JOB = """
import sys
from bot.jobs import registry
registry.JOBS["broken"] = "tests.jobs.helpers:BrokenJob"
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Crm:
    """`crm ARGS...` in a new process on one store (`script`: a `-c` entry point instead)."""

    env: dict[str, str]
    store: CRMStore

    def __call__(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "bot.cli"]
        return subprocess.run(
            [*command, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )


@pytest.fixture
def crm(tmp_path) -> Iterator[Crm]:
    """A migrated SQLite store holding two resolved tickets."""
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    migrate(url)
    store = CRMStore(create_crm_engine(url))
    for text in ("my card was declined abroad", "I lost my card on the train"):
        store.tickets.create(
            kind=TicketKind.HANDOFF,
            subject="card",
            text=text,
            status=TicketStatus.RESOLVED,
            resolution="Unblocked the card for travel.",
        )
    env = {
        **os.environ,
        "CRM_DATABASE_URL": url,
        "CRM_VAR_DIR": str(tmp_path),
        "CRM_SECRET_KEY": "cli-secret",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    yield Crm(env, store)
    store.dispose()


def test_crm_jobs_run_runs_a_real_job_and_records_it(crm: Crm, tmp_path) -> None:
    done = crm("jobs", "run", "reindex")
    assert done.returncode == 0, done.stderr
    assert "run 1 of reindex succeeded" in done.stdout
    assert 'rows: {"tickets": 2}' in done.stdout
    assert (tmp_path / "similar-index").is_dir()
    run = crm.store.jobs.get(1)
    assert (run["status"], run["trigger"], run["rows"]) == (
        JobStatus.SUCCEEDED,
        JobTrigger.CLI,
        {"tickets": 2},
    )
    assert crm("reindex").returncode == 0, "the old command runs the same job"
    listed = crm("jobs", "runs", "--job", "reindex", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[:4] for line in lines] == [
        ["2", "reindex", "succeeded", "cli"],
        ["1", "reindex", "succeeded", "cli"],
    ]
    assert all(line.endswith('{"tickets": 2}') for line in lines)


def test_crm_jobs_run_exits_1_on_failure_and_2_on_an_unknown_job(crm: Crm) -> None:
    failed = crm("jobs", "run", "broken", script=WITH_BROKEN_JOB)
    assert failed.returncode == 1
    assert "ValueError: boom: the test job failed" in failed.stderr
    unknown = crm("jobs", "run", "nope")
    assert unknown.returncode == 2
    assert "no job named 'nope'" in unknown.stderr
    listed = crm("jobs", "runs", script=WITH_BROKEN_JOB)
    assert listed.stdout.splitlines()[0].split()[:3] == ["1", "broken", "failed"]
    assert listed.stdout.splitlines()[1].strip() == "ValueError: boom: the test job failed"
