"""What a batch job is: a name, a description and a `run` that returns rows and figures."""

from __future__ import annotations

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


@dataclass
class JobContext:
    """What a running job may use. `run_id` is the run's record, for traces that name it."""

    store: CRMStore
    settings: Settings
    run_id: int
    show_progress: bool = True

    @property
    def engine(self) -> Engine:
        return self.store.engine

    def progress(
        self, items: Iterable[Item], *, total: int | None = None, desc: str, unit: str = "it"
    ) -> Iterator[Item]:
        """Iterate with a tqdm bar on the terminal (hidden when the console runs the job)."""
        return iter(
            tqdm(items, total=total, desc=desc, unit=unit, disable=not self.show_progress)
        )


class Job(Protocol):
    """A batch job. `run` must be idempotent: running it twice leaves what one run leaves."""

    name: str
    description: str

    def run(self, context: JobContext) -> JobResult: ...
