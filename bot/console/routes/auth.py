"""Staff login: a username and password for a session token."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import PUBLIC, Route
from bot.console.auth import StaffIdentity, issue_staff_token
from bot.console.context import SETTINGS, STORE
from bot.console.errors import ApiError
from bot.console.requests import json_body, string_field


async def login(request: web.Request) -> web.Response:
    payload = await json_body(request)
    username = string_field(payload, "username", 80)
    password = string_field(payload, "password", 1000)
    staff = await asyncio.to_thread(request.app[STORE].staff.authenticate, username, password)
    if staff is None:
        raise ApiError(401, "invalid_credentials", "Wrong username or password.")
    identity = StaffIdentity(staff.id, staff.username, staff.role)
    token = issue_staff_token(request.app[SETTINGS].secret_key, identity)
    return web.json_response(
        {"token": token, "role": staff.role, "username": staff.username, "staff_id": staff.id}
    )


ROUTES = (Route("POST", "/api/v1/auth/login", login, name="login", role=PUBLIC),)
