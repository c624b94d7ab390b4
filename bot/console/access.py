"""Who may call what: each route is declared with the role it needs, and one guard checks it.

Handlers never check permissions themselves. `add_routes` wraps every handler of a route that
needs a role in the guard, which authenticates the caller, authorises their role and leaves
their identity on the request for the handler (`staff_of`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

from bot.console.auth import StaffIdentity, bearer_token, read_staff_token
from bot.console.context import SETTINGS
from bot.console.errors import ApiError
from bot.crm.enums import StaffRole

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = None
"""The `role` of a route anyone may call."""
STAFF_KEY = "staff"
"""Where the guard leaves the caller's StaffIdentity on the request."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    role: StaffRole | None
    """The least role a caller needs, or PUBLIC."""
    token_in_query: bool = False
    """Also accept the token as `?token=`: browsers cannot send headers on a websocket upgrade."""


def staff_of(request: web.Request) -> StaffIdentity:
    """The caller of a route that needs a role, as the guard authenticated them."""
    return request[STAFF_KEY]


def _authenticate(request: web.Request, token_in_query: bool) -> StaffIdentity:
    token = (request.query.get("token") if token_in_query else None) or bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "Log in and send 'Authorization: Bearer TOKEN'.")
    identity = read_staff_token(request.app[SETTINGS].secret_key, token)
    if identity is None:
        raise ApiError(401, "unauthorized", "The session token is invalid or has expired.")
    return identity


def _guarded(route: Route) -> Handler:
    required = route.role
    if required is None:
        return route.handler

    async def guard(request: web.Request) -> web.StreamResponse:
        identity = _authenticate(request, route.token_in_query)
        if not identity.role.allows(required):
            raise ApiError(403, "forbidden", f"This needs the {required.value} role.")
        request[STAFF_KEY] = identity
        return await route.handler(request)

    return guard


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    app.router.add_routes([web.route(r.method, r.path, _guarded(r), name=r.name) for r in routes])
