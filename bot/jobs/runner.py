"""Running a job by name, the same way from the CLI, the console API and the scheduler.

Every run is recorded (`store.jobs`): started as `running` (refused while another run of the
job is in progress, in any process), kept alive by a heartbeat thread, and ended as
succeeded with its rows and figures or as failed with the traceback.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from datetime import timedelta

from bot.crm.enums import JobStatus, JobTrigger
from bot.crm.store import CRMStore
from bot.crm.store.jobs import JobRunView
from bot.jobs.base import Job, JobContext
from bot.jobs.registry import load_job
from bot.settings import Settings

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15.0
STALE_AFTER = timedelta(minutes=2)
"""A run that has not heartbeated for this long is taken as abandoned (eight missed beats)."""


class JobFailed(RuntimeError):
    """The job raised; its run is recorded as failed (`run`), the cause is chained."""

    def __init__(self, run: JobRunView) -> None:
        super().__init__(f"job {run['job']!r} failed (run {run['id']})")
        self.run = run


class _Heartbeat:
    """Touches the run's heartbeat every `interval` seconds until the block ends; sets
    `abandoned` (and stops beating) once the run turns out to have been reaped."""

    def __init__(
        self, store: CRMStore, run_id: int, interval: float, abandoned: threading.Event
    ) -> None:
        self._store, self._run_id, self._interval = store, run_id, interval
        self._abandoned = abandoned
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"job-run-{run_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._store.jobs.heartbeat(self._run_id):
                    logger.warning("job run %s was reaped as abandoned: stopping it", self._run_id)
                    self._abandoned.set()
                    return
            except Exception:  # a database hiccup must not end the run; the next beat retries
                logger.exception("heartbeat of job run %s failed", self._run_id)


def start(
    store: CRMStore, name: str, trigger: JobTrigger, requested_by: str | None = None
) -> tuple[Job, int]:
    """Load the job and record its run; UnknownJob or JobRunning (a Conflict) when it cannot."""
    job = load_job(name)
    run_id = store.jobs.start(name, trigger, requested_by=requested_by, stale_after=STALE_AFTER)
    return job, run_id


def execute(
    store: CRMStore,
    settings: Settings,
    job: Job,
    run_id: int,
    *,
    show_progress: bool = False,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> JobRunView:
    """Run a started job to its end and record it; JobFailed when it raised, or when its run
    was reaped as abandoned meanwhile (the job stops at its next `progress` item, and the
    run keeps its "abandoned" record).

    Ctrl-C and other BaseExceptions are recorded as failures too, and re-raised as they are.
    """
    context = JobContext(store, settings, run_id, show_progress)
    with _Heartbeat(store, run_id, heartbeat_seconds, context.abandoned):
        try:
            result = job.run(context)
        except Exception as error:
            run = store.jobs.fail(run_id, "".join(traceback.format_exception(error)))
            raise JobFailed(run) from error
        except BaseException as error:
            store.jobs.fail(run_id, f"interrupted: {type(error).__name__}")
            raise
    run = store.jobs.finish(run_id, result.rows, result.figures)
    if run["status"] != JobStatus.SUCCEEDED:  # reaped before it could finish
        raise JobFailed(run)
    return run


def run_job(
    store: CRMStore,
    settings: Settings,
    name: str,
    trigger: JobTrigger,
    *,
    requested_by: str | None = None,
    show_progress: bool = False,
) -> JobRunView:
    """Start and run a job in this thread; returns its finished run (JobFailed if it failed)."""
    job, run_id = start(store, name, trigger, requested_by)
    return execute(store, settings, job, run_id, show_progress=show_progress)


class JobLauncher:
    """Runs jobs in threads for a long-lived process (the console: API and scheduler), and
    keeps track of them so the process can wait for them before it closes the store."""

    def __init__(self, store: CRMStore, settings: Settings) -> None:
        self.store, self.settings = store, settings
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def start_in_background(
        self, name: str, trigger: JobTrigger, requested_by: str | None = None
    ) -> int:
        """Record the run and return its id at once; the job runs in its own thread.

        UnknownJob and JobRunning are raised here, before any thread exists, so the caller
        can answer 404 or 409 right away.
        """
        job, run_id = start(self.store, name, trigger, requested_by)
        thread = threading.Thread(
            target=self._run, args=(job, run_id), name=f"job-run-{run_id}", daemon=True
        )
        with self._lock:
            self._threads[run_id] = thread
        thread.start()
        return run_id

    def _run(self, job: Job, run_id: int) -> None:
        try:
            run = execute(self.store, self.settings, job, run_id)
            logger.info("job %s (run %s) succeeded: %s", job.name, run_id, run["rows"])
        except JobFailed:
            logger.exception("job %s (run %s) failed", job.name, run_id)
        finally:
            with self._lock:
                self._threads.pop(run_id, None)

    def running(self) -> list[int]:
        """Ids of the runs this launcher's threads are still executing."""
        with self._lock:
            return list(self._threads)

    def wait(self, timeout: float) -> list[int]:
        """Wait up to `timeout` seconds in all for the runs to end; returns those still running.

        A run still going when the process exits stops heartbeating and is reaped later.
        """
        with self._lock:
            threads = list(self._threads.values())
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.running()
