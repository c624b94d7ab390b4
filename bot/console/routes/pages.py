"""The console's pages and scripts: the demo bank site with the chat widget (only with
`CRM_DEMO_SITE=1`), the agent console, the supervisors' dashboard, the widget's files, the
browser libraries installed from npm and the CRM's enums as a JavaScript module."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web

from bot.console.access import PUBLIC, Route
from bot.console.context import SETTINGS
from bot.console.errors import error_json
from bot.crm.enums import SHARED_WITH_CONSOLE
from bot.identity import issue_customer_token
from bot.settings import KeyPurpose

CONSOLE = Path(__file__).resolve().parent.parent
WIDGET_SCRIPT = CONSOLE / "static" / "widget.js"
NODE_MODULES = CONSOLE / "widget" / "node_modules"
SOCKET_IO_CLIENT = NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js"
CHART_JS = NODE_MODULES / "chart.js" / "dist" / "chart.umd.min.js"
"""The UMD build: the ES module build imports `@kurkle/color` by bare name, which a browser
cannot resolve without a bundler or an inline import map (which the page policy forbids)."""
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
    settings = request.app[SETTINGS]
    host = urlsplit(f"//{request.host}").hostname or settings.bind
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{settings.rasa_port}"


async def demo_site(request: web.Request) -> web.Response:
    """The demo bank page, signed in as demo customer 1 for every visitor: so it is opt-in.

    Without `CRM_DEMO_SITE=1` the page says how to turn it on and hands out no token.
    """
    settings = request.app[SETTINGS]
    if not settings.demo_site:
        page = aiohttp_jinja2.render_template("demo_off.html", request, {})
    else:
        token_key = settings.key_for(KeyPurpose.CUSTOMER_TOKEN)
        context = {
            "rasa_url": browser_rasa_url(request),
            "customer_token": issue_customer_token(token_key, DEMO_CUSTOMER_ID),
            "customer_id": str(DEMO_CUSTOMER_ID),
            "widget_url": f"{request.scheme}://{request.host}/widget.js",
        }
        page = aiohttp_jinja2.render_template("index.html", request, context)
    page.headers["Cache-Control"] = "no-store"
    return page


def _console_page(request: web.Request, template: str) -> web.Response:
    page = aiohttp_jinja2.render_template(template, request, {})
    page.headers["Content-Security-Policy"] = AGENT_PAGE_POLICY
    page.headers.update(NO_CACHE)
    return page


async def agent_console(request: web.Request) -> web.Response:
    return _console_page(request, "agent.html")


async def supervisor_dashboard(request: web.Request) -> web.Response:
    """The page is public like /agent: its data comes from the API, which checks the role."""
    return _console_page(request, "supervisor.html")


async def widget_script(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WIDGET_SCRIPT, headers=NO_CACHE)


def _vendored(path: Path, what: str) -> web.StreamResponse:
    """A file of a browser library from node_modules (bot/console/widget/package-lock.json)."""
    if not path.is_file():
        return error_json(
            404,
            "not_installed",
            f"{what} is not installed: run `make install` "
            "(or `npm ci --prefix bot/console/widget`).",
        )
    return web.FileResponse(path, headers={"Cache-Control": "max-age=3600"})


async def socket_io_client(request: web.Request) -> web.StreamResponse:
    return _vendored(SOCKET_IO_CLIENT, "The socket.io client")


async def chart_js(request: web.Request) -> web.StreamResponse:
    return _vendored(CHART_JS, "Chart.js")


def _enums_module() -> str:
    """One frozen object per enum, member name to value, so scripts write `TicketStatus.OPEN`."""
    exports = (
        f"export const {enum.__name__} = "
        f"Object.freeze({json.dumps({member.name: member.value for member in enum})});"
        for enum in SHARED_WITH_CONSOLE
    )
    return "// Generated from bot/crm/enums.py by the console.\n" + "\n".join(exports) + "\n"


ENUMS_MODULE = _enums_module()


async def enums_script(request: web.Request) -> web.Response:
    return web.Response(text=ENUMS_MODULE, content_type="application/javascript", headers=NO_CACHE)


# Registered before the static route, which would otherwise answer under /static/ first.
ROUTES = (
    Route("GET", "/", demo_site, name="index", role=PUBLIC),
    Route("GET", "/agent", agent_console, name="agent_console", role=PUBLIC),
    Route("GET", "/supervisor", supervisor_dashboard, name="supervisor_dashboard", role=PUBLIC),
    Route("GET", "/widget.js", widget_script, name="widget_script", role=PUBLIC),
    Route(
        "GET",
        "/static/vendor/socket.io.min.js",
        socket_io_client,
        name="socket_io_client",
        role=PUBLIC,
    ),
    Route("GET", "/static/vendor/chart.umd.min.js", chart_js, name="chart_js", role=PUBLIC),
    Route("GET", "/static/lib/enums.js", enums_script, name="enums_script", role=PUBLIC),
)
