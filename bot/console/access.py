"""Who may call what: each route is declared with the role it needs, and one guard checks it.

Handlers never check permissions themselves. `add_routes` wraps every handler of a route that
needs a role in the guard, which looks the caller's session up in the store (on every request,
so a logout, deactivation or role change is refused at once), authorises their role as it is
now and leaves their account on the request for the handler (`staff_of`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from bot.console.auth import MAX_TOKEN_CHARS, bearer_token
from bot.console.context import STORE, WS_TICKETS
from bot.console.errors import ApiError
from bot.crm.enums import StaffRole
from bot.crm.store import StaffInfo

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = None
"""The `role` of a route anyone may call."""
STAFF_KEY = "staff"
"""Where the guard leaves the caller's StaffInfo on the request."""
SESSION_KEY = "session_token"
"""Where the guard leaves the session token the caller authenticated with."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    role: StaffRole | None
    """The least role a caller needs, or PUBLIC."""
    ticket_in_query: bool = False
    """Also accept a one-time `?ticket=` (POST /api/v1/ws-ticket): browsers cannot send
    headers on a websocket upgrade, and the session token must not travel in a URL."""


def staff_of(request: web.Request) -> StaffInfo:
    """The caller of a route that needs a role, as the guard authenticated them."""
    return request[STAFF_KEY]


def session_of(request: web.Request) -> str:
    """The session token the caller of a guarded route authenticated with."""
    return request[SESSION_KEY]


def _session_token(request: web.Request, ticket_in_query: bool) -> str:
    token = bearer_token(request)
    if token is None and ticket_in_query and "ticket" in request.query:
        token = request.app[WS_TICKETS].redeem(request.query["ticket"])
        if token is None:
            raise ApiError(401, "unauthorized", "The ticket is unknown, used or expired.")
    if token is None:
        raise ApiError(401, "unauthorized", "Log in and send 'Authorization: Bearer TOKEN'.")
    return token


async def _authenticate(request: web.Request, token: str) -> StaffInfo:
    staff = None
    if len(token) <= MAX_TOKEN_CHARS:
        staff = await asyncio.to_thread(request.app[STORE].sessions.identity, token)
    if staff is None:
        raise ApiError(401, "unauthorized", "The session has ended or is invalid; log in again.")
    return staff


def _guarded(route: Route) -> Handler:
    required = route.role
    if required is None:
        return route.handler

    async def guard(request: web.Request) -> web.StreamResponse:
        token = _session_token(request, route.ticket_in_query)
        staff = await _authenticate(request, token)
        if not staff.role.allows(required):
            raise ApiError(403, "forbidden", f"This needs the {required.value} role.")
        request[STAFF_KEY] = staff
        request[SESSION_KEY] = token
        return await route.handler(request)

    return guard


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    app.router.add_routes([web.route(r.method, r.path, _guarded(r), name=r.name) for r in routes])
