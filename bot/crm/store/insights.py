"""What the risk, channel and rules jobs read and conclude.

Reads: contact histories (channel job) and holdings baskets (rules job) of active
customers, that is not merged, erased or gone. Writes: a customer's risk score with its
drivers and their preferred channel, upserted into `customer_insights` so a rerun
overwrites rather than adds; a customer the latest run did not score loses the stale
value. Rules are stored per run; readers use the latest run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict

import pandas as pd
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.crm import models
from bot.crm.enums import JobStatus
from bot.crm.models import (
    Contact,
    Customer,
    CustomerInsight,
    JobRun,
    ProductHolding,
    ProductRule,
)
from bot.crm.store.base import StoreBase, as_utc, batches

RULES_JOB = "rules"
"""The job whose runs own the product rules."""

BATCH = 5_000
"""Rows per upsert statement: bounded memory and statement size for any number of customers."""


class RiskDriver(TypedDict):
    """A feature that pushed the score up: its value and by how many score points."""

    feature: str
    value: Any
    contribution: float


class RiskScore(TypedDict):
    customer_id: int
    risk: float
    drivers: list[RiskDriver]


class ChannelChoice(TypedDict):
    customer_id: int
    channel: str
    confidence: float


class RuleRecord(TypedDict):
    antecedents: list[str]
    consequents: list[str]
    support: float
    confidence: float
    lift: float


class InsightStore(StoreBase):
    def contacts(self, as_of: datetime, since: datetime | None = None) -> pd.DataFrame:
        """Contacts of active customers up to `as_of` (from `since` if given): columns
        `customer_id`, `channel`, `at` (UTC), oldest first within each customer."""
        query = (
            select(Contact.customer_id, Contact.channel, Contact.at)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(self._active(as_of), Contact.at <= self._db_time(as_of))
            .order_by(Contact.customer_id, Contact.at, Contact.id)
        )
        if since is not None:
            query = query.where(Contact.at >= self._db_time(since))
        with self.engine.connect() as connection:
            frame = pd.DataFrame(
                connection.execute(query).all(), columns=["customer_id", "channel", "at"]
            )
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def baskets(self, as_of: datetime) -> dict[int, set[str]]:
        """The products each active customer holds at `as_of`."""
        at = self._db_time(as_of)
        query = (
            select(ProductHolding.customer_id, ProductHolding.product)
            .join(Customer, Customer.id == ProductHolding.customer_id)
            .where(
                self._active(as_of),
                ProductHolding.opened_at <= at,
                or_(ProductHolding.closed_at.is_(None), ProductHolding.closed_at > at),
            )
        )
        baskets: dict[int, set[str]] = {}
        with self.engine.connect() as connection:
            for customer_id, product in connection.execute(query):
                baskets.setdefault(customer_id, set()).add(product)
        return baskets

    def save_risk(self, run_id: int, scores: Iterable[RiskScore]) -> int:
        """Upsert every score of this run, then clear scores no longer current; the count saved."""
        rows = (
            {
                "customer_id": int(score["customer_id"]),
                "risk": float(score["risk"]),
                "risk_drivers": list(score["drivers"]),
                "risk_run_id": run_id,
            }
            for score in scores
        )
        return self._upsert(run_id, rows, ("risk", "risk_drivers"), CustomerInsight.risk_run_id)

    def save_channels(self, run_id: int, choices: Iterable[ChannelChoice]) -> int:
        """Upsert every preferred channel of this run, then clear older ones; the count saved."""
        rows = (
            {
                "customer_id": int(choice["customer_id"]),
                "preferred_channel": str(choice["channel"]),
                "channel_confidence": float(choice["confidence"]),
                "channel_run_id": run_id,
            }
            for choice in choices
        )
        return self._upsert(
            run_id,
            rows,
            ("preferred_channel", "channel_confidence"),
            CustomerInsight.channel_run_id,
        )

    def save_rules(self, run_id: int, rules: Iterable[RuleRecord]) -> int:
        """Store this run's rules (replacing any it already stored); the count stored."""
        values = [
            {
                "run_id": run_id,
                "antecedents": list(rule["antecedents"]),
                "consequents": list(rule["consequents"]),
                "support": float(rule["support"]),
                "confidence": float(rule["confidence"]),
                "lift": float(rule["lift"]),
            }
            for rule in rules
        ]
        with self._session() as session:
            session.execute(delete(ProductRule).where(ProductRule.run_id == run_id))
            if values:
                session.execute(ProductRule.__table__.insert(), values)
        return len(values)

    def _upsert(
        self,
        run_id: int,
        rows: Iterable[dict[str, Any]],
        fields: Sequence[str],
        run_column: Any,
    ) -> int:
        """Insert or update `fields` (and the run id) per customer, in batches, and clear
        `fields` on rows an earlier run of this job wrote: all in one transaction."""
        now = models.utcnow()
        run_field = run_column.key
        saved = 0
        with self._session() as session:
            for batch in batches(rows, BATCH):
                statement = self._insert(CustomerInsight)
                statement = statement.on_conflict_do_update(
                    index_elements=[CustomerInsight.customer_id],
                    set_={
                        **{name: statement.excluded[name] for name in (*fields, run_field)},
                        "updated_at": statement.excluded.updated_at,
                    },
                )
                session.execute(statement, [{**row, "updated_at": now} for row in batch])
                saved += len(batch)
            session.execute(
                update(CustomerInsight)
                .where(run_column.is_not(None), run_column != run_id)
                .values({**{name: None for name in (*fields, run_field)}, "updated_at": now})
                .execution_options(synchronize_session=False)
            )
        return saved

    def _active(self, as_of: datetime) -> Any:
        at = self._db_time(as_utc(as_of))
        return (
            Customer.merged_into_id.is_(None)
            & Customer.erased_at.is_(None)
            & or_(Customer.left_at.is_(None), Customer.left_at > at)
        )


def latest_rules_run(session: Session) -> int | None:
    """The last `rules` job run that succeeded: its rules are the ones in use, even when it
    found none (a run that failed half-way, or is still writing, is not)."""
    return session.scalar(
        select(func.max(JobRun.id)).where(
            JobRun.job == RULES_JOB, JobRun.status == JobStatus.SUCCEEDED
        )
    )
