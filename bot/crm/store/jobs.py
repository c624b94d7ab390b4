"""The record of batch job runs, and the rule that one job never runs twice at once.

The rule lives in the database (the partial unique index `uq_job_runs_one_running`: one
`running` row per job), so it holds across every process that shares the store. A process
that dies mid-run leaves its row `running`; it stops heartbeating, and the next start of
that job first marks such rows failed ("abandoned") so the job is not locked out forever.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.crm import models
from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.models import JobRun
from bot.crm.store.base import Conflict, NotFound, StoreBase, as_utc, iso, split_page

MAX_ERROR_CHARS = 8000
"""The tail of a traceback is kept: its last lines say what failed."""


class JobRunView(TypedDict):
    id: int
    job: str
    status: JobStatus
    trigger: JobTrigger
    requested_by: str | None
    started_at: str
    heartbeat_at: str
    finished_at: str | None
    duration_s: float | None
    rows: dict[str, int] | None
    figures: dict[str, Any] | None
    error: str | None
    host: str | None
    pid: int | None


class JobRunning(Conflict):
    """A run of this job is already in progress; `run_id` is that run."""

    def __init__(self, job: str, run_id: int | None) -> None:
        where = f" (run {run_id})" if run_id is not None else ""
        super().__init__(f"job {job!r} is already running{where}")
        self.job = job
        self.run_id = run_id


class JobRunStore(StoreBase):
    def start(
        self,
        job: str,
        trigger: JobTrigger,
        *,
        requested_by: str | None = None,
        stale_after: timedelta,
    ) -> int:
        """Record a new running run and return its id; JobRunning if one is in progress.

        Runs of this job whose heartbeat is older than `stale_after` are reaped first. The
        insert is its own one-statement transaction: of two racing starts, the database lets
        exactly one through and refuses the other on the unique index.
        """
        self.reap(stale_after, job=job)
        now = models.utcnow()
        run = JobRun(
            job=job,
            status=JobStatus.RUNNING,
            trigger=JobTrigger(trigger),
            requested_by=requested_by,
            started_at=now,
            heartbeat_at=now,
            host=socket.gethostname()[:255],
            pid=os.getpid(),
        )
        try:
            with self._session() as session:
                session.add(run)
                session.flush()
                return run.id
        except IntegrityError:
            running = self.running(job)
            raise JobRunning(job, running["id"] if running else None) from None

    def heartbeat(self, run_id: int) -> bool:
        """Say the run is alive; False when it is no longer running (reaped as abandoned)."""
        with self._session() as session:
            return bool(
                session.execute(
                    update(JobRun)
                    .where(JobRun.id == run_id, JobRun.status == JobStatus.RUNNING)
                    .values(heartbeat_at=models.utcnow())
                    .execution_options(synchronize_session=False)
                ).rowcount
            )

    def finish(self, run_id: int, rows: dict[str, int], figures: dict[str, Any]) -> JobRunView:
        """Record a successful end, with the run's row counts and figures (made JSON-safe)."""
        return self._end(
            run_id, JobStatus.SUCCEEDED, rows=_json_safe(rows), figures=_json_safe(figures)
        )

    def fail(self, run_id: int, error: str) -> JobRunView:
        """Record a failed end with what went wrong."""
        return self._end(run_id, JobStatus.FAILED, error=error[-MAX_ERROR_CHARS:])

    def _end(self, run_id: int, status: JobStatus, **values: Any) -> JobRunView:
        """End a run that is still running; a run already ended (reaped as abandoned while
        its process was in fact alive) keeps that record, and its view is returned as it is."""
        now = models.utcnow()
        with self._session() as session:
            run = session.get(JobRun, run_id, with_for_update=True)
            if run is None:
                raise NotFound(f"job run {run_id} not found")
            if run.status != JobStatus.RUNNING:
                return _view(run)
            run.status = status
            run.finished_at = now
            run.heartbeat_at = now
            run.duration_s = (now - as_utc(run.started_at)).total_seconds()
            run.error = None
            for name, value in values.items():
                setattr(run, name, value)
            session.flush()
            return _view(run)

    def reap(self, stale_after: timedelta, job: str | None = None) -> list[int]:
        """Mark running runs whose heartbeat is older than `stale_after` as failed (abandoned:
        their process died or hangs); returns their ids."""
        cutoff = self._db_time(models.utcnow() - stale_after)
        query = select(JobRun.id, JobRun.started_at, JobRun.heartbeat_at).where(
            JobRun.status == JobStatus.RUNNING, JobRun.heartbeat_at < cutoff
        )
        if job is not None:
            query = query.where(JobRun.job == job)
        with self._session() as session:
            stale = session.execute(query).all()
        reaped = []
        for run_id, started_at, heartbeat_at in stale:
            now = models.utcnow()
            with self._session() as session:
                # Checked again: a heartbeat that landed since the SELECT keeps the run alive.
                changed = session.execute(
                    update(JobRun)
                    .where(
                        JobRun.id == run_id,
                        JobRun.status == JobStatus.RUNNING,
                        JobRun.heartbeat_at < cutoff,
                    )
                    .values(
                        status=JobStatus.FAILED,
                        finished_at=now,
                        duration_s=(now - as_utc(started_at)).total_seconds(),
                        error=f"abandoned: no heartbeat since {iso(heartbeat_at)}",
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
            if changed:
                reaped.append(run_id)
        return reaped

    def get(self, run_id: int) -> JobRunView:
        with self._session() as session:
            run = session.get(JobRun, run_id)
            if run is None:
                raise NotFound(f"job run {run_id} not found")
            return _view(run)

    def running(self, job: str) -> JobRunView | None:
        with self._session() as session:
            run = session.scalars(
                select(JobRun).where(JobRun.job == job, JobRun.status == JobStatus.RUNNING)
            ).first()
            return _view(run) if run else None

    def latest(self, jobs: list[str]) -> dict[str, JobRunView]:
        """Each job's newest run (by id, which grows with every start), for the jobs listed."""
        newest = (
            select(func.max(JobRun.id)).where(JobRun.job.in_(jobs)).group_by(JobRun.job)
        ).scalar_subquery()
        with self._session() as session:
            runs = session.scalars(select(JobRun).where(JobRun.id.in_(newest))).all()
            return {run.job: _view(run) for run in runs}

    def list(
        self,
        *,
        job: str | None = None,
        status: JobStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[JobRunView], str | None]:
        """Runs newest first, with an opaque cursor for the next page (or None)."""
        query = select(JobRun)
        if job is not None:
            query = query.where(JobRun.job == job)
        if status is not None:
            query = query.where(JobRun.status == status)
        if cursor:
            query = query.where(
                self._after_cursor(cursor, JobRun.started_at, JobRun.id, key_type=int)
            )
        query = query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit + 1)
        with self._session() as session:
            rows = session.scalars(query).all()
        page, next_cursor = split_page(rows, limit, lambda run: (run.started_at, run.id))
        return [_view(run) for run in page], next_cursor


def _plain(value: Any) -> Any:
    """numpy scalars and arrays, and times, as JSON values (estimators report numpy types)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_safe(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON round trip: what is stored is exactly what a reader will get back (NaN as null)."""
    text = json.dumps(value, default=_plain)
    return json.loads(text, parse_constant=lambda _constant: None)


def _view(run: JobRun) -> JobRunView:
    return {
        "id": run.id,
        "job": run.job,
        "status": JobStatus(run.status),
        "trigger": JobTrigger(run.trigger),
        "requested_by": run.requested_by,
        "started_at": iso(run.started_at),
        "heartbeat_at": iso(run.heartbeat_at),
        "finished_at": iso(run.finished_at),
        "duration_s": run.duration_s,
        "rows": run.rows,
        "figures": run.figures,
        "error": run.error,
        "host": run.host,
        "pid": run.pid,
    }
