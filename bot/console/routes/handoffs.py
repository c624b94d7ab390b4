"""Handoffs: the agents' queue, claiming, replying, resolving, and similar past tickets."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from aiohttp import web

from bot.console.access import Route, staff_of
from bot.console.audit import ANY, Target, record
from bot.console.context import LIVE, STORE, TICKET_SEARCH
from bot.console.delivery import DELIVERIES
from bot.console.errors import ApiError
from bot.console.requests import (
    bool_field,
    enum_param,
    int_param,
    int_path,
    json_body,
    string_field,
    text_param,
)
from bot.crm.enums import AuditAction, DeliveryKind, DeliveryStatus, StaffRole, TicketStatus
from bot.crm.store.records import HandoffView
from nlp.pii import redact_text

logger = logging.getLogger(__name__)
MAX_AGENT_MESSAGE_CHARS = 5000


async def list_handoffs(request: web.Request) -> web.Response:
    status = enum_param(request, "status", TicketStatus) or TicketStatus.OPEN
    handoffs = await asyncio.to_thread(request.app[STORE].handoffs.list, status)
    return web.json_response({"handoffs": handoffs})


async def _audit(
    request: web.Request,
    action: AuditAction,
    handoff: HandoffView,
    detail: dict[str, Any] | None = None,
) -> None:
    await record(
        request,
        action,
        Target.HANDOFF,
        handoff["id"],
        customer_id=handoff["customer_id"],
        detail=detail,
    )


async def claim_handoff(request: web.Request) -> web.Response:
    handoff = await asyncio.to_thread(
        request.app[STORE].handoffs.claim,
        int_path(request, "handoff_id"),
        staff_of(request).id,
    )
    await _audit(request, AuditAction.CLAIM_HANDOFF, handoff)
    await request.app[LIVE].publish({"type": "handoff_claimed", "handoff": handoff})
    return web.json_response(handoff)


async def release_handoff(request: web.Request) -> web.Response:
    """A supervisor puts a handoff held by an absent agent back in the queue."""
    handoff, former = await asyncio.to_thread(
        request.app[STORE].handoffs.release, int_path(request, "handoff_id")
    )
    await _audit(request, AuditAction.RELEASE_HANDOFF, handoff, {"from_staff_id": former})
    await request.app[LIVE].publish({"type": "handoff_released", "handoff": handoff})
    return web.json_response(handoff)


async def reassign_handoff(request: web.Request) -> web.Response:
    """A supervisor gives a live handoff to another agent, who can reply and resolve it."""
    staff_id = (await json_body(request)).get("staff_id")
    if not isinstance(staff_id, int) or isinstance(staff_id, bool) or staff_id < 1:
        raise ApiError(400, "invalid_field", "'staff_id' must be a positive integer.")
    handoff, former = await asyncio.to_thread(
        request.app[STORE].handoffs.reassign, int_path(request, "handoff_id"), staff_id
    )
    detail = {"from_staff_id": former, "to_staff_id": staff_id}
    await _audit(request, AuditAction.REASSIGN_HANDOFF, handoff, detail)
    await request.app[LIVE].publish({"type": "handoff_reassigned", "handoff": handoff})
    return web.json_response(handoff)


async def post_message(request: web.Request) -> web.Response:
    """Store the reply and its delivery together, then try the delivery once, briefly.

    201 when Rasa took it, 202 when it is still pending (Rasa down or slow: the console's
    worker retries it); the message is stored either way, so the agent never resends.
    """
    staff = staff_of(request)
    payload = await json_body(request)
    text = string_field(payload, "text", MAX_AGENT_MESSAGE_CHARS, multiline=True)
    store = request.app[STORE]
    handoff_id = int_path(request, "handoff_id")
    message = await asyncio.to_thread(
        functools.partial(
            store.handoffs.record_agent_message,
            handoff_id,
            staff.id,
            redact_text(text),
            sent_text=text,
            agent=staff.username,
        )
    )
    handoff = await asyncio.to_thread(store.handoffs.get, handoff_id)
    await _audit(request, AuditAction.REPLY_HANDOFF, handoff)
    pending = await asyncio.to_thread(store.deliveries.of_message, message["id"])
    delivery = await request.app[DELIVERIES].attempt_now(pending)
    delivered = delivery["status"] == DeliveryStatus.DELIVERED
    return web.json_response(
        {"message": message, "delivery": delivery, "delivered": delivered},
        status=201 if delivered else 202,
    )


async def resolve_handoff(request: web.Request) -> web.Response:
    """Resolve, then hand the conversation back to the bot when `return_to_bot` (default).

    The resolution and the calls owed to Rasa (resume, then the rating prompt) commit
    together; both are tried at once and retried by the worker if Rasa is down. The
    conversation becomes `bot` only when Rasa confirmed the resume (`bot_resumed`). With
    `return_to_bot: false` the conversation is closed: no resume, no rating prompt.
    """
    payload = await json_body(request)
    text = string_field(payload, "resolution", MAX_AGENT_MESSAGE_CHARS, multiline=True)
    return_to_bot = bool_field(payload, "return_to_bot", True)
    store = request.app[STORE]
    handoff = await asyncio.to_thread(
        store.handoffs.resolve,
        int_path(request, "handoff_id"),
        staff_of(request).id,
        redact_text(text),
        return_to_bot,
    )
    await _audit(request, AuditAction.RESOLVE_HANDOFF, handoff)
    await request.app[LIVE].publish({"type": "handoff_resolved", "handoff": handoff})
    deliveries = []
    for owed in await asyncio.to_thread(store.deliveries.of_ticket, handoff["id"]):
        deliveries.append(await request.app[DELIVERIES].attempt_now(owed))
    bot_resumed = any(
        d["kind"] == DeliveryKind.RESUME and d["status"] == DeliveryStatus.DELIVERED
        for d in deliveries
    )
    try:
        await asyncio.to_thread(request.app[TICKET_SEARCH].add_resolved, handoff)
        indexed = True
    except Exception:
        logger.exception("handoff %s resolved but not indexed (run crm reindex)", handoff["id"])
        indexed = False
    return web.json_response(
        {
            "handoff": handoff,
            "bot_resumed": bot_resumed,
            "deliveries": deliveries,
            "indexed": indexed,
        }
    )


async def similar_tickets(request: web.Request) -> web.Response:
    query = text_param(request, "q", MAX_AGENT_MESSAGE_CHARS)
    if query is None:
        raise ApiError(400, "invalid_parameter", "'q' must be a non-empty text.")
    k = int_param(request, "k", 5, 1, 50)
    matches = await asyncio.to_thread(request.app[TICKET_SEARCH].query, redact_text(query), k)
    await record(
        request,
        AuditAction.SEARCH_TICKETS,
        Target.TICKETS,
        ANY,
        detail={"ticket_ids": [match["ticket_id"] for match in matches]},
    )
    return web.json_response({"tickets": matches})


HANDOFF = "/api/v1/handoffs/{handoff_id}"
ROUTES = (
    Route("GET", "/api/v1/handoffs", list_handoffs, name="list_handoffs", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/claim", claim_handoff, name="claim", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/messages", post_message, name="reply", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/resolve", resolve_handoff, name="resolve", role=StaffRole.AGENT),
    Route("POST", f"{HANDOFF}/release", release_handoff, name="release", role=StaffRole.SUPERVISOR),
    Route(
        "POST",
        f"{HANDOFF}/reassign",
        reassign_handoff,
        name="reassign",
        role=StaffRole.SUPERVISOR,
    ),
    Route(
        "GET",
        "/api/v1/tickets/similar",
        similar_tickets,
        name="similar_tickets",
        role=StaffRole.AGENT,
    ),
)
