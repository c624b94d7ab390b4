"""Conversations as the CRM stored them: a filtered, paged list and one with its messages."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.console.access import Route
from bot.console.context import STORE
from bot.console.requests import enum_param, int_param
from bot.crm.enums import ConversationStatus, StaffRole


async def list_conversations(request: web.Request) -> web.Response:
    items, next_cursor = await asyncio.to_thread(
        request.app[STORE].conversations.list,
        customer_id=int_param(request, "customer_id", None, 1, 2**31 - 1),
        status=enum_param(request, "status", ConversationStatus),
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=request.query.get("cursor") or None,
    )
    return web.json_response({"conversations": items, "next_cursor": next_cursor})


async def get_conversation(request: web.Request) -> web.Response:
    conversation_id = request.match_info["conversation_id"]
    conversation = await asyncio.to_thread(request.app[STORE].conversations.get, conversation_id)
    return web.json_response(conversation)


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
