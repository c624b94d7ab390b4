"""Staff accounts, managed by supervisors."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route
from bot.console.context import STORE
from bot.console.errors import ApiError
from bot.console.requests import json_body, string_field
from bot.crm.enums import StaffRole
from bot.crm.store import StaffInfo

MIN_PASSWORD_CHARS = 10


def _staff_json(staff: StaffInfo) -> dict[str, object]:
    return {"id": staff.id, "username": staff.username, "role": staff.role}


async def list_staff(request: web.Request) -> web.Response:
    staff = await asyncio.to_thread(request.app[STORE].staff.list)
    return web.json_response({"staff": [_staff_json(member) for member in staff]})


async def create_staff(request: web.Request) -> web.Response:
    payload = await json_body(request)
    username = string_field(payload, "username", 80)
    password = string_field(payload, "password", 1000)
    role = string_field(payload, "role", 20)
    if role not in StaffRole.values():
        roles = ", ".join(StaffRole.values())
        raise ApiError(400, "invalid_field", f"'role' must be one of {roles}.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ApiError(
            400, "weak_password", f"'password' must have at least {MIN_PASSWORD_CHARS} characters."
        )
    try:
        staff = await asyncio.to_thread(
            request.app[STORE].staff.create, username, password, StaffRole(role)
        )
    except ValueError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return web.json_response(_staff_json(staff), status=201)


ROUTES = (
    Route("GET", "/api/v1/staff", list_staff, name="list_staff", role=StaffRole.SUPERVISOR),
    Route("POST", "/api/v1/staff", create_staff, name="create_staff", role=StaffRole.SUPERVISOR),
)
