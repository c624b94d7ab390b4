"""What the console says about itself: whether its components answer, and its API document."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from bot.console.access import PUBLIC, Route
from bot.console.context import HTTP, OPENAPI, SETTINGS, STORE
from bot.crm.store import CRMStore

HEALTH_TIMEOUT_S = 3


async def _probe(http: aiohttp.ClientSession, url: str) -> str:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)) as reply:
            return "ok" if reply.status == 200 else f"error: HTTP {reply.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return f"error: {type(error).__name__}"


async def _probe_db(store: CRMStore) -> str:
    try:
        await asyncio.to_thread(store.ping)
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    http = request.app[HTTP]
    db, rasa, actions = await asyncio.gather(
        _probe_db(request.app[STORE]),
        _probe(http, f"{settings.rasa_url}/"),
        _probe(http, f"{settings.action_url}/health"),
    )
    components = {"db": db, "rasa": rasa, "actions": actions}
    healthy = all(state == "ok" for state in components.values())
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "components": components},
        status=200 if healthy else 503,
    )


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


ROUTES = (
    Route("GET", "/healthz", healthz, name="healthz", role=PUBLIC),
    Route("GET", "/api/v1/openapi.json", openapi, name="openapi", role=PUBLIC),
)
