"""Handoffs: the agents' queue, claiming, replying, resolving, and similar past tickets."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.context import LIVE, RASA, STORE, TICKET_SEARCH
from bot.console.errors import ApiError
from bot.console.requests import enum_param, int_param, int_path, json_body, string_field
from bot.crm.enums import StaffRole, TicketStatus
from nlp.pii import redact_text

logger = logging.getLogger(__name__)
MAX_AGENT_MESSAGE_CHARS = 5000
CSAT_INTENT = "give_feedback"


async def list_handoffs(request: web.Request) -> web.Response:
    status = enum_param(request, "status", TicketStatus) or TicketStatus.OPEN
    handoffs = await asyncio.to_thread(request.app[STORE].handoffs.list, status)
    return web.json_response({"handoffs": handoffs})


async def claim_handoff(request: web.Request) -> web.Response:
    handoff = await asyncio.to_thread(
        request.app[STORE].handoffs.claim,
        int_path(request, "handoff_id"),
        staff_of(request).staff_id,
    )
    await request.app[LIVE].publish({"type": "handoff_claimed", "handoff": handoff})
    return web.json_response(handoff)


async def post_message(request: web.Request) -> web.Response:
    staff = staff_of(request)
    payload = await json_body(request)
    text = string_field(payload, "text", MAX_AGENT_MESSAGE_CHARS)
    message = await asyncio.to_thread(
        request.app[STORE].handoffs.record_agent_message,
        int_path(request, "handoff_id"),
        staff.staff_id,
        redact_text(text),
    )
    delivered = await request.app[RASA].deliver_agent_message(
        message["conversation_id"], text, staff.username
    )
    return web.json_response({"message": message, "delivered": delivered}, status=201)


async def resolve_handoff(request: web.Request) -> web.Response:
    payload = await json_body(request)
    resolution = redact_text(string_field(payload, "resolution", MAX_AGENT_MESSAGE_CHARS))
    return_to_bot = payload.get("return_to_bot", True)
    if not isinstance(return_to_bot, bool):
        raise ApiError(400, "invalid_field", "'return_to_bot' must be true or false.")
    handoff = await asyncio.to_thread(
        request.app[STORE].handoffs.resolve,
        int_path(request, "handoff_id"),
        staff_of(request).staff_id,
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
    query = request.query.get("q", "").strip()
    if not query:
        raise ApiError(400, "invalid_parameter", "'q' must be a non-empty text.")
    if len(query) > MAX_AGENT_MESSAGE_CHARS:
        raise ApiError(400, "invalid_parameter", "'q' is too long.")
    k = int_param(request, "k", 5, 1, 50)
    matches = await asyncio.to_thread(request.app[TICKET_SEARCH].query, redact_text(query), k)
    return web.json_response({"tickets": matches})


HANDOFF = "/api/v1/handoffs/{handoff_id}"
ROUTES = (
    Route("GET", "/api/v1/handoffs", list_handoffs, name="list_handoffs", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/claim", claim_handoff, name="claim", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/messages", post_message, name="reply", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/resolve", resolve_handoff, name="resolve", role=StaffRole.AGENT),
    Route(
        "GET",
        "/api/v1/tickets/similar",
        similar_tickets,
        name="similar_tickets",
        role=StaffRole.AGENT,
    ),
)
