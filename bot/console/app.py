"""The console's aiohttp application factory: settings, resources, routes and static files."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console.access import add_routes
from bot.console.context import OPENAPI, SETTINGS
from bot.console.delivery import delivery_worker
from bot.console.errors import error_middleware
from bot.console.headers import security_headers
from bot.console.openapi import load_openapi
from bot.console.resources import add_resources
from bot.console.routes import ROUTES
from bot.crm.store import CRMStore
from bot.settings import Settings

HERE = Path(__file__).resolve().parent
MAX_REQUEST_BYTES = 64 * 1024


async def init_app(settings: Settings, store: CRMStore | None = None) -> web.Application:
    """Build the console; the store is created (and disposed) here unless one is given."""
    app = web.Application(
        # Outermost first: the headers go on errors too.
        middlewares=[security_headers, error_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[SETTINGS] = settings
    app[OPENAPI] = load_openapi()
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    add_resources(app, store)
    app.cleanup_ctx.append(delivery_worker)
    add_routes(app, ROUTES)
    app.router.add_static("/static", HERE / "static", name="static")
    return app
