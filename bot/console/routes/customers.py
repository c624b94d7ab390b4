"""Customers: an agent finds customers and reads one with what the batch jobs concluded about
them; a supervisor issues a widget token naming a customer, or erases a customer."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.console.access import Route
from bot.console.audit import ANY, Target, record
from bot.console.context import SETTINGS, STORE, TICKET_SEARCH
from bot.console.errors import ApiError
from bot.console.requests import MAX_DB_INT, cursor_param, int_param, int_path, text_param
from bot.crm.enums import AuditAction, StaffRole
from bot.crm.erasure import erase_customer
from bot.crm.store import CRMStore
from bot.crm.store.records import CustomerDetail
from bot.identity import CUSTOMER_TOKEN_MAX_AGE_S, issue_customer_token
from bot.settings import KeyPurpose

logger = logging.getLogger(__name__)

FOLLOW_UP_ERASURES_S = (5.0, 30.0, 120.0, 310.0)
"""When the erasure is run again after the call (seconds after it). A turn in flight when the
customer was erased ends later and saves its tracker again: Rasa's SQL tracker store writes
back every event it does not find stored, and the action may open a ticket. The last pass
comes after Rasa's 300 s limit on an action call, so no turn of that time is still running."""
_follow_ups: set[asyncio.Task] = set()
"""The running follow-up passes (asyncio keeps only weak references to tasks)."""


async def _erase_again(app: web.Application, customer_id: int) -> None:
    waited = 0.0
    for at in FOLLOW_UP_ERASURES_S:
        await asyncio.sleep(at - waited)
        waited = at
        try:
            await asyncio.to_thread(
                erase_customer, app[STORE], app[SETTINGS], app[TICKET_SEARCH], customer_id
            )
        except Exception:
            logger.warning("follow-up erasure of customer %s failed", customer_id, exc_info=True)


MAX_QUERY_CHARS = 100


async def list_customers(request: web.Request) -> web.Response:
    segment_id = int_param(request, "segment", None, 1, MAX_DB_INT)
    query = text_param(request, "q", MAX_QUERY_CHARS)
    items, next_cursor = await asyncio.to_thread(
        request.app[STORE].customers.search,
        segment_id=segment_id,
        q=query,
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=cursor_param(request),
    )
    await record(
        request,
        AuditAction.LIST_CUSTOMERS,
        Target.CUSTOMER,
        ANY,
        detail={
            "segment": segment_id,
            "q": query,
            "customer_ids": [item["id"] for item in items],
        },
    )
    return web.json_response({"customers": items, "next_cursor": next_cursor})


def customer_detail(store: CRMStore, customer_id: int) -> CustomerDetail:
    """The profile (a merged customer's id names the one kept) with the customer's view."""
    profile = store.customers.profile(customer_id)
    return {**profile, **store.customer_view.view(profile["id"])}


async def get_customer(request: web.Request) -> web.Response:
    customer_id = int_path(request, "customer_id")
    detail = await asyncio.to_thread(customer_detail, request.app[STORE], customer_id)
    await record(
        request, AuditAction.READ_CUSTOMER, Target.CUSTOMER, customer_id, customer_id=detail["id"]
    )
    return web.json_response(detail)


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


async def delete_customer(request: web.Request) -> web.Response:
    """Erase the customer everywhere (`bot.crm.erasure.erase_customer`); a merged id erases
    the customer it was merged into, with every duplicate. 200 with what was erased; a second
    call is 200 too, with `already_erased` and nothing left to erase; 404 for an unknown id."""
    customer_id = int_path(request, "customer_id")
    erasure = await asyncio.to_thread(
        erase_customer,
        request.app[STORE],
        request.app[SETTINGS],
        request.app[TICKET_SEARCH],
        customer_id,
    )
    follow_up = asyncio.create_task(_erase_again(request.app, erasure["customer_id"]))
    _follow_ups.add(follow_up)
    follow_up.add_done_callback(_follow_ups.discard)
    await record(
        request,
        AuditAction.ERASE_CUSTOMER,
        Target.CUSTOMER,
        customer_id,
        customer_id=erasure["customer_id"],
        detail={
            "erased_ids": erasure["erased_ids"],
            "already_erased": erasure["already_erased"],
            "conversations": len(erasure["conversation_ids"]),
            "erased": erasure["erased"],
        },
    )
    return web.json_response(
        {
            "customer_id": erasure["customer_id"],
            "erased_ids": erasure["erased_ids"],
            "erased_at": erasure["erased_at"],
            "already_erased": erasure["already_erased"],
            "conversations": len(erasure["conversation_ids"]),
            "erased": erasure["erased"],
        }
    )


ROUTES = (
    Route(
        "GET",
        "/api/v1/customers",
        list_customers,
        name="list_customers",
        role=StaffRole.AGENT,
    ),
    Route(
        "GET",
        "/api/v1/customers/{customer_id}",
        get_customer,
        name="get_customer",
        role=StaffRole.AGENT,
    ),
    Route(
        "DELETE",
        "/api/v1/customers/{customer_id}",
        delete_customer,
        name="delete_customer",
        role=StaffRole.SUPERVISOR,
    ),
    Route(
        "POST",
        "/api/v1/customers/{customer_id}/widget-token",
        create_widget_token,
        name="create_widget_token",
        role=StaffRole.SUPERVISOR,
    ),
)
