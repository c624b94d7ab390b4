"""What the cleaning job reads and changes: customer values, their fixes, and merges.

Nothing is deleted. A fixed value keeps its old value in `customer_fixes`; a merged customer
stays as a row with `merged_into_id` set, its references move to the kept customer, and
`customer_merges` keeps the row as it was and how many references moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypedDict

from sqlalchemy import Column, case, func, select, update
from sqlalchemy.orm import Session

from bot.crm import models
from bot.crm.models import (
    Account,
    BotFeedback,
    Card,
    Contact,
    Conversation,
    Customer,
    CustomerFix,
    CustomerInsight,
    CustomerMerge,
    ProductHolding,
    SegmentAssignment,
    Ticket,
)
from bot.crm.store.base import Conflict, NotFound, StoreBase, iso

FIXABLE = ("name", "email", "phone", "city")
CONTACT_FIELDS = ("email", "phone", "city")
MOVED: tuple[tuple[str, Column], ...] = (
    ("accounts", Account.customer_id),
    ("cards", Card.customer_id),
    ("conversations", Conversation.customer_id),
    ("tickets", Ticket.customer_id),
    ("bot_feedback", BotFeedback.customer_id),
    ("product_holdings", ProductHolding.customer_id),
    ("contacts", Contact.customer_id),
)
"""References that simply follow the customer. Segment assignments, insights and earlier
merges into the merged customer need care (`merge`). The audit log keeps the id it recorded:
the database refuses to change it, and it says what was true at the time."""
CHUNK = 500


class CustomerValues(TypedDict):
    id: int
    name: str
    email: str | None
    phone: str | None
    city: str | None


class FieldFix(Protocol):
    """A change of one field from `old` to `new` (`analytics.dedupe.Fix` is one)."""

    customer_id: int
    field: str
    old: str | None
    new: str | None
    rule: str


class CleaningStore(StoreBase):
    def customers(self) -> list[CustomerValues]:
        """Every customer still in use (not merged, not erased), oldest first."""
        query = (
            select(Customer.id, Customer.name, Customer.email, Customer.phone, Customer.city)
            .where(Customer.merged_into_id.is_(None), Customer.erased_at.is_(None))
            .order_by(Customer.id)
        )
        with self._session() as session:
            return [
                {"id": id, "name": name, "email": email, "phone": phone, "city": city}
                for id, name, email, phone, city in session.execute(query)
            ]

    def apply_fixes(self, fixes: Iterable[FieldFix], run_id: int | None) -> dict[str, int]:
        """Apply each fix whose field still holds its `old` value, tracing it; returns the
        applied fixes by rule. A value changed since it was read is left alone."""
        applied: Counter[str] = Counter()
        pending = list(fixes)
        if any(fix.field not in FIXABLE for fix in pending):
            raise ValueError(f"only {', '.join(FIXABLE)} can be fixed")
        now = models.utcnow()
        with self._session() as session:
            for start in range(0, len(pending), CHUNK):
                chunk = pending[start : start + CHUNK]
                ids = {fix.customer_id for fix in chunk}
                customers = {
                    c.id: c
                    for c in session.scalars(
                        select(Customer).where(Customer.id.in_(ids)).with_for_update()
                    )
                }
                for fix in chunk:
                    customer = customers.get(fix.customer_id)
                    if customer is None or getattr(customer, fix.field) != fix.old:
                        continue
                    setattr(customer, fix.field, fix.new)
                    session.add(
                        _trace(fix.customer_id, fix.field, fix.old, fix.new, fix.rule, run_id, now)
                    )
                    applied[fix.rule] += 1
        return dict(applied)

    def merge(
        self,
        kept_id: int,
        merged_id: int,
        score: float,
        matched_on: Sequence[str],
        run_id: int | None,
    ) -> dict[str, int] | None:
        """Merge one duplicate into the kept customer, in one transaction; returns how many
        references moved, or None when it was already merged there (a re-run).

        The kept customer gains the merged one's e-mail, phone or city where it has none,
        and the more recent status: an active duplicate of a customer marked as left means
        the person is still here, so the kept `left_at` is cleared (all traced as
        `merge_fill` fixes).
        """
        if kept_id == merged_id:
            raise ValueError("a customer cannot be merged into itself")
        now = models.utcnow()
        with self._session() as session:
            rows = session.scalars(
                select(Customer)
                .where(Customer.id.in_([kept_id, merged_id]))
                .order_by(Customer.id)
                .with_for_update()
            ).all()
            found = {customer.id: customer for customer in rows}
            if kept_id not in found or merged_id not in found:
                raise NotFound(f"customer {kept_id} or {merged_id} not found")
            kept, merged = found[kept_id], found[merged_id]
            if merged.merged_into_id == kept_id:
                return None
            if merged.merged_into_id or kept.merged_into_id or kept.erased_at or merged.erased_at:
                raise Conflict(f"customer {merged_id} cannot be merged into {kept_id}")
            snapshot = _snapshot(merged)
            moved = {name: _move(session, column, merged_id, kept_id) for name, column in MOVED}
            moved["segment_assignments"] = _move_assignments(session, merged_id, kept_id, now)
            moved["customer_insights"] = _move_insight(session, merged_id, kept_id)
            moved["merged_customers"] = _move(session, Customer.merged_into_id, merged_id, kept_id)
            for field in CONTACT_FIELDS:
                value = getattr(merged, field)
                if getattr(kept, field) is None and value is not None:
                    setattr(kept, field, value)
                    session.add(_trace(kept_id, field, None, value, "merge_fill", run_id, now))
            if kept.left_at is not None and merged.left_at is None:
                left_at = iso(kept.left_at)
                kept.left_at = None
                session.add(_trace(kept_id, "left_at", left_at, None, "merge_fill", run_id, now))
            merged.merged_into_id = kept_id
            session.add(
                CustomerMerge(
                    run_id=run_id,
                    kept_id=kept_id,
                    merged_id=merged_id,
                    score=float(score),
                    matched_on=list(matched_on),
                    snapshot=snapshot,
                    moved=moved,
                    at=now,
                )
            )
            return moved

    def missing(self) -> dict[str, int]:
        """Customers in use with no e-mail, phone or city (blank counts as none)."""
        counts = [
            func.sum(case((func.coalesce(func.trim(column), "") == "", 1), else_=0))
            for column in (Customer.email, Customer.phone, Customer.city)
        ]
        query = select(*counts).where(
            Customer.merged_into_id.is_(None), Customer.erased_at.is_(None)
        )
        with self._session() as session:
            values = session.execute(query).one()
        return {field: int(value or 0) for field, value in zip(CONTACT_FIELDS, values, strict=True)}


def _trace(
    customer_id: int,
    field: str,
    old: str | None,
    new: str | None,
    rule: str,
    run_id: int | None,
    at: Any,
) -> CustomerFix:
    return CustomerFix(
        run_id=run_id,
        customer_id=customer_id,
        field=field,
        old_value=old,
        new_value=new,
        rule=rule,
        at=at,
    )


def _move(session: Session, column: Column, merged_id: int, kept_id: int) -> int:
    statement = (
        update(column.table)
        .where(column == merged_id)
        .values({column.name: kept_id})
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount


def _move_assignments(session: Session, merged_id: int, kept_id: int, now: Any) -> int:
    """Move the merged customer's segment history; if both have a current segment, the kept
    customer's stays current and the merged one's ends now."""
    current = (SegmentAssignment.customer_id == kept_id) & SegmentAssignment.valid_to.is_(None)
    if session.scalar(select(func.count()).where(current)):
        session.execute(
            update(SegmentAssignment)
            .where(SegmentAssignment.customer_id == merged_id, SegmentAssignment.valid_to.is_(None))
            .values(valid_to=now)
            .execution_options(synchronize_session=False)
        )
    return _move(session, SegmentAssignment.customer_id, merged_id, kept_id)


def _move_insight(session: Session, merged_id: int, kept_id: int) -> int:
    """Insights are one row per customer: the kept customer's own win; the merged one's row
    stays with it (the risk and channel jobs skip merged customers)."""
    if session.get(CustomerInsight, kept_id) is not None:
        return 0
    return _move(session, CustomerInsight.customer_id, merged_id, kept_id)


def _snapshot(customer: Customer) -> dict[str, Any]:
    """The customer row as JSON, times in ISO 8601."""
    values = {}
    for column in Customer.__table__.columns:
        value = getattr(customer, column.key)
        values[column.name] = iso(value) if hasattr(value, "isoformat") else value
    return values
