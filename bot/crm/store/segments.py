"""Customer segments and who was in which, when.

Assignments are versioned: a run closes (`valid_to`) the assignment of a customer whose
segment changed and opens a new one, and leaves everyone else's row alone, so the table
grows with changes, not with runs, and any past date can be answered (`at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.crm.models import Segment, SegmentAssignment
from bot.crm.store.base import StoreBase, as_utc, batches

BATCH = 5_000
"""Rows per INSERT batch and ids per `IN (...)` (SQLite allows 32,766 parameters)."""


@dataclass(frozen=True)
class SegmentInfo:
    """A segment as callers see it; `profile` holds per-feature means and z-scores, the
    centroid (log space) and the `traits` strategies are derived from."""

    id: int
    name: str
    description: str
    method: str
    size: int
    profile: dict[str, Any]
    first_run_id: int | None
    last_run_id: int | None
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class SegmentDraft:
    """A segment found by a run: `id` is the earlier segment it continues, None if new."""

    id: int | None
    name: str
    description: str
    profile: dict[str, Any]
    size: int


@dataclass(frozen=True)
class SavedRun:
    """The ids given to a run's drafts (in their order) and what changed."""

    segment_ids: list[int]
    created: int
    retired: int
    opened: int
    closed: int


class SegmentStore(StoreBase):
    def previous_centroids(self, method: str) -> dict[int, dict[str, float]]:
        """Each live segment's centroid in log space, to match the next run's clusters to.

        Only segments found by the same `method`: another method's clusters are different
        groups, and matching them would carry an edited strategy over to strangers.
        """
        query = select(Segment.id, Segment.profile).where(
            Segment.retired_at.is_(None), Segment.method == method
        )
        with self._session() as session:
            return {
                segment_id: dict(profile.get("centroid", {}))
                for segment_id, profile in session.execute(query)
            }

    def save_run(
        self,
        run_id: int | None,
        method: str,
        drafts: Sequence[SegmentDraft],
        customer_ids: np.ndarray,
        draft_index: np.ndarray,
        at: datetime,
    ) -> SavedRun:
        """Store a run in one transaction: update continued segments, create new ones,
        retire the rest, and version the assignments of customers whose segment changed.

        A draft continues only a segment of the same `method`; one naming another method's
        segment gets a new id, and that segment is retired with the rest.

        `draft_index[i]` is the position in `drafts` of customer `customer_ids[i]`'s
        segment. Customers who are no longer segmented (left, merged, erased) have their
        open assignment closed.
        """
        when = self._db_time(at)
        with self._session() as session:
            upserted = [self._upsert(session, draft, run_id, method, when) for draft in drafts]
            ids = [segment_id for segment_id, _ in upserted]
            retired = session.execute(
                update(Segment)
                .where(Segment.retired_at.is_(None), Segment.id.not_in(ids or [-1]))
                .values(retired_at=when)
            ).rowcount
            wanted = pd.DataFrame(
                {
                    "customer_id": np.asarray(customer_ids, dtype=np.int64),
                    "segment_id": np.asarray(ids, dtype=np.int64)[
                        np.asarray(draft_index, dtype=np.int64)
                    ],
                }
            )
            current = self._open_assignments(session)
            unchanged = _unchanged(current, wanted)
            to_close = np.setdiff1d(current["customer_id"].unique(), unchanged)
            to_open = wanted[~wanted["customer_id"].isin(unchanged)]
            for batch in batches(to_close.tolist(), BATCH):
                session.execute(
                    update(SegmentAssignment)
                    .where(
                        SegmentAssignment.valid_to.is_(None),
                        SegmentAssignment.customer_id.in_(batch),
                    )
                    .values(valid_to=when)
                )
            rows = (
                {"customer_id": c, "segment_id": s, "run_id": run_id, "valid_from": when}
                for c, s in zip(
                    to_open["customer_id"].tolist(), to_open["segment_id"].tolist(), strict=True
                )
            )
            for batch in batches(rows, BATCH):
                session.execute(insert(SegmentAssignment.__table__), batch)
        created = sum(new for _, new in upserted)
        return SavedRun(ids, created, retired, len(to_open), len(to_close))

    def current(self, customer_id: int) -> SegmentInfo | None:
        """The customer's segment now (None before the first run, once they left, or if it
        was retired)."""
        with self._session() as session:
            segment = current_segment(session, customer_id)
            return segment_info(segment) if segment else None

    def at(self, customer_id: int, when: datetime) -> SegmentInfo | None:
        """The customer's segment at a past moment, as the runs up to then had it."""
        moment = self._db_time(when)
        return self._assigned(
            customer_id,
            and_(
                SegmentAssignment.valid_from <= moment,
                or_(SegmentAssignment.valid_to.is_(None), SegmentAssignment.valid_to > moment),
            ),
        )

    def _assigned(self, customer_id: int, valid: Any) -> SegmentInfo | None:
        query = (
            select(Segment)
            .join(SegmentAssignment, SegmentAssignment.segment_id == Segment.id)
            .where(SegmentAssignment.customer_id == customer_id, valid)
            .order_by(SegmentAssignment.valid_from.desc(), SegmentAssignment.id.desc())
            .limit(1)
        )
        with self._session() as session:
            segment = session.scalars(query).first()
            return segment_info(segment) if segment else None

    def _upsert(
        self, session: Session, draft: SegmentDraft, run_id: int | None, method: str, when: datetime
    ) -> tuple[int, bool]:
        """The draft's segment id, and whether the segment is new."""
        fields = {
            "name": draft.name,
            "description": draft.description,
            "method": method,
            "profile": draft.profile,
            "size": draft.size,
            "last_run_id": run_id,
            "retired_at": None,
        }
        segment = session.get(Segment, draft.id) if draft.id is not None else None
        if segment is not None and segment.method != method:
            segment = None
        new = segment is None
        if new:
            segment = Segment(**fields, first_run_id=run_id, created_at=when)
            session.add(segment)
        else:
            for field, value in fields.items():
                setattr(segment, field, value)
        session.flush()
        return segment.id, new

    def _open_assignments(self, session: Session) -> pd.DataFrame:
        """Customer and segment ids of every open assignment."""
        query = select(SegmentAssignment.customer_id, SegmentAssignment.segment_id).where(
            SegmentAssignment.valid_to.is_(None)
        )
        rows = session.execute(query).all()
        return pd.DataFrame(rows, columns=["customer_id", "segment_id"], dtype="int64")


def current_segment(session: Session, customer_id: int) -> Segment | None:
    """The customer's segment now: their newest open assignment to a segment not retired.

    The one reading of "current segment" for the store: the strategy served, the customer
    view and `SegmentStore.current` all ask it.
    """
    return session.scalars(
        select(Segment)
        .join(SegmentAssignment, SegmentAssignment.segment_id == Segment.id)
        .where(
            SegmentAssignment.customer_id == customer_id,
            SegmentAssignment.valid_to.is_(None),
            Segment.retired_at.is_(None),
        )
        .order_by(SegmentAssignment.valid_from.desc(), SegmentAssignment.id.desc())
        .limit(1)
    ).first()


def _unchanged(current: pd.DataFrame, wanted: pd.DataFrame) -> np.ndarray:
    """Customers whose one open assignment is already the wanted segment. A customer with
    several open rows (a merge moved a duplicate's onto them) gets a fresh one."""
    single = current.drop_duplicates("customer_id", keep=False)
    both = single.merge(wanted, on="customer_id", suffixes=("_now", "_wanted"))
    return both.loc[both["segment_id_now"] == both["segment_id_wanted"], "customer_id"].to_numpy()


def segment_info(segment: Segment) -> SegmentInfo:
    return SegmentInfo(
        id=segment.id,
        name=segment.name,
        description=segment.description,
        method=segment.method,
        size=segment.size,
        profile=segment.profile,
        first_run_id=segment.first_run_id,
        last_run_id=segment.last_run_id,
        created_at=as_utc(segment.created_at),
        retired_at=as_utc(segment.retired_at),
    )
