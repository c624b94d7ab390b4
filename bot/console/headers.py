"""Security headers on every console response, pages, files, API answers and errors alike.

A page that sets its own Content-Security-Policy keeps it (the agent console's is in
routes/pages.py); other HTML at least cannot be framed, and everything else (JSON, scripts,
styles) may load nothing and be framed by nobody. API answers are never cached: they carry
customer data and session tokens.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.access import Handler

NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
"""For HTML that brings no policy of its own."""
API_PREFIX = "/api/"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if response.prepared:
        return response  # a websocket: its handshake went out with the upgrade
    headers = response.headers
    html = response.content_type == "text/html"
    headers.setdefault("Content-Security-Policy", PAGE_POLICY if html else NOTHING_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers["Referrer-Policy"] = "no-referrer"
    if html:
        headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(API_PREFIX):
        headers["Cache-Control"] = "no-store"
    return response
