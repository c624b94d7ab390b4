"""Conversations as the CRM stored them: a filtered, paged list and one with its messages."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route
from bot.console.audit import ANY, Target, record
from bot.console.context import STORE
from bot.console.requests import MAX_DB_INT, cursor_param, enum_param, int_param, text_path
from bot.crm.enums import AuditAction, ConversationStatus, StaffRole


async def list_conversations(request: web.Request) -> web.Response:
    customer_id = int_param(request, "customer_id", None, 1, MAX_DB_INT)
    status = enum_param(request, "status", ConversationStatus)
    items, next_cursor = await asyncio.to_thread(
        request.app[STORE].conversations.list,
        customer_id=customer_id,
        status=status,
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=cursor_param(request),
    )
    await record(
        request,
        AuditAction.LIST_CONVERSATIONS,
        Target.CONVERSATION,
        ANY,
        customer_id=customer_id,
        detail={"status": status, "conversation_ids": [item["id"] for item in items]},
    )
    return web.json_response({"conversations": items, "next_cursor": next_cursor})


async def get_conversation(request: web.Request) -> web.Response:
    conversation_id = text_path(request, "conversation_id")
    store = request.app[STORE]
    conversation = await asyncio.to_thread(store.conversations.get, conversation_id)
    await record(
        request,
        AuditAction.READ_CONVERSATION,
        Target.CONVERSATION,
        conversation_id,
        customer_id=conversation["customer_id"],
    )
    # What Rasa has not confirmed yet (pending) or never will (failed): agents' replies not
    # yet delivered, a resume still owed while the conversation shows `handoff`.
    deliveries = await asyncio.to_thread(store.deliveries.unsettled, conversation_id)
    return web.json_response({**conversation, "deliveries": deliveries})


ROUTES = (
    Route(
        "GET",
        "/api/v1/conversations",
        list_conversations,
        name="list_conversations",
        role=StaffRole.AGENT,
    ),
    Route(
        "GET",
        "/api/v1/conversations/{conversation_id}",
        get_conversation,
        name="get_conversation",
        role=StaffRole.AGENT,
    ),
)
