"""Recording what staff read and change in the audit log (`store.audit`).

Handlers record after the store answered and before they reply: a read that cannot be
recorded fails (500) rather than reaching the caller unaudited.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.console.access import staff_of
from bot.console.context import STORE
from bot.crm.enums import AuditAction, Vocabulary
from bot.crm.store import StaffInfo


class Target(Vocabulary):
    """What kind of record an audit entry is about."""

    CONVERSATION = "conversation"
    CUSTOMER = "customer"
    HANDOFF = "handoff"
    STAFF = "staff"
    TICKETS = "tickets"
    AUDIT_LOG = "audit_log"
    JOB = "job"
    SEGMENT = "segment"


ANY = "*"
"""The target id of a read that spans many records (a list or a search)."""


async def record(
    request: web.Request,
    action: AuditAction,
    target: Target,
    target_id: object,
    *,
    customer_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor: StaffInfo | None = None,
) -> None:
    """One entry by the caller (or `actor`, on a route with no session yet: login)."""
    await asyncio.to_thread(
        request.app[STORE].audit.record,
        actor or staff_of(request),
        action,
        target.value,
        str(target_id),
        customer_id,
        detail,
    )


async def record_analytics_read(
    request: web.Request, exported: bool, endpoint: str, **detail: Any
) -> None:
    """A supervisor's read (or CSV export) of an analytics, review or inbox table: aggregate
    reads name no single conversation, so the target is every conversation (`ANY`)."""
    action = AuditAction.EXPORT_ANALYTICS if exported else AuditAction.READ_ANALYTICS
    await record(request, action, Target.CONVERSATION, ANY, detail={"endpoint": endpoint, **detail})
