"""Customers: an agent reads a profile; a supervisor issues a widget token naming a customer."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route
from bot.console.audit import Target, record
from bot.console.context import SETTINGS, STORE
from bot.console.errors import ApiError
from bot.console.requests import int_path
from bot.crm.enums import AuditAction, StaffRole
from bot.identity import CUSTOMER_TOKEN_MAX_AGE_S, issue_customer_token
from bot.settings import KeyPurpose


async def get_customer(request: web.Request) -> web.Response:
    customer_id = int_path(request, "customer_id")
    profile = await asyncio.to_thread(request.app[STORE].customers.profile, customer_id)
    await record(
        request, AuditAction.READ_CUSTOMER, Target.CUSTOMER, customer_id, customer_id=customer_id
    )
    return web.json_response(profile)


async def create_widget_token(request: web.Request) -> web.Response:
    customer_id = int_path(request, "customer_id")
    if not await asyncio.to_thread(request.app[STORE].customers.exists, customer_id):
        raise ApiError(404, "not_found", f"customer {customer_id} not found")
    token_key = request.app[SETTINGS].key_for(KeyPurpose.CUSTOMER_TOKEN)
    token = issue_customer_token(token_key, customer_id)
    await record(
        request,
        AuditAction.ISSUE_WIDGET_TOKEN,
        Target.CUSTOMER,
        customer_id,
        customer_id=customer_id,
    )
    return web.json_response(
        {"token": token, "customer_id": customer_id, "expires_in": CUSTOMER_TOKEN_MAX_AGE_S}
    )


ROUTES = (
    Route(
        "GET",
        "/api/v1/customers/{customer_id}",
        get_customer,
        name="get_customer",
        role=StaffRole.AGENT,
    ),
    Route(
        "POST",
        "/api/v1/customers/{customer_id}/widget-token",
        create_widget_token,
        name="create_widget_token",
        role=StaffRole.SUPERVISOR,
    ),
)
