"""The agents' websocket of live events (see bot.console.live for what it carries)."""

from __future__ import annotations

from aiohttp import WSMsgType, web

from bot.console.access import Route
from bot.console.context import LIVE
from bot.crm.enums import StaffRole

HEARTBEAT_S = 30


async def live_events(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    feed = request.app[LIVE]
    # The feed starts before the handshake ends: whatever happens once the agent sees the
    # socket open comes after the feed's starting point, so it reaches them.
    await feed.follow()
    try:
        await socket.prepare(request)
        await feed.subscribe(socket)
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        await feed.unsubscribe(socket)
    return socket


ROUTES = (
    Route(
        "GET",
        "/api/v1/ws",
        live_events,
        name="live_events",
        role=StaffRole.AGENT,
        token_in_query=True,
    ),
)
