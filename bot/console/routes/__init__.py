"""The console's routes by area; each module declares its routes, with their roles, in ROUTES.

A new area (a page or an API) is a module here and one entry in ROUTES below.
"""

from __future__ import annotations

from bot.console.access import Route
from bot.console.routes import (
    analytics,
    audit,
    auth,
    conversations,
    customers,
    handoffs,
    health,
    jobs,
    live,
    nlu_inbox,
    pages,
    quality,
    segments,
    staff,
)

ROUTES: tuple[Route, ...] = (
    *health.ROUTES,
    *auth.ROUTES,
    *staff.ROUTES,
    *conversations.ROUTES,
    *customers.ROUTES,
    *handoffs.ROUTES,
    *live.ROUTES,
    *audit.ROUTES,
    *jobs.ROUTES,
    *segments.ROUTES,
    *analytics.ROUTES,
    *quality.ROUTES,
    *nlu_inbox.ROUTES,
    *pages.ROUTES,
)
