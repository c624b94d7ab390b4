"""Handoff API: the agent queue, claiming, replying, resolving, similar tickets, live events."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from bot.console.auth import read_staff_token
from bot.console.context import (
    LIVE,
    RASA,
    TICKET_SEARCH,
    repository_of,
    require,
    settings_of,
)
from bot.console.errors import ApiError
from bot.console.requests import choice_param, int_param, int_path, json_object, string_field
from bot.crm.repository import Conflict, NotFound
from nlp.pii import redact_text

logger = logging.getLogger(__name__)
HANDOFF_STATUSES = ("open", "claimed", "resolved")
MAX_AGENT_MESSAGE_CHARS = 5000
CSAT_INTENT = "give_feedback"


async def _handoff_call(function, *args):
    """Run a repository call, turning its NotFound/Conflict into API errors."""
    try:
        return await asyncio.to_thread(function, *args)
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None


async def list_handoffs(request: web.Request) -> web.Response:
    require(request, "agent")
    status = choice_param(request, "status", HANDOFF_STATUSES) or "open"
    handoffs = await asyncio.to_thread(repository_of(request).list_handoffs, status)
    return web.json_response({"handoffs": handoffs})


async def claim_handoff(request: web.Request) -> web.Response:
    staff = require(request, "agent")
    handoff = await _handoff_call(
        repository_of(request).claim_handoff, int_path(request, "handoff_id"), staff.staff_id
    )
    await request.app[LIVE].publish({"type": "handoff_claimed", "handoff": handoff})
    return web.json_response(handoff)


async def post_message(request: web.Request) -> web.Response:
    staff = require(request, "agent")
    payload = await json_object(request)
    text = string_field(payload, "text", MAX_AGENT_MESSAGE_CHARS)
    message = await _handoff_call(
        repository_of(request).record_agent_message,
        int_path(request, "handoff_id"),
        staff.staff_id,
        redact_text(text),
    )
    delivered = await request.app[RASA].deliver_agent_message(
        message["conversation_id"], text, staff.username
    )
    return web.json_response({"message": message, "delivered": delivered}, status=201)


async def resolve_handoff(request: web.Request) -> web.Response:
    staff = require(request, "agent")
    payload = await json_object(request)
    resolution = redact_text(string_field(payload, "resolution", 5000))
    return_to_bot = payload.get("return_to_bot", True)
    if not isinstance(return_to_bot, bool):
        raise ApiError(400, "invalid_field", "'return_to_bot' must be true or false.")
    handoff = await _handoff_call(
        repository_of(request).resolve_handoff,
        int_path(request, "handoff_id"),
        staff.staff_id,
        resolution,
        return_to_bot,
    )
    await request.app[LIVE].publish({"type": "handoff_resolved", "handoff": handoff})
    rasa = request.app[RASA]
    try:
        await rasa.resume(handoff["conversation_id"])
        await rasa.trigger_intent(handoff["conversation_id"], CSAT_INTENT)
        bot_resumed = True
    except ApiError:
        logger.exception("handoff %s resolved, but the bot could not be resumed", handoff["id"])
        bot_resumed = False
    try:
        await asyncio.to_thread(request.app[TICKET_SEARCH].add_resolved, handoff)
        indexed = True
    except Exception:
        logger.exception("handoff %s resolved but not indexed (run crm reindex)", handoff["id"])
        indexed = False
    return web.json_response({"handoff": handoff, "bot_resumed": bot_resumed, "indexed": indexed})


async def similar_tickets(request: web.Request) -> web.Response:
    require(request, "agent")
    query = request.query.get("q", "").strip()
    if not query:
        raise ApiError(400, "invalid_parameter", "'q' must be a non-empty text.")
    if len(query) > MAX_AGENT_MESSAGE_CHARS:
        raise ApiError(400, "invalid_parameter", "'q' is too long.")
    k = int_param(request, "k", 5, 1, 50)
    matches = await asyncio.to_thread(request.app[TICKET_SEARCH].query, redact_text(query), k)
    return web.json_response({"tickets": matches})


async def live_events(request: web.Request) -> web.WebSocketResponse:
    """Websocket of live events; browsers pass the token as `?token=` (no headers on upgrade)."""
    token = request.query.get("token")
    identity = read_staff_token(settings_of(request).secret_key, token) if token else None
    if identity is None:
        require(request, "agent")
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    live = request.app[LIVE]
    live.sockets.add(socket)
    try:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        live.sockets.discard(socket)
    return socket


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/handoffs", list_handoffs, name="list_handoffs")
    app.router.add_post("/api/v1/handoffs/{handoff_id}/claim", claim_handoff, name="claim")
    app.router.add_post("/api/v1/handoffs/{handoff_id}/messages", post_message, name="reply")
    app.router.add_post("/api/v1/handoffs/{handoff_id}/resolve", resolve_handoff, name="resolve")
    app.router.add_get("/api/v1/tickets/similar", similar_tickets, name="similar_tickets")
    app.router.add_get("/api/v1/ws", live_events, name="live_events")
