"""The console's aiohttp application: health, staff login and the JSON API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
import yaml
from aiohttp import web

from bot.console import handoffs, pages
from bot.console.auth import StaffIdentity, issue_staff_token
from bot.console.context import (
    HTTP,
    LIVE,
    OPENAPI,
    RASA,
    REPOSITORY,
    SETTINGS,
    TICKET_SEARCH,
    repository_of,
    require,
    settings_of,
)
from bot.console.errors import ApiError, error_middleware
from bot.console.live import LiveFeed
from bot.console.rasa_client import RasaClient
from bot.console.requests import choice_param, int_param, int_path, json_object, string_field
from bot.crm.database import create_crm_engine
from bot.crm.identity import issue_customer_token
from bot.crm.repository import STAFF_ROLES, CRMRepository, InvalidCursor, NotFound
from bot.crm.ticket_search import TicketSearch
from bot.settings import Settings

HERE = Path(__file__).resolve().parent
CONVERSATION_STATUSES = ("bot", "handoff", "closed")
HEALTH_TIMEOUT_S = 3


async def _probe(http: aiohttp.ClientSession, url: str) -> str:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)) as reply:
            return "ok" if reply.status == 200 else f"error: HTTP {reply.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return f"error: {type(error).__name__}"


async def _probe_db(repository: CRMRepository) -> str:
    try:
        await asyncio.to_thread(repository.ping)
    except Exception as error:
        return f"error: {type(error).__name__}"
    return "ok"


async def healthz(request: web.Request) -> web.Response:
    settings = settings_of(request)
    http = request.app[HTTP]
    db, rasa, actions = await asyncio.gather(
        _probe_db(repository_of(request)),
        _probe(http, f"{settings.rasa_url}/"),
        _probe(http, f"{settings.action_url}/health"),
    )
    components = {"db": db, "rasa": rasa, "actions": actions}
    healthy = all(state == "ok" for state in components.values())
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "components": components},
        status=200 if healthy else 503,
    )


async def login(request: web.Request) -> web.Response:
    payload = await json_object(request)
    username = string_field(payload, "username", 80)
    password = string_field(payload, "password", 1000)
    staff = await asyncio.to_thread(repository_of(request).authenticate, username, password)
    if staff is None:
        raise ApiError(401, "invalid_credentials", "Wrong username or password.")
    identity = StaffIdentity(staff.id, staff.username, staff.role)
    token = issue_staff_token(settings_of(request).secret_key, identity)
    return web.json_response(
        {"token": token, "role": staff.role, "username": staff.username, "staff_id": staff.id}
    )


async def list_staff(request: web.Request) -> web.Response:
    require(request, "supervisor")
    staff = await asyncio.to_thread(repository_of(request).list_staff)
    return web.json_response(
        {"staff": [{"id": s.id, "username": s.username, "role": s.role} for s in staff]}
    )


async def create_staff(request: web.Request) -> web.Response:
    require(request, "supervisor")
    payload = await json_object(request)
    username = string_field(payload, "username", 80)
    password = string_field(payload, "password", 1000)
    role = string_field(payload, "role", 20)
    if role not in STAFF_ROLES:
        raise ApiError(400, "invalid_field", f"'role' must be one of {', '.join(STAFF_ROLES)}.")
    if len(password) < 10:
        raise ApiError(400, "weak_password", "'password' must have at least 10 characters.")
    try:
        staff = await asyncio.to_thread(
            repository_of(request).create_staff, username, password, role
        )
    except ValueError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return web.json_response(
        {"id": staff.id, "username": staff.username, "role": staff.role}, status=201
    )


async def list_conversations(request: web.Request) -> web.Response:
    require(request, "agent")
    try:
        items, next_cursor = await asyncio.to_thread(
            repository_of(request).list_conversations,
            customer_id=int_param(request, "customer_id", None, 1, 2**31 - 1),
            status=choice_param(request, "status", CONVERSATION_STATUSES),
            limit=int_param(request, "limit", 50, 1, 200),
            cursor=request.query.get("cursor") or None,
        )
    except InvalidCursor as error:
        raise ApiError(400, "invalid_parameter", str(error)) from None
    return web.json_response({"conversations": items, "next_cursor": next_cursor})


async def get_conversation(request: web.Request) -> web.Response:
    require(request, "agent")
    conversation_id = request.match_info["conversation_id"]
    try:
        conversation = await asyncio.to_thread(
            repository_of(request).get_conversation, conversation_id
        )
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    return web.json_response(conversation)


async def get_customer(request: web.Request) -> web.Response:
    require(request, "agent")
    try:
        profile = await asyncio.to_thread(
            repository_of(request).customer_profile, int_path(request, "customer_id")
        )
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    return web.json_response(profile)


async def create_widget_token(request: web.Request) -> web.Response:
    require(request, "supervisor")
    customer_id = int_path(request, "customer_id")
    if not await asyncio.to_thread(repository_of(request).customer_exists, customer_id):
        raise ApiError(404, "not_found", f"customer {customer_id} not found")
    token = issue_customer_token(settings_of(request).secret_key, customer_id)
    return web.json_response({"token": token, "customer_id": customer_id})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


def load_openapi() -> dict:
    return yaml.safe_load((HERE / "openapi.yaml").read_text())


async def init_app(settings: Settings, repository: CRMRepository | None = None) -> web.Application:
    """Build the console; the repository is created (and disposed) here unless one is given."""
    app = web.Application(middlewares=[error_middleware], client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[OPENAPI] = load_openapi()
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        owned = repository is None
        store = repository or CRMRepository(create_crm_engine(settings.database_url))
        app[REPOSITORY] = store
        app[TICKET_SEARCH] = TicketSearch(store, settings.similar_index_dir, writer=True)
        app[LIVE] = LiveFeed(store)
        await app[LIVE].start()
        follower = asyncio.create_task(app[LIVE].run())
        async with aiohttp.ClientSession() as http:
            app[HTTP] = http
            app[RASA] = RasaClient(http, settings)
            yield
            follower.cancel()
            await app[LIVE].close()
        if owned:
            store.engine.dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/api/v1/openapi.json", openapi, name="openapi")
    app.router.add_post("/api/v1/auth/login", login, name="login")
    app.router.add_get("/api/v1/staff", list_staff, name="list_staff")
    app.router.add_post("/api/v1/staff", create_staff, name="create_staff")
    app.router.add_get("/api/v1/conversations", list_conversations, name="list_conversations")
    app.router.add_get(
        "/api/v1/conversations/{conversation_id}", get_conversation, name="get_conversation"
    )
    app.router.add_get("/api/v1/customers/{customer_id}", get_customer, name="get_customer")
    app.router.add_post(
        "/api/v1/customers/{customer_id}/widget-token",
        create_widget_token,
        name="create_widget_token",
    )
    handoffs.add_routes(app)
    pages.add_routes(app)  # before the static route, which would answer /static/vendor/ first
    app.router.add_static("/static", HERE / "static", name="static")
    return app
