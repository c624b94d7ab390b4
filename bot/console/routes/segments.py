"""Segments and their strategies, for supervisors: what each segment is, and how it is served.

An edit takes effect in the bot within seconds (bot/crm/strategy_cache.py) and from then on the
strategies job leaves that strategy alone.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from analytics.strategy import InvalidStrategy
from bot.console.access import Route, staff_of
from bot.console.audit import Target, record
from bot.console.context import STORE
from bot.console.errors import ApiError
from bot.console.requests import int_path, json_body
from bot.crm.enums import AuditAction, StaffRole


async def list_segments(request: web.Request) -> web.Response:
    segments = await asyncio.to_thread(request.app[STORE].strategies.segments)
    return web.json_response({"segments": segments})


async def get_strategy(request: web.Request) -> web.Response:
    segment_id = int_path(request, "segment_id")
    strategy = await asyncio.to_thread(request.app[STORE].strategies.get, segment_id)
    return web.json_response(strategy)


async def update_strategy(request: web.Request) -> web.Response:
    """Change some of a strategy's fields; each is checked, and the first bad one is a 400."""
    segment_id = int_path(request, "segment_id")
    payload = await json_body(request)
    try:
        before, after = await asyncio.to_thread(
            request.app[STORE].strategies.update, segment_id, payload, staff_of(request).id
        )
    except InvalidStrategy as error:
        raise ApiError(400, "invalid_field", error.message) from None
    await record(
        request,
        AuditAction.UPDATE_STRATEGY,
        Target.SEGMENT,
        segment_id,
        detail={"fields": sorted(payload), "before": before, "after": after},
    )
    return web.json_response(after)


SEGMENTS = "/api/v1/segments"
STRATEGY = f"{SEGMENTS}/{{segment_id}}/strategy"
ROUTES = (
    Route("GET", SEGMENTS, list_segments, name="list_segments", role=StaffRole.SUPERVISOR),
    Route("GET", STRATEGY, get_strategy, name="get_strategy", role=StaffRole.SUPERVISOR),
    Route("PUT", STRATEGY, update_strategy, name="update_strategy", role=StaffRole.SUPERVISOR),
)
