"""The jobs API: supervisors list jobs, start runs (202 at once, 409 while one runs) and
follow them; agents may not. Over an unseeded store with only the jobs under test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from bot.console.app import init_app
from bot.crm.enums import AuditAction, JobStatus, JobTrigger, StaffRole
from bot.crm.store import CRMStore
from bot.settings import load_settings
from tests.console.helpers import AGENT_PASSWORD, PASSWORD, assert_error, login
from tests.jobs.helpers import gate_released, only_test_jobs

WAIT_S = 60.0


@pytest.fixture
def test_jobs() -> Iterator[None]:
    with only_test_jobs():
        yield


@pytest.fixture
async def jobs_client(aiohttp_client, store: CRMStore, tmp_path, test_jobs):
    store.staff.create("boss", PASSWORD, StaffRole.SUPERVISOR)
    store.staff.create("agent", AGENT_PASSWORD, StaffRole.AGENT)
    settings = load_settings(
        {
            "CRM_VAR_DIR": str(tmp_path),
            "CRM_SECRET_KEY": "jobs-secret",
            "CRM_JOB_SCHEDULE": "reindex=30 4 * * *",
        }
    )
    return await aiohttp_client(await init_app(settings, store))


async def finished(client, headers, run_id: int) -> dict:
    """The run once it is no longer running, read through the API; fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        reply = await client.get(f"/api/v1/jobs/runs/{run_id}", headers=headers)
        assert reply.status == 200
        run = await reply.json()
        if run["status"] != JobStatus.RUNNING:
            return run
        await asyncio.sleep(0.05)
    pytest.fail(f"run {run_id} still running after {WAIT_S:.0f} s")


async def test_a_supervisor_runs_a_job_and_follows_it(jobs_client, store: CRMStore) -> None:
    headers = await login(jobs_client)
    reply = await jobs_client.post("/api/v1/jobs/reindex/run", headers=headers)
    assert reply.status == 202
    run_id = (await reply.json())["run_id"]
    assert reply.headers["Location"] == f"/api/v1/jobs/runs/{run_id}"
    run = await finished(jobs_client, headers, run_id)
    assert (run["job"], run["status"], run["trigger"], run["requested_by"]) == (
        "reindex",
        JobStatus.SUCCEEDED,
        JobTrigger.API,
        "boss",
    )
    assert run["rows"] == {"tickets": 0} and run["duration_s"] >= 0
    listed = await (await jobs_client.get("/api/v1/jobs/runs?job=reindex", headers=headers)).json()
    assert [item["id"] for item in listed["runs"]] == [run_id]
    assert listed["next_cursor"] is None
    entries, _ = store.audit.list(actor="boss")
    runs_started = [
        (e["target_type"], e["target_id"], e["detail"])
        for e in entries
        if e["action"] == AuditAction.RUN_JOB
    ]
    assert runs_started == [("job", "reindex", {"run_id": run_id})]


async def test_the_job_list_shows_descriptions_schedules_and_last_runs(jobs_client) -> None:
    headers = await login(jobs_client)
    run_id = (await (await jobs_client.post("/api/v1/jobs/quick/run", headers=headers)).json())[
        "run_id"
    ]
    await finished(jobs_client, headers, run_id)
    reply = await jobs_client.get("/api/v1/jobs", headers=headers)
    assert reply.status == 200
    jobs = {job["name"]: job for job in (await reply.json())["jobs"]}
    assert list(jobs) == ["reindex", "quick", "broken", "gate", "interrupted", "reaped"]
    assert jobs["reindex"]["schedule"] == "30 4 * * *"
    assert jobs["reindex"]["description"].startswith("Rebuild the similar-ticket index")
    assert jobs["reindex"]["last_run"] is None
    assert jobs["quick"]["schedule"] is None
    assert jobs["quick"]["last_run"]["id"] == run_id
    assert jobs["quick"]["last_run"]["figures"] == {"score": 0.75, "missing": None, "sizes": [0, 1]}


async def test_a_second_run_while_one_is_running_is_a_conflict(jobs_client, tmp_path) -> None:
    headers = await login(jobs_client)
    first = await jobs_client.post("/api/v1/jobs/gate/run", headers=headers)
    assert first.status == 202
    run_id = (await first.json())["run_id"]
    await assert_error(
        await jobs_client.post("/api/v1/jobs/gate/run", headers=headers), 409, "conflict"
    )
    gate_released(tmp_path).touch()
    assert (await finished(jobs_client, headers, run_id))["status"] == JobStatus.SUCCEEDED
    again = await jobs_client.post("/api/v1/jobs/gate/run", headers=headers)
    assert again.status == 202
    await finished(jobs_client, headers, (await again.json())["run_id"])


async def test_a_failed_run_is_reported_with_its_error(jobs_client) -> None:
    headers = await login(jobs_client)
    run_id = (await (await jobs_client.post("/api/v1/jobs/broken/run", headers=headers)).json())[
        "run_id"
    ]
    run = await finished(jobs_client, headers, run_id)
    assert run["status"] == JobStatus.FAILED
    assert "ValueError: boom: the test job failed" in run["error"]
    failed = await jobs_client.get("/api/v1/jobs/runs?status=failed", headers=headers)
    assert [item["id"] for item in (await failed.json())["runs"]] == [run_id]


async def test_runs_are_paged_newest_first(jobs_client) -> None:
    headers = await login(jobs_client)
    ids = []
    for _ in range(3):
        reply = await jobs_client.post("/api/v1/jobs/quick/run", headers=headers)
        ids.append((await reply.json())["run_id"])
        await finished(jobs_client, headers, ids[-1])
    page = await (await jobs_client.get("/api/v1/jobs/runs?limit=2", headers=headers)).json()
    rest = await (
        await jobs_client.get(
            f"/api/v1/jobs/runs?limit=2&cursor={page['next_cursor']}", headers=headers
        )
    ).json()
    assert [run["id"] for run in page["runs"] + rest["runs"]] == ids[::-1]
    assert rest["next_cursor"] is None


async def test_unknown_jobs_runs_and_bad_parameters(jobs_client) -> None:
    headers = await login(jobs_client)
    await assert_error(
        await jobs_client.post("/api/v1/jobs/nope/run", headers=headers), 404, "not_found"
    )
    await assert_error(
        await jobs_client.get("/api/v1/jobs/runs/99999", headers=headers), 404, "not_found"
    )
    await assert_error(
        await jobs_client.get("/api/v1/jobs/runs/abc", headers=headers), 404, "not_found"
    )
    for query in ("limit=0", "limit=x", "cursor=not-a-cursor", "status=sleeping"):
        reply = await jobs_client.get(f"/api/v1/jobs/runs?{query}", headers=headers)
        await assert_error(reply, 400, "invalid_parameter")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs/quick/run"),
        ("GET", "/api/v1/jobs/runs"),
        ("GET", "/api/v1/jobs/runs/1"),
    ],
)
async def test_agents_may_not_touch_jobs(jobs_client, store: CRMStore, method, path) -> None:
    agent = await login(jobs_client, "agent", AGENT_PASSWORD)
    await assert_error(await jobs_client.request(method, path, headers=agent), 403, "forbidden")
    await assert_error(await jobs_client.request(method, path), 401, "unauthorized")
    assert store.jobs.list()[0] == [], "nothing ran"
