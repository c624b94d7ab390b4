"""Per-customer activity features at a point in time: what segmentation and risk learn from.

Every figure is aggregated in the database (GROUP BY) for one chunk of customer ids at a
time, so a million customers with ten million transactions stream through in bounded
memory. Only rows dated at or before `as_of` count, so the risk job can read features at
an earlier cutoff and label them with what happened after it, without leakage.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, and_, case, extract, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from bot.crm.enums import ContactChannel, Sender, TicketKind
from bot.crm.models import (
    Account,
    Contact,
    Conversation,
    Customer,
    Message,
    ProductHolding,
    Ticket,
    Transaction,
)
from bot.crm.store.base import StoreBase, as_utc

YEAR = timedelta(days=365)
QUARTER = timedelta(days=90)
DAY_SECONDS = 86_400.0

FEATURE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "tenure_days",
    "recency_days",
    "frequency",
    "monetary",
    "contacts_90d",
    *(f"share_{channel.value}" for channel in ContactChannel),
    "sentiment",
    "csat",
    "handoffs",
    "products",
)
"""The columns of every chunk `ActivityStore.features` yields, in this order."""


class ActivityStore(StoreBase):
    def features(self, as_of: datetime, chunk_size: int = 50_000) -> Iterator[pd.DataFrame]:
        """Features of every customer active at `as_of`, in chunks of at most `chunk_size`.

        Active: not merged, not erased, joined by `as_of` and not left by then. Windows end
        at `as_of`: frequency, monetary, channel shares, sentiment, CSAT and handoffs cover
        the 365 days before it, `contacts_90d` the 90 days before it. Recency is the time
        since the last transaction (the tenure when there is none); sentiment and CSAT are
        NaN when the customer gave none; channel shares are 0 without contacts.
        """
        as_of = as_utc(as_of)
        after_id = 0
        with self.engine.connect() as connection:
            while True:
                query = self._active(as_of).where(Customer.id > after_id).limit(chunk_size)
                customers = _numbers(connection, query)[1]
                if not len(customers):
                    return
                after_id = int(customers[-1, 0])
                yield self._chunk(connection, customers, as_of)
                if len(customers) < chunk_size:
                    return

    def left_between(self, start: datetime, end: datetime) -> set[int]:
        """Customers (not merged away) whose `left_at` is after `start` and at or before `end`:
        exactly those of `features(start)` that left by `end`, the churn label."""
        query = select(Customer.id).where(
            Customer.merged_into_id.is_(None),
            Customer.left_at > self._db_time(start),
            Customer.left_at <= self._db_time(end),
        )
        with self.engine.connect() as connection:
            return set(connection.scalars(query))

    def _active(self, as_of: datetime) -> Select:
        at = self._db_time(as_of)
        return (
            select(Customer.id, self._days_before(as_of, Customer.created_at))
            .where(
                Customer.merged_into_id.is_(None),
                Customer.erased_at.is_(None),
                Customer.created_at <= at,
                or_(Customer.left_at.is_(None), Customer.left_at > at),
            )
            .order_by(Customer.id)
        )

    def _chunk(
        self, connection: Connection, customers: np.ndarray, as_of: datetime
    ) -> pd.DataFrame:
        """One chunk's features: one GROUP BY per source, aligned on the customer id.

        Every aggregate is a number (times become day counts in SQL), so rows go straight
        into float arrays.
        """
        ids = customers[:, 0].astype(np.int64)
        raw: dict[str, np.ndarray] = {"customer_id": ids, "tenure_days": customers[:, 1]}
        for query in self._aggregates(int(ids[0]), int(ids[-1]), as_of):
            names, rows = _numbers(connection, query)
            owners = rows[:, 0].astype(np.int64)
            found = np.minimum(np.searchsorted(ids, owners), len(ids) - 1)
            active = ids[found] == owners  # the id range also holds customers who left
            for index, name in enumerate(names[1:], start=1):
                column = np.full(len(ids), np.nan)
                column[found[active]] = rows[active, index]
                raw[name] = column
        return _derive(pd.DataFrame(raw))

    def _days_before(self, as_of: datetime, column: Any) -> ColumnElement:
        """Days from `column` to `as_of`, computed by the database (no time parsing here)."""
        at = self._db_time(as_of)
        if self.engine.dialect.name == "sqlite":
            return func.julianday(literal(at, DateTime())) - func.julianday(column)
        return extract("epoch", literal(at, DateTime(timezone=True)) - column) / DAY_SECONDS

    def _aggregates(self, first: int, last: int, as_of: datetime) -> list[Select]:
        at = self._db_time(as_of)
        year_ago = self._db_time(as_of - YEAR)
        quarter_ago = self._db_time(as_of - QUARTER)
        in_year = Transaction.created_at > year_ago
        transactions = (
            select(
                Account.customer_id.label("customer_id"),
                func.sum(case((in_year, 1), else_=0)).label("frequency"),
                func.sum(case((in_year, func.abs(Transaction.amount_cents)), else_=0)).label(
                    "monetary_cents"
                ),
                self._days_before(as_of, func.max(Transaction.created_at)).label("recency_days"),
            )
            .join(Transaction, Transaction.account_id == Account.id)
            .where(Account.customer_id.between(first, last), Transaction.created_at <= at)
            .group_by(Account.customer_id)
        )
        contacts = (
            select(
                Contact.customer_id.label("customer_id"),
                func.sum(case((Contact.at > quarter_ago, 1), else_=0)).label("contacts_90d"),
                func.count(Contact.id).label("contacts_year"),
                *(
                    func.sum(case((Contact.channel == channel.value, 1), else_=0)).label(
                        f"contacts_{channel.value}"
                    )
                    for channel in ContactChannel
                ),
                func.sum(Contact.csat).label("csat_sum_c"),
                func.count(Contact.csat).label("csat_n_c"),
            )
            .where(
                Contact.customer_id.between(first, last),
                Contact.at > year_ago,
                Contact.at <= at,
            )
            .group_by(Contact.customer_id)
        )
        rated = and_(
            Ticket.csat.is_not(None), func.coalesce(Ticket.csat_at, Ticket.created_at) <= at
        )
        tickets = (
            select(
                Ticket.customer_id.label("customer_id"),
                func.sum(case((Ticket.kind == TicketKind.HANDOFF.value, 1), else_=0)).label(
                    "handoffs"
                ),
                func.sum(case((rated, Ticket.csat), else_=None)).label("csat_sum_t"),
                func.count(case((rated, Ticket.csat), else_=None)).label("csat_n_t"),
            )
            .where(
                Ticket.customer_id.between(first, last),
                Ticket.created_at > year_ago,
                Ticket.created_at <= at,
            )
            .group_by(Ticket.customer_id)
        )
        sentiment = (
            select(
                Conversation.customer_id.label("customer_id"),
                func.avg(Message.sentiment).label("sentiment"),
            )
            .join(Message, Message.conversation_id == Conversation.id)
            .where(
                Conversation.customer_id.between(first, last),
                Message.sender == Sender.CUSTOMER.value,
                Message.sentiment.is_not(None),
                Message.created_at > year_ago,
                Message.created_at <= at,
            )
            .group_by(Conversation.customer_id)
        )
        products = (
            select(
                ProductHolding.customer_id.label("customer_id"),
                func.count(ProductHolding.id).label("products"),
            )
            .where(
                ProductHolding.customer_id.between(first, last),
                ProductHolding.opened_at <= at,
                or_(ProductHolding.closed_at.is_(None), ProductHolding.closed_at > at),
            )
            .group_by(ProductHolding.customer_id)
        )
        return [transactions, contacts, tickets, sentiment, products]


def _numbers(connection: Connection, query: Select) -> tuple[list[str], np.ndarray]:
    """A numeric query's column names and rows as floats (NULL is NaN), fetched from the
    driver's cursor: SQLAlchemy's row objects cost more than the query on a million rows."""
    result = connection.execute(query)
    try:
        names = list(result.keys())
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return names, np.array(rows, dtype=np.float64).reshape(-1, len(names))


def _derive(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns from the chunk's raw aggregates (NULL counts are zero)."""
    counts = ["frequency", "monetary_cents", "contacts_90d", "contacts_year", "handoffs"]
    counts += [f"contacts_{channel.value}" for channel in ContactChannel]
    counts += ["csat_n_c", "csat_n_t", "products"]
    for column in counts:
        frame[column] = frame[column].fillna(0).astype("int64")
    tenure = frame["tenure_days"]
    recency = frame["recency_days"].fillna(tenure)
    contacts = frame["contacts_year"].replace(0, np.nan)
    csat_n = frame["csat_n_c"] + frame["csat_n_t"]
    csat_sum = frame["csat_sum_c"].fillna(0) + frame["csat_sum_t"].fillna(0)
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("int64"),
            "tenure_days": tenure.round(4),
            "recency_days": recency.round(4),
            "frequency": frame["frequency"],
            "monetary": frame["monetary_cents"] / 100.0,
            "contacts_90d": frame["contacts_90d"],
            **{
                f"share_{channel.value}": (frame[f"contacts_{channel.value}"] / contacts).fillna(
                    0.0
                )
                for channel in ContactChannel
            },
            "sentiment": frame["sentiment"],
            "csat": (csat_sum / csat_n.replace(0, np.nan)).astype("float64"),
            "handoffs": frame["handoffs"],
            "products": frame["products"],
        }
    )
    return out[list(FEATURE_COLUMNS)].reset_index(drop=True)
