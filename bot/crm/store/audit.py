"""The audit log: which staff member read or changed what, and when.

Entries are only ever added: the database's own triggers (migration 0003) refuse UPDATE and
DELETE on the table, so no code path using the application's connection can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.crm import models
from bot.crm.enums import AuditAction
from bot.crm.models import AuditLogEntry
from bot.crm.store.base import StoreBase, iso, split_page
from bot.crm.store.records import AuditEntry, StaffInfo


class AuditStore(StoreBase):
    def record(
        self,
        actor: StaffInfo,
        action: AuditAction | str,
        target_type: str,
        target_id: str,
        customer_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Add one entry; returns its id. ValueError for an action that is not an AuditAction."""
        entry = AuditLogEntry(
            at=models.utcnow(),
            actor_id=actor.id,
            actor_username=actor.username,
            action=AuditAction(action),
            target_type=target_type,
            target_id=str(target_id),
            customer_id=customer_id,
            detail=detail,
        )
        with self._session() as session:
            session.add(entry)
            session.flush()
            return entry.id

    def list(
        self,
        *,
        actor: str | None = None,
        customer_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[AuditEntry], str | None]:
        """Entries newest first, from `since` (inclusive) to `until` (exclusive), by actor's
        username and customer; with an opaque cursor for the next page (or None)."""
        query = select(AuditLogEntry)
        if actor is not None:
            query = query.where(AuditLogEntry.actor_username == actor)
        if customer_id is not None:
            query = query.where(AuditLogEntry.customer_id == customer_id)
        if since is not None:
            query = query.where(AuditLogEntry.at >= self._db_time(since))
        if until is not None:
            query = query.where(AuditLogEntry.at < self._db_time(until))
        if cursor:
            query = query.where(
                self._after_cursor(cursor, AuditLogEntry.at, AuditLogEntry.id, key_type=int)
            )
        query = query.order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc()).limit(limit + 1)
        with self._session() as session:
            rows = session.scalars(query).all()
        page, next_cursor = split_page(rows, limit, lambda entry: (entry.at, entry.id))
        return [_entry(row) for row in page], next_cursor


def _entry(row: AuditLogEntry) -> AuditEntry:
    return {
        "id": row.id,
        "at": iso(row.at),
        "actor_id": row.actor_id,
        "actor_username": row.actor_username,
        "action": AuditAction(row.action),
        "target_type": row.target_type,
        "target_id": row.target_id,
        "customer_id": row.customer_id,
        "detail": row.detail,
    }
