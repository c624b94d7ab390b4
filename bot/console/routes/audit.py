"""The audit log for supervisors: who read or changed what, newest first (itself audited)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route
from bot.console.audit import ANY, Target, record
from bot.console.context import STORE
from bot.console.requests import MAX_DB_INT, cursor_param, int_param, text_param, time_param
from bot.console.routes.auth import USERNAME_CHARS
from bot.crm.enums import AuditAction, StaffRole

FILTERS = ("actor", "customer_id", "from", "to")


async def list_audit(request: web.Request) -> web.Response:
    customer_id = int_param(request, "customer_id", None, 1, MAX_DB_INT)
    entries, next_cursor = await asyncio.to_thread(
        request.app[STORE].audit.list,
        actor=text_param(request, "actor", USERNAME_CHARS),
        customer_id=customer_id,
        since=time_param(request, "from"),
        until=time_param(request, "to"),
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=cursor_param(request),
    )
    await record(
        request,
        AuditAction.READ_AUDIT,
        Target.AUDIT_LOG,
        ANY,
        customer_id=customer_id,
        detail={name: request.query[name] for name in FILTERS if request.query.get(name)},
    )
    return web.json_response({"entries": entries, "next_cursor": next_cursor})


ROUTES = (Route("GET", "/api/v1/audit", list_audit, name="list_audit", role=StaffRole.SUPERVISOR),)
