"""Typed application state of the console and the helpers every route module uses."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bot.console.auth import StaffIdentity, require_role
from bot.console.live import LiveFeed
from bot.console.rasa_client import RasaClient
from bot.crm.repository import CRMRepository
from bot.crm.ticket_search import TicketSearch
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REPOSITORY = web.AppKey("repository", CRMRepository)
HTTP = web.AppKey("http", aiohttp.ClientSession)
OPENAPI = web.AppKey("openapi", dict)
RASA = web.AppKey("rasa", RasaClient)
LIVE = web.AppKey("live", LiveFeed)
TICKET_SEARCH = web.AppKey("ticket_search", TicketSearch)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def repository_of(request: web.Request) -> CRMRepository:
    return request.app[REPOSITORY]


def require(request: web.Request, role: str) -> StaffIdentity:
    return require_role(request, settings_of(request).secret_key, role)
