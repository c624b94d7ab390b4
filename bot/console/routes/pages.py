"""The console's pages: the demo bank site with the chat widget, the agent console, widget files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from bot.console.context import settings_of
from bot.console.errors import error_json
from bot.crm.identity import issue_customer_token

HERE = Path(__file__).resolve().parent
WIDGET_SCRIPT = HERE / "static" / "widget.js"
SOCKET_IO_CLIENT = (
    HERE / "widget" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
)
DEMO_CUSTOMER_ID = 1
# The console's own pages load only their own files; the API and live feed are same-origin.
AGENT_PAGE_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def browser_rasa_url(request: web.Request) -> str:
    """Rasa as the visitor's browser reaches it: the page's host name, Rasa's port.

    The settings' URL names the bind address, which is wrong for a browser when the stack
    listens on 0.0.0.0 or is reached through another name. (`request.url` is not used: with
    the pinned aiohttp and yarl it raises on a Host header that carries a port.)
    """
    host = urlsplit(f"//{request.host}").hostname or settings_of(request).bind
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{settings_of(request).rasa_port}"


@aiohttp_jinja2.template("index.html")
async def demo_site(request: web.Request) -> dict[str, str]:
    settings = settings_of(request)
    return {
        "rasa_url": browser_rasa_url(request),
        "customer_token": issue_customer_token(settings.secret_key, DEMO_CUSTOMER_ID),
        "customer_id": str(DEMO_CUSTOMER_ID),
        "widget_url": f"{request.scheme}://{request.host}/widget.js",
    }


async def agent_console(request: web.Request) -> web.Response:
    page = aiohttp_jinja2.render_template("agent.html", request, {})
    page.headers["Content-Security-Policy"] = AGENT_PAGE_POLICY
    page.headers.update(NO_CACHE)
    return page


async def widget_script(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WIDGET_SCRIPT, headers=NO_CACHE)


async def socket_io_client(request: web.Request) -> web.StreamResponse:
    if not SOCKET_IO_CLIENT.is_file():
        return error_json(
            404,
            "not_installed",
            "The socket.io client is not installed: run `make install` "
            "(or `npm ci --prefix bot/console/widget`).",
        )
    return web.FileResponse(SOCKET_IO_CLIENT, headers={"Cache-Control": "max-age=3600"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", demo_site, name="index")
    app.router.add_get("/agent", agent_console, name="agent_console")
    app.router.add_get("/widget.js", widget_script, name="widget_script")
    app.router.add_get("/static/vendor/socket.io.min.js", socket_io_client, name="socket_io_client")
