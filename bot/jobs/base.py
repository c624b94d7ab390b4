"""What a batch job is: a name, a description and a `run` that returns rows and figures."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Engine
from tqdm import tqdm

from bot.crm.store import CRMStore
from bot.settings import Settings

Item = TypeVar("Item")


@dataclass(frozen=True)
class JobResult:
    """What a run reports: row counts (`{"customers": 200, "merged": 3}`) and its figures
    (JSON values: scores, chosen k, AUCs...), both stored on the run's record."""

    rows: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


class RunAbandoned(RuntimeError):
    """The run's record was reaped as abandoned while the job was still working: it stops
    rather than go on writing as a run the store no longer counts as running."""

    def __init__(self, run_id: int) -> None:
        super().__init__(
            f"job run {run_id} was reaped as abandoned (its heartbeat went stale); stopping"
        )
        self.run_id = run_id


@dataclass
class JobContext:
    """What a running job may use. `run_id` is the run's record, for traces that name it.

    `abandoned` is set by the runner's heartbeat when it finds the run reaped; `progress`
    then raises RunAbandoned before the next item.
    """

    store: CRMStore
    settings: Settings
    run_id: int
    show_progress: bool = True
    abandoned: threading.Event = field(default_factory=threading.Event)

    @property
    def engine(self) -> Engine:
        return self.store.engine

    def progress(
        self, items: Iterable[Item], *, total: int | None = None, desc: str, unit: str = "it"
    ) -> Iterator[Item]:
        """Iterate with a tqdm bar on the terminal (hidden when the console runs the job).

        Raises RunAbandoned before an item once the run has been reaped as abandoned.
        """
        bar = tqdm(items, total=total, desc=desc, unit=unit, disable=not self.show_progress)
        try:
            for item in bar:
                if self.abandoned.is_set():
                    raise RunAbandoned(self.run_id)
                yield item
        finally:
            bar.close()


class Job(Protocol):
    """A batch job. `run` must be idempotent: running it twice leaves what one run leaves."""

    name: str
    description: str

    def run(self, context: JobContext) -> JobResult: ...
