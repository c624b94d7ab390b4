"""What the console says about itself: whether its components answer, and its API document."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from bot.console.access import PUBLIC, Route
from bot.console.context import HTTP, OPENAPI, SETTINGS, STORE
from bot.crm.store import CRMStore
from bot.outbox.status import outbox_status
from bot.settings import Settings

HEALTH_TIMEOUT_S = 3
OUTBOX_MAX_AGE_S = 30
"""An entry waiting longer than this means the CRM store (or RabbitMQ) has stopped taking
the turns' writes: customers still get answers, but staff no longer see them."""


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


async def _probe_outbox(settings: Settings) -> tuple[str, dict[str, object]]:
    """The outboxes' state, and "error: ..." when their oldest entry is too old, some entries
    could not be applied at all, or the RabbitMQ queue they feed does not answer."""
    try:
        details = await asyncio.wait_for(
            asyncio.to_thread(outbox_status, settings), HEALTH_TIMEOUT_S * 3
        )
    except Exception as error:
        return f"error: {type(error).__name__}", {}
    age, dead = details["oldest_age_s"], details["dead"]
    problems = []
    if age is not None and age > OUTBOX_MAX_AGE_S:
        problems.append(f"{details['backlog']} waiting, oldest {age:.0f} s")
    if dead:
        problems.append(f"{dead} dead")
    if "queue" in details and details["queue"] is None:
        problems.append("RabbitMQ does not answer")
    return (f"error: {'; '.join(problems)}" if problems else "ok"), details


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    http = request.app[HTTP]
    db, rasa, actions, (outbox, outbox_details) = await asyncio.gather(
        _probe_db(request.app[STORE]),
        _probe(http, f"{settings.rasa_url}/"),
        _probe(http, f"{settings.action_url}/health"),
        _probe_outbox(settings),
    )
    components = {"db": db, "rasa": rasa, "actions": actions, "outbox": outbox}
    healthy = all(state == "ok" for state in components.values())
    return web.json_response(
        {
            "status": "ok" if healthy else "unavailable",
            "components": components,
            "outbox": outbox_details,
        },
        status=200 if healthy else 503,
    )


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


ROUTES = (
    Route("GET", "/healthz", healthz, name="healthz", role=PUBLIC),
    Route("GET", "/api/v1/openapi.json", openapi, name="openapi", role=PUBLIC),
)
