"""Batch jobs for supervisors: what exists and when it runs, start a run, follow the runs."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.audit import Target, record
from bot.console.context import JOB_LAUNCHER, JOB_SCHEDULE, STORE
from bot.console.errors import ApiError
from bot.console.requests import cursor_param, enum_param, int_param, int_path, text_param
from bot.crm.enums import AuditAction, JobStatus, JobTrigger, StaffRole
from bot.jobs.registry import JOBS, load_job

MAX_JOB_NAME_CHARS = 40
"""As long as `job_runs.job` holds."""


def _descriptions() -> dict[str, str]:
    """Each job's description; loading a job imports its module (pandas, sklearn...), so this
    runs in a thread."""
    return {name: load_job(name).description for name in JOBS}


async def list_jobs(request: web.Request) -> web.Response:
    descriptions = await asyncio.to_thread(_descriptions)
    latest = await asyncio.to_thread(request.app[STORE].jobs.latest, list(descriptions))
    schedule = request.app[JOB_SCHEDULE].specs
    jobs = [
        {
            "name": name,
            "description": description,
            "schedule": schedule.get(name),
            "last_run": latest.get(name),
        }
        for name, description in descriptions.items()
    ]
    return web.json_response({"jobs": jobs})


async def run_job(request: web.Request) -> web.Response:
    """202 once the run is recorded: a run in progress is a 409 (JobRunning is a Conflict)."""
    name = request.match_info["job"]
    if name not in JOBS:
        raise ApiError(404, "not_found", f"No job named {name[:MAX_JOB_NAME_CHARS]!r}.")
    run_id = await asyncio.to_thread(
        request.app[JOB_LAUNCHER].start_in_background,
        name,
        JobTrigger.API,
        staff_of(request).username,
    )
    await record(request, AuditAction.RUN_JOB, Target.JOB, name, detail={"run_id": run_id})
    location = request.app.router["get_job_run"].url_for(run_id=str(run_id))
    return web.json_response({"run_id": run_id}, status=202, headers={"Location": str(location)})


async def list_runs(request: web.Request) -> web.Response:
    runs, next_cursor = await asyncio.to_thread(
        request.app[STORE].jobs.list,
        job=text_param(request, "job", MAX_JOB_NAME_CHARS),
        status=enum_param(request, "status", JobStatus),
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=cursor_param(request),
    )
    return web.json_response({"runs": runs, "next_cursor": next_cursor})


async def get_run(request: web.Request) -> web.Response:
    run = await asyncio.to_thread(request.app[STORE].jobs.get, int_path(request, "run_id"))
    return web.json_response(run)


JOBS_PATH = "/api/v1/jobs"
ROUTES = (
    Route("GET", JOBS_PATH, list_jobs, name="list_jobs", role=StaffRole.SUPERVISOR),
    Route("GET", f"{JOBS_PATH}/runs", list_runs, name="list_job_runs", role=StaffRole.SUPERVISOR),
    Route(
        "GET",
        f"{JOBS_PATH}/runs/{{run_id}}",
        get_run,
        name="get_job_run",
        role=StaffRole.SUPERVISOR,
    ),
    Route("POST", f"{JOBS_PATH}/{{job}}/run", run_job, name="run_job", role=StaffRole.SUPERVISOR),
)
