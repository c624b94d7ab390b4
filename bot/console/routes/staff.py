"""Staff accounts, managed by supervisors; admin accounts only by admins."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.audit import Target, record
from bot.console.context import PASSWORDS, STORE
from bot.console.errors import ApiError
from bot.console.requests import bool_field, int_path, json_body, string_field
from bot.console.routes.auth import PASSWORD_CHARS, USERNAME_CHARS
from bot.crm.enums import AuditAction, StaffRole
from bot.crm.store import StaffInfo
from bot.crm.store.staff import InvalidUsername

MIN_PASSWORD_CHARS = 10


def _staff_json(staff: StaffInfo) -> dict[str, object]:
    return {"id": staff.id, "username": staff.username, "role": staff.role, "active": staff.active}


def _role_field(payload: dict[str, object]) -> StaffRole:
    role = string_field(payload, "role", 20)
    if role not in StaffRole.values():
        roles = ", ".join(StaffRole.values())
        raise ApiError(400, "invalid_field", f"'role' must be one of {roles}.")
    return StaffRole(role)


def _needs_admin(caller: StaffInfo, *roles: StaffRole) -> None:
    """Only an admin may grant the admin role or change an admin's account."""
    if StaffRole.ADMIN in roles and caller.role != StaffRole.ADMIN:
        raise ApiError(403, "forbidden", "Only an admin may grant or change the admin role.")


async def list_staff(request: web.Request) -> web.Response:
    staff = await asyncio.to_thread(request.app[STORE].staff.list)
    return web.json_response({"staff": [_staff_json(member) for member in staff]})


async def create_staff(request: web.Request) -> web.Response:
    payload = await json_body(request)
    username = string_field(payload, "username", USERNAME_CHARS)
    password = string_field(payload, "password", PASSWORD_CHARS)
    role = _role_field(payload)
    if len(password) < MIN_PASSWORD_CHARS:
        raise ApiError(
            400, "weak_password", f"'password' must have at least {MIN_PASSWORD_CHARS} characters."
        )
    _needs_admin(staff_of(request), role)
    try:
        staff = await request.app[PASSWORDS].run(
            request.app[STORE].staff.create, username, password, role
        )
    except InvalidUsername as error:
        raise ApiError(400, "invalid_field", str(error)) from None
    except ValueError as error:
        raise ApiError(409, "conflict", str(error)) from None
    await record(
        request, AuditAction.CREATE_STAFF, Target.STAFF, staff.id, detail=_staff_json(staff)
    )
    return web.json_response(_staff_json(staff), status=201)


async def update_staff(request: web.Request) -> web.Response:
    """Change an account's role or deactivate it; its sessions end in the same transaction."""
    staff_id = int_path(request, "staff_id")
    payload = await json_body(request)
    role = _role_field(payload) if "role" in payload else None
    active = bool_field(payload, "active", None)
    if role is None and active is None:
        raise ApiError(400, "invalid_body", "Send 'role', 'active' or both.")
    store = request.app[STORE].staff
    before = await asyncio.to_thread(store.get, staff_id)
    _needs_admin(staff_of(request), before.role, role or before.role)
    after = await asyncio.to_thread(store.update, staff_id, role=role, active=active)
    await record(
        request,
        AuditAction.UPDATE_STAFF,
        Target.STAFF,
        staff_id,
        detail={"before": _staff_json(before), "after": _staff_json(after)},
    )
    return web.json_response(_staff_json(after))


STAFF = "/api/v1/staff"
ROUTES = (
    Route("GET", STAFF, list_staff, name="list_staff", role=StaffRole.SUPERVISOR),
    Route("POST", STAFF, create_staff, name="create_staff", role=StaffRole.SUPERVISOR),
    Route(
        "PATCH",
        f"{STAFF}/{{staff_id}}",
        update_staff,
        name="update_staff",
        role=StaffRole.SUPERVISOR,
    ),
)
