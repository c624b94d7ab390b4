"""The agents' websocket of live events (see bot.console.live for what it carries).

A browser opens it with a one-time ticket (POST /api/v1/ws-ticket), never its session token.
The socket lives no longer than its session: it is re-checked every SESSION_RECHECK_S and
closed once the session is logged out, the account deactivated or its role changed.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from bot.console.access import Route, session_of
from bot.console.context import LIVE, STORE
from bot.crm.enums import StaffRole

logger = logging.getLogger(__name__)
HEARTBEAT_S = 30
SESSION_RECHECK_S = 5.0
LIVE_ROLE = StaffRole.AGENT


async def _session_ended(request: web.Request, token: str) -> None:
    """Returns once the session is over or its account may no longer follow the feed."""
    sessions = request.app[STORE].sessions
    while True:
        await asyncio.sleep(SESSION_RECHECK_S)
        try:
            staff = await asyncio.to_thread(sessions.identity, token)
        except Exception:
            logger.exception("could not re-check a live socket's session; retrying")
            continue
        if staff is None or not staff.role.allows(LIVE_ROLE):
            return


async def _read_until_closed(socket: web.WebSocketResponse) -> None:
    async for message in socket:
        if message.type == WSMsgType.ERROR:
            return


async def live_events(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    feed = request.app[LIVE]
    # The feed starts before the handshake ends: whatever happens once the agent sees the
    # socket open comes after the feed's starting point, so it reaches them.
    await feed.follow()
    tasks: set[asyncio.Task[None]] = set()
    try:
        await socket.prepare(request)
        await feed.subscribe(socket)
        reader = asyncio.create_task(_read_until_closed(socket))
        watch = asyncio.create_task(_session_ended(request, session_of(request)))
        tasks = {reader, watch}
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if watch in done:
            await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=b"session ended")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await feed.unsubscribe(socket)
    return socket


ROUTES = (
    Route(
        "GET",
        "/api/v1/ws",
        live_events,
        name="live_events",
        role=LIVE_ROLE,
        ticket_in_query=True,
    ),
)
