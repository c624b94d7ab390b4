"""Staff sessions: log in for a session token, log out, and trade it for a websocket ticket."""

from __future__ import annotations

import asyncio
import logging
import math

from aiohttp import web

from bot.console.access import PUBLIC, Route, session_of, staff_of
from bot.console.audit import Target, record
from bot.console.context import LOGIN_THROTTLE, PASSWORDS, STORE, WS_TICKETS
from bot.console.errors import ApiError
from bot.console.requests import clean_text, json_body, string_field
from bot.crm.enums import AuditAction, StaffRole
from bot.crm.store.sessions import DEFAULT_TTL_S

logger = logging.getLogger(__name__)
USERNAME_CHARS = 80
PASSWORD_CHARS = 1000
IP_CHARS = 45


def client_ip(request: web.Request) -> str:
    """The peer's address. Behind a reverse proxy this is the proxy: throttle there too."""
    return (request.remote or "unknown")[:IP_CHARS]


async def login(request: web.Request) -> web.Response:
    payload = await json_body(request)
    username = string_field(payload, "username", USERNAME_CHARS)
    password = string_field(payload, "password", PASSWORD_CHARS)
    ip = client_ip(request)
    throttle = request.app[LOGIN_THROTTLE]
    wait_s = throttle.admit(username, ip)
    if wait_s:
        raise ApiError(
            429,
            "too_many_attempts",
            "Too many failed sign-ins for this account or address; try again later.",
            headers={"Retry-After": str(math.ceil(wait_s))},
        )
    store = request.app[STORE]
    staff = await request.app[PASSWORDS].run(store.staff.authenticate, username, password)
    if staff is None:
        logger.warning("failed sign-in as %r from %s", username, ip)
        raise ApiError(401, "invalid_credentials", "Wrong username or password.")
    throttle.succeeded(username, ip)
    user_agent = request.headers.get("User-Agent")
    token = await asyncio.to_thread(
        store.sessions.open,
        staff.id,
        user_agent=user_agent if user_agent and clean_text(user_agent) else None,
        ip=ip,
    )
    await record(request, AuditAction.LOGIN, Target.STAFF, staff.id, actor=staff, detail={"ip": ip})
    return web.json_response(
        {
            "token": token,
            "role": staff.role,
            "username": staff.username,
            "staff_id": staff.id,
            "expires_in": DEFAULT_TTL_S,
        }
    )


async def logout(request: web.Request) -> web.Response:
    """End the caller's session now; other sessions of the account stay."""
    await asyncio.to_thread(request.app[STORE].sessions.revoke, session_of(request))
    await record(request, AuditAction.LOGOUT, Target.STAFF, staff_of(request).id)
    return web.Response(status=204)


async def ws_ticket(request: web.Request) -> web.Response:
    ticket = request.app[WS_TICKETS].issue(session_of(request))
    return web.json_response({"ticket": ticket, "expires_in": request.app[WS_TICKETS].ttl_s})


ROUTES = (
    Route("POST", "/api/v1/auth/login", login, name="login", role=PUBLIC),
    Route("POST", "/api/v1/auth/logout", logout, name="logout", role=StaffRole.AGENT),
    Route("POST", "/api/v1/ws-ticket", ws_ticket, name="ws_ticket", role=StaffRole.AGENT),
)
